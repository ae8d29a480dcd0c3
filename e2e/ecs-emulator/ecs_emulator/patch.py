"""Installs the emulator into moto: the backend class, the response handlers, the clock."""

from __future__ import annotations

from moto.ecs import models

from . import autoscaling, responses, scheduler, state
from .backend import EmulatedEcsBackend


def install(speed: float) -> state.Emulator:
    """Makes moto's ECS the emulator's, for this process. Call before moto answers anything."""
    if state.EMULATOR is None:
        state.EMULATOR = state.Emulator(speed)
        # moto builds one backend per account and region from this class, lazily.
        models.ecs_backends.backend = EmulatedEcsBackend
        responses.install()
        scheduler.install()
        autoscaling.install()
        state.EMULATOR.sim.start()
    return state.EMULATOR
