"""The emulator's own state beside moto's: the clock, and failures imposed through the admin API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import Simulation
from .tasks import Failure, Script, script_of

if TYPE_CHECKING:
    from moto.ecs.models import TaskDefinition


class Emulator:
    """One per process; moto's backends reach it as `backend.emulator`."""

    def __init__(self, speed: float) -> None:
        self.sim = Simulation(speed)
        #: Failures imposed on every task of a family (`POST /_emulator/task-failures`).
        self.family_failures: dict[str, Failure] = {}
        #: Capacity providers whose updates end UPDATE_FAILED, with the reason
        #: (`POST /_emulator/capacity-provider-failures`).
        self.update_failures: dict[str, str] = {}

    def script_for(self, definition: TaskDefinition, overrides: dict[str, Any]) -> Script:
        """What the containers of a new task of `definition` will do."""
        return script_of(definition.container_definitions, overrides, self.family_failures.get(definition.family))

    def fail_family(self, body: dict[str, Any]) -> None:
        family = body.get("family")
        if not family:
            raise ValueError("family is required")
        self.family_failures[str(family)] = Failure.parse(body)

    def describe_family_failures(self) -> dict[str, Any]:
        return {
            family: {"mode": f.mode, "exitCode": f.exit_code, "runSeconds": f.run_seconds}
            for family, f in self.family_failures.items()
        }

    def reset(self) -> None:
        """Forgets everything scheduled (moto's own state is reset by moto)."""
        self.sim.clear()
        self.family_failures.clear()
        self.update_failures.clear()


#: The process's emulator, set by `patch.install`.
EMULATOR: Emulator | None = None


def emulator() -> Emulator:
    if EMULATOR is None:
        raise RuntimeError("ecs_emulator.patch.install() has not run")
    return EMULATOR
