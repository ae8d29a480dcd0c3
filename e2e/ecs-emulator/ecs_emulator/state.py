"""The emulator's own state beside moto's: the clock, and failures imposed through the admin API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import Simulation
from .tasks import Failure, Script, script_of

#: The hookStatus values a Lambda hook returns (developer guide, "Lambda hooks").
HOOK_OUTCOMES = ("SUCCEEDED", "FAILED", "IN_PROGRESS")

if TYPE_CHECKING:
    from moto.ecs.models import TaskDefinition


class Emulator:
    """One per process; moto's backends reach it as `backend.emulator`."""

    def __init__(self, speed: float) -> None:
        self.sim = Simulation(speed)
        #: Failures imposed on every task of a family (`POST /_emulator/task-failures`).
        self.family_failures: dict[str, Failure] = {}
        #: What AWS_LAMBDA lifecycle hooks answer, by function ARN (None: every function);
        #: `POST /_emulator/lifecycle-hooks`. SUCCEEDED when nothing is set.
        self.hook_outcomes: dict[str | None, str] = {}
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

    def set_hook_outcome(self, body: dict[str, Any]) -> None:
        """`{"hookTargetArn": ARN, "outcome": "SUCCEEDED" | "FAILED" | "IN_PROGRESS"}`: the
        hookStatus a Lambda hook's function returns ("SUCCEEDED, FAILED, or IN_PROGRESS",
        developer guide, "Lambda hooks"); without hookTargetArn, every function's."""
        outcome = body.get("outcome")
        if outcome not in HOOK_OUTCOMES:
            raise ValueError(f"outcome is one of {', '.join(HOOK_OUTCOMES)}")
        target = body.get("hookTargetArn")
        if target is not None and (not isinstance(target, str) or not target):
            raise ValueError("hookTargetArn is a non-empty string")
        self.hook_outcomes[target] = outcome

    def hook_outcome(self, target_arn: str | None) -> str:
        return self.hook_outcomes.get(target_arn) or self.hook_outcomes.get(None) or "SUCCEEDED"

    def describe_hook_outcomes(self) -> dict[str, str]:
        return {target or "*": outcome for target, outcome in self.hook_outcomes.items()}

    def reset(self) -> None:
        """Forgets everything scheduled (moto's own state is reset by moto)."""
        self.sim.clear()
        self.family_failures.clear()
        self.hook_outcomes.clear()
        self.update_failures.clear()


#: The process's emulator, set by `patch.install`.
EMULATOR: Emulator | None = None


def emulator() -> Emulator:
    if EMULATOR is None:
        raise RuntimeError("ecs_emulator.patch.install() has not run")
    return EMULATOR
