"""Blue/green, linear and canary deployments: what CreateService and UpdateService refuse, and
the lifecycle stages a deployment walks through with its lifecycle hooks.

Sources (FACTS.md section 10): the API reference for DeploymentConfiguration,
DeploymentLifecycleHook, DeploymentLifecycleHookDetail, LinearConfiguration, CanaryConfiguration,
ServiceDeployment.lifecycleStage and ContinueServiceDeployment; the developer guide pages
"Amazon ECS blue/green deployments", "Lifecycle hooks for Amazon ECS service deployments",
"Lambda hooks", "Pause hooks", "Amazon ECS linear deployments" and "Amazon ECS canary
deployments".

A deployment under a strategy other than ROLLING gets a `Rollout`: it starts the green tasks at
full count at SCALE_UP while the blue ones keep running, shifts traffic (shown as each revision's
requestedProductionTrafficWeight and requestedTestTrafficWeight), runs the hooks configured for
each stage, waits the bake times (ECS minutes, scaled by the clock) and stops the blue tasks at
CLEAN_UP. The service's rolling scheduler asks the rollout what it may launch and stop.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from moto.ecs.exceptions import InvalidParameterException

from . import events
from .clock import Timer

if TYPE_CHECKING:
    from .services import Deployment, EmulatedService

STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
#: DeploymentLifecycleHook.lifecycleStages (API reference).
HOOK_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)
#: "PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT stages"
#: (DeploymentLifecycleHook.lifecycleStages).
NO_PAUSE_STAGES = ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
#: At most this many hooks of each target type per service (emulator's rule, unverified).
MAX_HOOKS_PER_TYPE = 10
#: LinearConfiguration and CanaryConfiguration defaults (API reference).
LINEAR_STEP_PERCENT, LINEAR_STEP_BAKE_MINUTES = 10.0, 6
CANARY_PERCENT, CANARY_BAKE_MINUTES = 5.0, 10
#: DeploymentLifecycleHookTimeoutConfiguration defaults: "Default: 1440 (24 hours)", "Default: ROLLBACK".
HOOK_TIMEOUT_MINUTES, HOOK_TIMEOUT_ACTION = 1440, "ROLLBACK"
#: How long a Lambda hook takes to answer (ECS seconds; the emulator's choice).
LAMBDA_ANSWER_SECONDS = 5.0
#: A Lambda that answers IN_PROGRESS is invoked again "after a delay. By default, the delay is
#: 30 seconds" (Lambda hooks for Amazon ECS service deployments).
LAMBDA_CALLBACK_SECONDS = 30.0
#: The event ECS writes when a hook fails the deployment (aws/containers-roadmap#2664:
#: "deployment failed: hook execution failure(s) detected").
HOOK_FAILURE = "hook execution failure(s) detected"


# --- what CreateService and UpdateService refuse ---------------------------------------------------


def _refuse(message: str) -> None:
    raise InvalidParameterException(message)


def _minutes(value: Any, name: str, low: int = 0, high: int = 1440) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
        _refuse(f"{name} must be between {low} and {high}.")


def _percent(value: Any, name: str, low: float) -> None:
    """"Valid values are multiples of 0.1 from <low> to 100.0" (Linear/CanaryConfiguration)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= 100.0 or abs(value * 10 - round(value * 10)) > 1e-6:
        _refuse(f"{name} must be a multiple of 0.1 between {low} and 100.0.")


def validate(config: dict[str, Any], controller: dict[str, Any] | None, load_balancers: list[dict[str, Any]] | None) -> None:
    """Refuses a deploymentConfiguration ECS refuses (InvalidParameterException). The messages
    are the emulator's: ECS's own words for these refusals were not found (FACTS.md 10)."""
    strategy = config.get("strategy") or "ROLLING"
    if strategy not in STRATEGIES:
        _refuse(f"Invalid deployment strategy {strategy}. Valid values are {', '.join(STRATEGIES)}.")
    _minutes(config.get("bakeTimeInMinutes"), "bakeTimeInMinutes")
    linear = config.get("linearConfiguration") or {}
    _percent(linear.get("stepPercent"), "linearConfiguration.stepPercent", 3.0)
    _minutes(linear.get("stepBakeTimeInMinutes"), "linearConfiguration.stepBakeTimeInMinutes")
    canary = config.get("canaryConfiguration") or {}
    _percent(canary.get("canaryPercent"), "canaryConfiguration.canaryPercent", 0.1)
    _minutes(canary.get("canaryBakeTimeInMinutes"), "canaryConfiguration.canaryBakeTimeInMinutes")
    if linear and strategy != "LINEAR":
        _refuse("linearConfiguration is only valid with the LINEAR deployment strategy.")
    if canary and strategy != "CANARY":
        _refuse("canaryConfiguration is only valid with the CANARY deployment strategy.")
    hooks = config.get("lifecycleHooks") or []
    for hook in hooks:
        _validate_hook(hook)
    for kind in ("AWS_LAMBDA", "PAUSE"):
        if sum(1 for h in hooks if (h.get("targetType") or "AWS_LAMBDA") == kind) > MAX_HOOKS_PER_TYPE:
            _refuse(f"A service can have at most {MAX_HOOKS_PER_TYPE} {kind} lifecycle hooks.")
    if strategy == "ROLLING":
        return
    if (controller or {}).get("type", "ECS") != "ECS":
        # LinearConfiguration/CanaryConfiguration: "only valid when you run CreateService or
        # UpdateService with deploymentController set to ECS".
        _refuse(f"The {strategy} deployment strategy is only supported with the ECS deployment controller.")
    breaker = config.get("deploymentCircuitBreaker") or {}
    if breaker.get("enable") and strategy != "BLUE_GREEN":
        # "Both methods [circuit breaker, alarms] only support rolling update deployment and
        # blue/green deployment types" (developer guide, "deployment failure detection").
        _refuse(f"The deployment circuit breaker is not supported with the {strategy} deployment strategy.")
    for balancer in load_balancers or []:
        if not (balancer.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"):
            # "For blue/green deployments with Elastic Load Balancing, you need to create two
            # target groups" (Application Load Balancer resources for blue/green, linear, and
            # canary deployments); CloudFormation's AdvancedConfiguration requires only
            # alternateTargetGroupArn ("the properties below are optional").
            _refuse(
                f"The {strategy} deployment strategy needs advancedConfiguration with an alternateTargetGroupArn for "
                "each load balancer."
            )


def _validate_hook(hook: dict[str, Any]) -> None:
    kind = hook.get("targetType") or "AWS_LAMBDA"
    stages = hook.get("lifecycleStages") or []
    if kind not in ("AWS_LAMBDA", "PAUSE"):
        _refuse(f"Invalid lifecycle hook targetType {kind}. Valid values are AWS_LAMBDA, PAUSE.")
    if not stages:
        _refuse("lifecycleStages must be provided for a deployment lifecycle hook.")
    for stage in stages:
        if stage not in HOOK_STAGES:
            _refuse(f"Invalid lifecycle stage {stage}.")
        if kind == "PAUSE" and stage in NO_PAUSE_STAGES:
            _refuse(f"PAUSE hooks cannot be configured at the {stage} stage.")
    if kind == "AWS_LAMBDA" and not (hook.get("hookTargetArn") and hook.get("roleArn")):
        # "You must provide this parameter when configuring an AWS_LAMBDA lifecycle hook"
        # (hookTargetArn); roleArn grants ECS the right to call the function.
        _refuse("An AWS_LAMBDA lifecycle hook needs a hookTargetArn and a roleArn.")
    timeout = hook.get("timeoutConfiguration") or {}
    _minutes(timeout.get("timeoutInMinutes"), "timeoutConfiguration.timeoutInMinutes", 1, 20160)
    if timeout.get("action") not in (None, "CONTINUE", "ROLLBACK"):
        _refuse("timeoutConfiguration.action must be CONTINUE or ROLLBACK.")


def traffic_steps(config: dict[str, Any]) -> list[float]:
    """The production traffic weights of the green revision, one per shift: BLUE_GREEN all at
    once; LINEAR in stepPercent increments to 100; CANARY canaryPercent, then the rest."""
    strategy = config.get("strategy")
    if strategy == "LINEAR":
        step = float((config.get("linearConfiguration") or {}).get("stepPercent") or LINEAR_STEP_PERCENT)
        weights, weight = [], 0.0
        while weight < 100.0 - 1e-9:
            weight = min(100.0, round(weight + step, 1))
            weights.append(weight)
        return weights
    if strategy == "CANARY":
        percent = float((config.get("canaryConfiguration") or {}).get("canaryPercent") or CANARY_PERCENT)
        return [percent, 100.0] if percent < 100.0 else [100.0]
    return [100.0]


def step_bake_seconds(config: dict[str, Any]) -> float:
    """The wait between two production traffic shifts (not after the last: "This bake time is not
    applied after reaching 100 percent traffic", LinearConfiguration)."""
    if config.get("strategy") == "LINEAR":
        minutes = (config.get("linearConfiguration") or {}).get("stepBakeTimeInMinutes")
        return 60.0 * (LINEAR_STEP_BAKE_MINUTES if minutes is None else minutes)
    minutes = (config.get("canaryConfiguration") or {}).get("canaryBakeTimeInMinutes")
    return 60.0 * (CANARY_BAKE_MINUTES if minutes is None else minutes)


def hook_id(kind: str, *parts: object) -> str:
    """A hook execution's id: ECS's pause hooks look like
    `ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw` (developer guide, "Pause hooks"): 43
    base64url characters, the length of a SHA-256 digest. Derived from the deployment, hook,
    stage and step, so it is stable and unique. The `ecs-lambda-` prefix is unverified."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    prefix = "ecs-pause-" if kind == "PAUSE" else "ecs-lambda-"
    return prefix + base64.urlsafe_b64encode(digest).decode().rstrip("=")


# --- a deployment's walk through the lifecycle stages ---------------------------------------------


@dataclass
class HookRun:
    """One execution of a lifecycle hook: a DeploymentLifecycleHookDetail."""

    hook_id: str
    target_type: str
    target_arn: str | None
    stage: str
    status: str
    expires_at: datetime
    timeout_action: str
    timers: list[Timer]

    def shape(self) -> dict[str, Any]:
        shape = {
            "hookId": self.hook_id,
            "targetType": self.target_type,
            "targetArn": self.target_arn,
            "status": self.status,
            "expiresAt": self.expires_at,
            "timeoutAction": self.timeout_action,
        }
        return {k: v for k, v in shape.items() if v is not None}

    def settle(self, status: str) -> None:
        self.status = status
        for timer in self.timers:
            timer.cancel()


class Rollout:
    """The lifecycle stages of one BLUE_GREEN, LINEAR or CANARY deployment (ServiceDeployment.
    lifecycleStage, in the API reference's order). `blue` are the service's other live
    deployments when it starts; RECONCILE_SERVICE runs only "when you start a new service
    deployment with more than 1 service revision in an ACTIVE state"."""

    def __init__(self, service: EmulatedService, green: Deployment, blue: list[Deployment]) -> None:
        self.service = service
        self.green = green
        self.blue = blue
        self.config = dict(service.config["deploymentConfiguration"])
        self.stage: str | None = None
        self.hooks: list[HookRun] = []
        #: From SCALE_UP on the green tasks start; from CLEAN_UP on the blue ones stop.
        self.launching = False
        self.cleaning = False
        self.over = False
        self._plan = self._planned(reconcile=len(blue) > 1)
        self._waiting: str | None = None  # "hooks", "scale" or "time"
        self._timer: Timer | None = None
        green.production_weight, green.test_weight = 0.0, 0.0
        main = max(blue, key=lambda d: d.production_weight or 0.0) if blue else None
        for deployment in blue:
            deployment.production_weight = 100.0 if deployment is main else 0.0
            deployment.test_weight = 100.0 if deployment is main else 0.0
        self._main_blue = main

    def _planned(self, reconcile: bool) -> list[tuple[str, Any]]:
        plan: list[tuple[str, Any]] = []
        if reconcile:
            plan += [("stage", "RECONCILE_SERVICE"), ("hooks", "RECONCILE_SERVICE")]
        plan += [
            ("stage", "PRE_SCALE_UP"), ("hooks", "PRE_SCALE_UP"),
            ("stage", "SCALE_UP"), ("scale", None),
            ("stage", "POST_SCALE_UP"), ("hooks", "POST_SCALE_UP"),
            ("stage", "TEST_TRAFFIC_SHIFT"), ("test", 100.0), ("hooks", "TEST_TRAFFIC_SHIFT"),
            ("stage", "POST_TEST_TRAFFIC_SHIFT"), ("hooks", "POST_TEST_TRAFFIC_SHIFT"),
        ]  # fmt: skip
        steps = traffic_steps(self.config)
        for index, weight in enumerate(steps):
            # PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT hooks run "before every
            # traffic shift step" and "at every traffic shift step" for linear and canary.
            plan += [("stage", "PRODUCTION_TRAFFIC_SHIFT"), ("hooks", ("PRE_PRODUCTION_TRAFFIC_SHIFT", index)),
                     ("shift", weight), ("hooks", ("PRODUCTION_TRAFFIC_SHIFT", index))]  # fmt: skip
            if index < len(steps) - 1:
                plan.append(("wait", step_bake_seconds(self.config)))
        plan += [
            ("stage", "POST_PRODUCTION_TRAFFIC_SHIFT"), ("hooks", "POST_PRODUCTION_TRAFFIC_SHIFT"),
            ("stage", "BAKE_TIME"), ("wait", 60.0 * (self.config.get("bakeTimeInMinutes") or 0)),
            ("stage", "CLEAN_UP"), ("clean", None),
        ]  # fmt: skip
        return plan

    # --- progress ------------------------------------------------------------------------------

    def start(self) -> None:
        self._next()

    def _next(self) -> None:
        """Runs the plan until something has to be waited for."""
        self._waiting = None
        while self._plan and not self.over:
            step, arg = self._plan.pop(0)
            if step == "stage":
                self.stage = arg
            elif step == "hooks":
                stage, index = arg if isinstance(arg, tuple) else (arg, 0)
                if self._run_hooks(stage, index):
                    self._waiting = "hooks"
                    return
            elif step == "scale":
                self.launching = True
                self._waiting = "scale"
                self.service.kick()
                return
            elif step == "test":
                self._shift(test=arg)
            elif step == "shift":
                self._shift(production=arg)
            elif step == "wait":
                if arg > 0:
                    self._waiting = "time"
                    self._timer = self.service._sim.after(arg, self._next)
                    return
            elif step == "clean":
                self.cleaning = True
                self.service.kick()

    def _shift(self, production: float | None = None, test: float | None = None) -> None:
        green, blue = self.green, self._main_blue
        if production is not None:
            green.production_weight = production
            if blue is not None:
                blue.production_weight = round(100.0 - production, 1)
        if test is not None:
            green.test_weight = test
            if blue is not None:
                blue.test_weight = round(100.0 - test, 1)
        for other in self.blue:
            if other is not blue:
                other.production_weight = other.test_weight = 0.0

    def scaled(self, running: int, desired: int, healthy: bool) -> None:
        """Each scheduler pass: SCALE_UP is over once the green tasks all run, healthy."""
        if self._waiting == "scale" and running >= desired and healthy:
            self._next()

    # --- hooks ---------------------------------------------------------------------------------

    def _run_hooks(self, stage: str, index: int) -> bool:
        """Starts the hooks configured for `stage`; True when there are any to wait for ("Both
        hooks must complete before the deployment moves to the next stage")."""
        sim = self.service._sim
        started = False
        for number, hook in enumerate(self.config.get("lifecycleHooks") or []):
            if stage not in (hook.get("lifecycleStages") or []):
                continue
            kind = hook.get("targetType") or "AWS_LAMBDA"
            timeout = hook.get("timeoutConfiguration") or {}
            minutes = timeout.get("timeoutInMinutes") or HOOK_TIMEOUT_MINUTES
            run = HookRun(
                hook_id=hook_id(kind, self.green.arn, number, stage, index),
                target_type=kind,
                target_arn=hook.get("hookTargetArn") if kind == "AWS_LAMBDA" else None,
                stage=stage,
                status="AWAITING_ACTION" if kind == "PAUSE" else "IN_PROGRESS",
                expires_at=sim.now() + timedelta(seconds=sim.wall(60.0 * minutes)),
                timeout_action=timeout.get("action") or HOOK_TIMEOUT_ACTION,
                timers=[],
            )
            run.timers.append(sim.after(60.0 * minutes, lambda run=run: self._timed_out(run)))
            if kind == "AWS_LAMBDA":
                run.timers.append(sim.after(LAMBDA_ANSWER_SECONDS, lambda run=run: self._invoke(run)))
            self.hooks.append(run)
            started = True
        return started

    def _invoke(self, run: HookRun) -> None:
        """The Lambda function answers with the outcome set through the admin API (SUCCEEDED
        unless told otherwise); IN_PROGRESS is asked again after the callback delay."""
        if run.status != "IN_PROGRESS" or self.over:
            return
        outcome = self.service._backend.emulator.hook_outcome(run.target_arn)
        if outcome == "IN_PROGRESS":
            run.timers.append(self.service._sim.after(LAMBDA_CALLBACK_SECONDS, lambda: self._invoke(run)))
        elif outcome == "FAILED":
            run.settle("FAILED")
            # "If your function doesn't return a valid hookStatus, or if it fails, Amazon ECS
            # rolls back the deployment" (Lambda hooks).
            self._fail(f"The lifecycle hook {run.hook_id} at {run.stage} failed.")
        else:
            run.settle("SUCCEEDED")
            self._stage_done()

    def _timed_out(self, run: HookRun) -> None:
        if run.status not in ("IN_PROGRESS", "AWAITING_ACTION") or self.over:
            return
        run.settle("TIMED_OUT")
        if run.timeout_action == "ROLLBACK":
            self._fail(f"The lifecycle hook {run.hook_id} at {run.stage} timed out.")
        else:
            self._stage_done()

    def find(self, hook: str) -> HookRun | None:
        return next((run for run in self.hooks if run.hook_id == hook), None)

    def resolve(self, run: HookRun, action: str) -> None:
        """ContinueServiceDeployment on a PAUSE hook awaiting action."""
        if action == "ROLLBACK":
            run.settle("FAILED")
            self.service.roll_back(self.green, "Service deployment rolled back by a ContinueServiceDeployment request.")
        else:
            run.settle("SUCCEEDED")
            self._stage_done()

    def _stage_done(self) -> None:
        if self._waiting == "hooks" and all(r.status in ("SUCCEEDED", "TIMED_OUT") for r in self.hooks):
            self._next()

    def _fail(self, reason: str) -> None:
        """A hook failed or timed out with ROLLBACK: the deployment failed ("FAILED - Amazon ECS
        rolls back the deployment to the last successful service revision", Lambda hooks)."""
        green = self.green
        green.rollout_state = "FAILED"
        green.rollout_state_reason = f"ECS deployment {HOOK_FAILURE}."
        green.updated_at = self.service._sim.now()
        self.service._event(events.deployment_failed(self.service.name, green.id, HOOK_FAILURE))
        self.service.roll_back(green, reason)

    def stop(self) -> None:
        """The deployment was rolled back, stopped or replaced: nothing more happens."""
        self.over = True
        self._plan = []
        if self._timer is not None:
            self._timer.cancel()
        for run in self.hooks:
            for timer in run.timers:
                timer.cancel()

    def rolled_back(self, to: Deployment | None) -> None:
        """Traffic goes back to the revision rolled back to (ContinueServiceDeployment ROLLBACK:
        "Rolls back the service deployment to the previous service revision")."""
        self.stop()
        self.green.production_weight = self.green.test_weight = 0.0
        for deployment in self.blue:
            deployment.production_weight = deployment.test_weight = 0.0
        if to is not None:
            to.production_weight = to.test_weight = 100.0
