"""Simulated time: ECS's durations run `speed` times faster, timestamps stay wall-clock.

Every ECS duration the emulator simulates (a task's image pull, a deregistration delay, how long
an INACTIVE service stays describable) is written in ECS seconds, as the documentation gives it,
and is scheduled `seconds / speed` wall seconds ahead. Timestamps in answers are the wall clock,
so they compare sensibly with the client's own clock.

Changing the speed applies to what is scheduled from then on; actions already scheduled keep
their time. All emulator state is guarded by one re-entrant lock, `Simulation.lock`: the gateway holds it
while moto answers an ECS request, and the ticker thread holds it while it runs what is due.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Timer:
    """A scheduled action; `cancel()` keeps it from running."""

    def __init__(self, due: _Due) -> None:
        self._due = due

    def cancel(self) -> None:
        self._due.cancelled = True


#: The speeds the emulator accepts: beyond 1000x, six hours of ECS time pass in 20 s and
#: periodic actions (the steady-state message) would run back to back.
SPEEDS = (0.01, 1000.0)


def checked_speed(speed: float) -> float:
    """`speed` if it is a number within SPEEDS (NaN and infinity are not)."""
    if not (isinstance(speed, (int, float)) and math.isfinite(speed) and SPEEDS[0] <= speed <= SPEEDS[1]):
        raise ValueError(f"speed must be a number from {SPEEDS[0]} to {SPEEDS[1]}")
    return float(speed)


class Simulation:
    """The emulator's clock and its queue of due actions."""

    #: How often the ticker looks for due actions (wall seconds).
    TICK = 0.02

    def __init__(self, speed: float = 1.0) -> None:
        self.lock = threading.RLock()
        self._speed = checked_speed(speed)
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, speed: float) -> None:
        self._speed = checked_speed(speed)

    @staticmethod
    def now() -> datetime:
        """The wall clock, as ECS's timestamps carry it."""
        return datetime.now(timezone.utc)

    def wall(self, ecs_seconds: float) -> float:
        """How many wall seconds `ecs_seconds` of ECS time take at the current speed."""
        return ecs_seconds / self._speed

    def after(self, ecs_seconds: float, action: Callable[[], None]) -> Timer:
        """Runs `action` (under the lock) once `ecs_seconds` of ECS time have passed."""
        return self.after_wall(self.wall(max(ecs_seconds, 0.0)), action)

    def after_wall(self, seconds: float, action: Callable[[], None]) -> Timer:
        """Runs `action` (under the lock) `seconds` wall seconds from now."""
        due = _Due(time.monotonic() + max(seconds, 0.0), next(self._seq), action)
        with self.lock:
            heapq.heappush(self._queue, due)
        return Timer(due)

    def run_due(self) -> None:
        """Runs every action whose time has come, in order. Actions may schedule more; one that
        fails is logged and the clock goes on (a dead clock would freeze every service)."""
        with self.lock:
            while self._queue and self._queue[0].at <= time.monotonic():
                due = heapq.heappop(self._queue)
                if not due.cancelled:
                    try:
                        due.action()
                    except Exception:  # noqa: BLE001 - any bug in one action must not stop time
                        logging.getLogger("ecs_emulator").exception("a scheduled action failed")

    def clear(self) -> None:
        """Forgets every scheduled action (a reset of the emulator)."""
        with self.lock:
            self._queue.clear()

    def start(self) -> None:
        """Starts the ticker thread that runs due actions."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._tick, name="ecs-emulator-clock", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _tick(self) -> None:
        while not self._stop.wait(self.TICK):
            self.run_due()
