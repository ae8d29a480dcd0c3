"""Services: deployments, the rolling-update scheduler, the circuit breaker, and events.

The scheduler follows the ECS API reference, DeploymentConfiguration: `maximumPercent` is "an
upper limit on the number of tasks in a service that are allowed in the RUNNING or PENDING state
during a deployment" (rounded down), `minimumHealthyPercent` "a lower limit on the number of
tasks in a service that must remain in the RUNNING state" (rounded up); tasks with a failing
health check are not healthy. A deployment is COMPLETED once its tasks run at the desired count
and the older deployments have drained, then ECS writes "deployment completed." and "has
reached a steady state." (FACTS.md 2.3). The circuit breaker: `failure_threshold`,
`EmulatedService._task_failed`, `EmulatedService._trip`.

State changes are driven by the simulated clock (`clock.Simulation`): a task's transition, an
UpdateService or a DeleteService asks for a scheduler pass (`kick`), which runs at once (under
the emulator's lock) and decides what to start and stop.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from moto.ecs.models import Service

from . import events
from .clock import Simulation, Timer
from .strategies import Rollout
from .tasks import FARGATE_LINUX_LATEST, STOPPED_RETENTION_SECONDS, EmulatedTask

if TYPE_CHECKING:
    from .backend import EmulatedEcsBackend

#: How long an INACTIVE service stays describable. ECS documents no number ("INACTIVE services
#: may be cleaned up and purged", DeleteService); an hour of ECS time is the emulator's choice.
INACTIVE_RETENTION_SECONDS = 3600.0
#: ECS's "service throttle logic" (developer guide): "the time between subsequent restart
#: attempts is incrementally increased up to a maximum of 15 minutes".
THROTTLE_BASE_SECONDS = 10.0
THROTTLE_MAX_SECONDS = 900.0
#: Consecutive failures to start before the throttle (and its event) begins.
THROTTLE_AFTER_FAILURES = 3

#: Service fields whose change in UpdateService starts a new deployment ("a new service
#: deployment is created when you ... update a property that requires a deployment", developer
#: guide, "View service history"; UpdateService API reference names the task definition,
#: platform version, network, load balancer, service registry, capacity provider strategy,
#: Service Connect and volume configurations).
DEPLOYMENT_FIELDS = (
    "taskDefinition",
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "networkConfiguration",
    "loadBalancers",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "volumeConfigurations",
    "vpcLatticeConfigurations",
)


def failure_threshold(desired_count: int) -> int:
    """Failed tasks that trip the deployment circuit breaker: "a minimum threshold of 3 and a
    maximum threshold of 200 ... 0.5 * desired task count" (API reference,
    ServiceDeploymentCircuitBreaker), rounded up."""
    return min(200, max(3, math.ceil(desired_count * 0.5)))


def deployment_id() -> str:
    """`ecs-svc/` and 19 digits, as in every DescribeServices output."""
    return "ecs-svc/" + str(random.randint(0, 10**19 - 1)).zfill(19)


@dataclass
class Deployment:
    """One deployment of a service: the classic `deployments[]` entry, and its service
    deployment and service revision (the service deployments API)."""

    id: str
    task_definition: str
    config: dict[str, Any]
    desired_count: int
    created_at: datetime
    updated_at: datetime
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    rollout_state_reason: str = ""
    #: "The number of consecutively failed tasks in the deployment" (API reference, Deployment).
    failed_tasks: int = 0
    #: Whether one of its tasks has run: from then on only failed health checks count.
    has_run: bool = False
    #: Consecutive failures to start, for the launch throttle.
    start_failures: int = 0
    #: No launches before this time.monotonic() moment.
    throttled_until: float = 0.0
    #: The failed deployment a rollback deployment rolls back.
    rollback_of: Deployment | None = None
    #: Stopped by StopServiceDeployment ABORT: launches nothing more.
    halted: bool = False
    # service deployments API
    arn: str = ""
    revision_arn: str = ""
    sd_status: str = "IN_PROGRESS"
    sd_status_reason: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stopped_at: datetime | None = None
    rollback: dict[str, Any] | None = None
    source_revisions: list[str] = field(default_factory=list)
    #: The lifecycle stages of a BLUE_GREEN, LINEAR or CANARY deployment (`strategies`).
    rollout: Rollout | None = None
    #: requestedProductionTrafficWeight / requestedTestTrafficWeight of its revision, for
    #: services with such a strategy (ServiceRevisionSummary).
    production_weight: float | None = None
    test_weight: float | None = None

    def platform_version(self) -> str | None:
        """A Fargate deployment resolves LATEST (FACTS.md 7.2: "service keeps LATEST;
        deployments and tasks show the resolved 1.4.0")."""
        fargate = self.config.get("launchType") == "FARGATE" or any(
            str(s.get("capacityProvider", "")).startswith("FARGATE") for s in self.config.get("capacityProviderStrategy") or []
        )
        if not fargate:
            return None
        version = self.config.get("platformVersion")
        return FARGATE_LINUX_LATEST if version in (None, "LATEST") else version


class EmulatedService(Service):
    """A service with a control plane. Stored in moto's `backend.services` under
    "cluster:name", so moto's ListServices and tagging keep working."""

    def __init__(self, backend: EmulatedEcsBackend, cluster: Any, config: dict[str, Any], tags: list[dict[str, str]]) -> None:
        # moto's Service.__init__ validates and fills in its own way; the fields moto's other
        # operations read are set here instead.
        self._backend = backend
        self._account_id = backend.account_id
        self._sim: Simulation = backend.emulator.sim
        self.region_name = cluster.region_name
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.name = config["serviceName"]
        self.config = config
        self.tags = tags
        self.status = "ACTIVE"
        self.created_at = self._sim.now()
        self.tasks: list[EmulatedTask] = []
        self.deployments: list[Deployment] = []  # newest first
        self.events: list[dict[str, Any]] = []
        self.task_sets: list[Any] = []
        self._kicked = False
        self._steady = False
        #: Every deployment of this service, newest first (the service deployments API; ECS
        #: "deletes the corresponding service deployments" with the service).
        self.history: list[Deployment] = []
        #: Load-balanced tasks that started running since the last pass (for "registered N targets").
        self._registered: list[EmulatedTask] = []
        #: Tasks stopped for failing health checks, to be replaced ("Amazon ECS replaced N tasks").
        self._unhealthy_replaced = 0
        #: When each message was last written (monotonic), for ECS's six-hour repeat rule.
        self._said: dict[str, float] = {}
        self._steady_timer: Timer | None = None

    # moto's ListServices filters on these.
    @property
    def scheduling_strategy(self) -> str:  # type: ignore[override]
        return self.config["schedulingStrategy"]

    @property
    def launch_type(self) -> str | None:  # type: ignore[override]
        return self.config.get("launchType")

    @property
    def desired_count(self) -> int:  # type: ignore[override]
        return int(self.config["desiredCount"])

    @property
    def task_definition(self) -> str:  # type: ignore[override]
        return self.config["taskDefinition"]

    @property
    def primary(self) -> Deployment:
        return self.deployments[0]

    # --- requests ------------------------------------------------------------------------------

    def start(self) -> None:
        """The first deployment, at CreateService."""
        first = self._new_deployment()
        first.created_at = first.updated_at = self.created_at
        self.kick()

    def update(self, changes: dict[str, Any], force_new_deployment: bool) -> None:
        """UpdateService: applies `changes` (already shaped), and deploys when a deployment field
        changed or a new deployment is forced."""
        redeploy = force_new_deployment or any(
            key in changes and changes[key] != self.config.get(key) for key in DEPLOYMENT_FIELDS
        )
        self.config.update(changes)
        self.config = {k: v for k, v in self.config.items() if v is not None}
        if redeploy:
            self._new_deployment()
        self._steady = False
        self.kick()

    def delete(self) -> None:
        """DeleteService: DRAINING until every task has stopped, then INACTIVE (API reference,
        DeleteService)."""
        self.status = "DRAINING"
        self.config["desiredCount"] = 0
        for deployment in self.deployments:
            if deployment.rollout is not None:
                deployment.rollout.stop()
        self.kick()

    def stop_deployment(self, deployment: Deployment, stop_type: str) -> None:
        """StopServiceDeployment. ROLLBACK returns to the last completed revision ("You can use
        this option even if you didn't configure the service deployment for the rollback
        option"); ABORT stops the deployment where it is."""
        now = self._sim.now()
        if stop_type not in ("ROLLBACK", "ABORT"):
            raise ValueError(stop_type)
        if stop_type == "ROLLBACK":
            deployment.sd_status = "ROLLBACK_REQUESTED"
            self.roll_back(deployment, "Service deployment rolled back by a StopServiceDeployment request.")
        else:
            # Stopped where it is: it launches nothing more.
            deployment.sd_status = "STOPPED"
            deployment.sd_status_reason = "Service deployment stopped by a StopServiceDeployment request."
            deployment.stopped_at = deployment.finished_at = now
            deployment.halted = True
            if deployment.rollout is not None:
                deployment.rollout.stop()
        self.kick()

    # --- the scheduler -------------------------------------------------------------------------

    def kick(self) -> None:
        """Asks for a scheduler pass (one per moment, however many changes ask)."""
        if not self._kicked:
            self._kicked = True
            self._sim.after(0.0, self._run)

    def _run(self) -> None:
        self._kicked = False
        if self.status == "INACTIVE":
            return
        self._forget_stopped_tasks()
        if self.status == "DRAINING":
            self._drain()
            return
        primary = self.primary
        desired = self._desired()
        primary.desired_count = desired
        # A blue/green, linear or canary deployment starts its tasks at full count at SCALE_UP
        # and stops the blue ones at CLEAN_UP (`strategies.Rollout`).
        rollout = primary.rollout
        active = [t for t in self.tasks if t.active]
        mine = [t for t in active if t.started_by == primary.id]
        old = [t for t in active if t.started_by != primary.id]
        percent = self.config["deploymentConfiguration"]
        max_total = math.floor(desired * percent.get("maximumPercent", 200) / 100)
        min_healthy = math.ceil(desired * percent.get("minimumHealthyPercent", 100) / 100)

        stopping: list[EmulatedTask] = []
        # Scaling in: the primary's surplus, those not yet running first.
        if len(mine) > desired:
            surplus = sorted(mine, key=lambda t: (t.last_status == "RUNNING", t.created_at))
            stopping += surplus[: len(mine) - desired]
            mine = [t for t in mine if t not in stopping]

        # Starting the primary's tasks within maximumPercent. "A deployment in FAILED state
        # doesn't launch any new tasks" (API reference, Deployment).
        started: list[EmulatedTask] = []
        need = desired - len(mine) if rollout is None or rollout.launching else 0
        # With nothing old left to replace, the service may always run its desired count.
        limit = max_total if old else max(max_total, desired)
        if rollout is not None:
            # Green starts at full count beside blue, whatever maximumPercent says.
            limit = len(active) - len(stopping) + max(need, 0)
        room = limit - (len(active) - len(stopping))
        if need > 0 and room > 0 and primary.rollout_state != "FAILED" and not primary.halted:
            if time.monotonic() < primary.throttled_until:
                self._sim.after_wall(primary.throttled_until - time.monotonic(), self.kick)
            else:
                problem = self._backend.placement_problem(self, primary)
                if problem is None:
                    started = [self._launch(primary) for _ in range(min(need, room))]
                    self._said.pop("placement", None)
                else:
                    self._event(events.unable_to_place(self.name, problem), key="placement")
                    self._sim.after(30.0, self.kick)

        # Stopping older deployments' tasks within minimumHealthyPercent.
        healthy = sum(1 for t in active if t not in stopping and self._healthy(t))
        for task in sorted(old, key=lambda t: (self._healthy(t), t.created_at)):
            if rollout is not None and not rollout.cleaning:
                break
            if rollout is not None or not self._healthy(task):
                stopping.append(task)
            elif healthy - 1 >= min_healthy:
                stopping.append(task)
                healthy -= 1
        # Neither a start nor a stop fits the percentages: ECS says so (Service event messages:
        # "... because of the service deployment configuration ...", e.g. 125% of 3 tasks).
        if need > 0 and room <= 0 and old and not stopping and not started:
            self._event(events.blocked_by_deployment_configuration(self.name), key="blocked")
        else:
            self._said.pop("blocked", None)
        for task in stopping:
            task.stop("ServiceSchedulerInitiated", f"Scaling activity initiated by (deployment {task.started_by})")
        if started:
            ids = [t.id for t in started]
            if self._unhealthy_replaced:
                replaced = min(self._unhealthy_replaced, len(ids))
                self._unhealthy_replaced -= replaced
                self._event(events.replaced_unhealthy(self.name, ids, replaced))
            else:
                self._event(events.started(self.name, ids))
        ran = [t for t in stopping if t.started_at is not None]
        if ran:
            self._event(events.stopped(self.name, [t.id for t in ran]))
            self._deregistered(ran)
        if self._registered:
            by_group: dict[str, int] = {}
            for task in self._registered:
                by_group[task.target_group_arn or ""] = by_group.get(task.target_group_arn or "", 0) + 1
            for group, count in by_group.items():
                self._event(events.registered_targets(self.name, count, group))
            self._registered = []
        self._settle()

    def _deregistered(self, tasks: list[EmulatedTask]) -> None:
        """Load-balanced tasks being stopped leave their target group and drain (FACTS.md 1.3:
        "deregistered 2 targets in (target-group ...)", then "(service ui, taskSet ecs-svc/...)
        has begun draining connections on 2 tasks.")."""
        balanced = [t for t in tasks if t.target_group_arn]
        for group in dict.fromkeys(t.target_group_arn for t in balanced):
            count = sum(1 for t in balanced if t.target_group_arn == group)
            self._event(events.deregistered_targets(self.name, count, group or ""))
        for deployment in dict.fromkeys(t.started_by for t in balanced):
            count = sum(1 for t in balanced if t.started_by == deployment)
            self._event(events.draining(self.name, deployment, count))

    def _settle(self) -> None:
        """Deployments that drained go; the primary completes; a steady state is announced."""
        now = self._sim.now()
        for deployment in self.deployments[1:]:
            deployment.desired_count = sum(1 for t in self.tasks if t.active and t.started_by == deployment.id)
        drained = [
            d for d in self.deployments[1:] if not any(t.started_by == d.id and t.last_status != "STOPPED" for t in self.tasks)
        ]
        for deployment in drained:
            self.deployments.remove(deployment)
            deployment.status = "INACTIVE"
        primary = self.primary
        healthy = all(self._healthy(t) for t in self.tasks if t.active and t.started_by == primary.id)
        if primary.rollout is not None:
            primary.rollout.scaled(self._count(primary, "RUNNING"), primary.desired_count, healthy)
        steady = (
            len(self.deployments) == 1
            and primary.rollout_state != "FAILED"
            and (primary.rollout is None or primary.rollout.cleaning)
            and self._count(primary, "RUNNING") == primary.desired_count
            and all(self._healthy(t) for t in self.tasks if t.active)
        )
        if steady and primary.rollout_state == "IN_PROGRESS":
            primary.rollout_state = "COMPLETED"
            primary.rollout_state_reason = events.rollout_completed(primary.id)
            primary.updated_at = now
            self._finish_service_deployment(primary)
            self._event(events.deployment_completed(self.name, primary.id))
        if steady and not self._steady:
            self._event(events.steady_state(self.name), key="steady")
            if self._steady_timer is not None:
                self._steady_timer.cancel()
            self._steady_timer = self._sim.after(events.REPEAT_AFTER_SECONDS, self._still_steady)
        if not steady and self._steady_timer is not None:
            self._steady_timer.cancel()
            self._steady_timer = None
            self._said.pop("steady", None)
        self._steady = steady

    def _still_steady(self) -> None:
        """"The service scheduler reports the status periodically" (Service event messages)."""
        if self._steady and self.status == "ACTIVE":
            self._event(events.steady_state(self.name), key="steady")
            self._steady_timer = self._sim.after(events.REPEAT_AFTER_SECONDS, self._still_steady)

    def _finish_service_deployment(self, deployment: Deployment) -> None:
        now = self._sim.now()
        failed = deployment.rollback_of
        if failed is not None:
            deployment.rollback_of = None
            if failed.sd_status == "ROLLBACK_IN_PROGRESS":
                failed.sd_status = "ROLLBACK_SUCCESSFUL"
                failed.finished_at = failed.updated_at = now
            return
        if deployment.sd_status in ("PENDING", "IN_PROGRESS"):
            deployment.sd_status = "SUCCESSFUL"
            deployment.finished_at = now

    def _drain(self) -> None:
        for task in self.tasks:
            if task.active:
                task.stop("ServiceSchedulerInitiated", f"Scaling activity initiated by (deployment {task.started_by})")
        if all(t.last_status in ("STOPPING", "DEPROVISIONING", "STOPPED") for t in self.tasks):
            # "After all tasks have transitioned to either STOPPING or STOPPED status, the service
            # status moves from DRAINING to INACTIVE" (API reference, DeleteService).
            self.status = "INACTIVE"
            for deployment in self.deployments:
                deployment.status = "INACTIVE"
            self._sim.after(INACTIVE_RETENTION_SECONDS, self._forget)

    def _forget(self) -> None:
        self._backend.forget_service(self)

    def _forget_stopped_tasks(self) -> None:
        horizon = self._sim.now() - timedelta(seconds=self._sim.wall(STOPPED_RETENTION_SECONDS))
        gone = [t for t in self.tasks if t.stopped_at is not None and t.stopped_at < horizon]
        if gone:
            self.tasks = [t for t in self.tasks if t not in gone]
            self._backend.forget_tasks(self.cluster_name, gone)

    def _desired(self) -> int:
        if self.config["schedulingStrategy"] == "DAEMON":
            return self._backend.active_instances(self.cluster_name)
        return self.desired_count

    @staticmethod
    def _healthy(task: EmulatedTask) -> bool:
        """RUNNING, and found healthy by what checks it ("Tasks for services that do use a load
        balancer are considered healthy if they're in the RUNNING state and they're reported as
        healthy by the load balancer", DeploymentConfiguration)."""
        return task.last_status == "RUNNING" and (task.health_status == "HEALTHY" or not task.checked)

    def _count(self, deployment: Deployment, status: str) -> int:
        mine = [t for t in self.tasks if t.started_by == deployment.id and t.active]
        if status == "RUNNING":
            return sum(1 for t in mine if t.last_status == "RUNNING")
        return sum(1 for t in mine if t.last_status in ("PROVISIONING", "PENDING", "ACTIVATING"))

    def _launch(self, deployment: Deployment) -> EmulatedTask:
        cluster = self._backend._get_cluster(self.cluster_name)
        definition = self._backend.describe_task_definition(deployment.task_definition)
        strategy = deployment.config.get("capacityProviderStrategy") or []
        lbs = deployment.config.get("loadBalancers") or []
        task = EmulatedTask(
            self._sim,
            cluster,
            definition,
            account_id=self._account_id,
            script=self._backend.emulator.script_for(definition, {}),
            started_by=deployment.id,
            group=f"service:{self.name}",
            launch_type=deployment.config.get("launchType"),
            capacity_provider_name=strategy[0]["capacityProvider"] if strategy else None,
            platform_version=deployment.config.get("platformVersion"),
            tags=self.tags if self.config.get("propagateTags") == "SERVICE" else [],
            network_configuration=deployment.config.get("networkConfiguration"),
            enable_execute_command=bool(self.config.get("enableExecuteCommand")),
            target_group_arn=lbs[0].get("targetGroupArn") if lbs else None,
            on_change=self._task_changed,
        )
        if lbs:
            task.port = int(lbs[0].get("containerPort", 80))
        self.tasks.append(task)
        self._backend.tasks.setdefault(self.cluster_name, {})[task.arn] = task
        return task

    def _task_changed(self, task: EmulatedTask) -> None:
        deployment = next((d for d in self.deployments if d.id == task.started_by), None)
        if deployment is not None:
            deployment.updated_at = self._sim.now()
            if task.last_status == "RUNNING" and task.target_group_arn and task.health_status == "UNKNOWN":
                if task not in self._registered:
                    self._registered.append(task)
            if self._healthy(task):
                # "Once a service deployment has one or more successfully running tasks, the
                # failed task count resets to zero" (API reference, Deployment.failedTasks).
                deployment.has_run = True
                deployment.start_failures = 0
                self._said.pop("throttle", None)
                if deployment.rollout_state == "IN_PROGRESS":
                    deployment.failed_tasks = 0
            if task.failure is not None and task.last_status in ("DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"):
                self._task_failed(deployment, task)
        self.kick()

    def _task_failed(self, deployment: Deployment, task: EmulatedTask) -> None:
        """A task of `deployment` failed (once per task): health check failures are announced,
        failures count toward the circuit breaker as the API reference (Deployment.failedTasks)
        says, and repeated failures to start slow down launches (service throttle logic)."""
        kind, task.failure = task.failure, None
        if kind == "health":
            if task.target_group_arn:
                self._event(events.unhealthy_in_target_group(self.name, task.id, task.port, task.target_group_arn))
            else:
                self._event(events.failed_container_health_checks(self.name, task.id))
            self._event(events.stopped(self.name, [task.id]))
            self._deregistered([task])
            self._unhealthy_replaced += 1
        counts = kind in ("start", "health") and (kind == "health" or not deployment.has_run)
        if deployment is self.primary and deployment.rollout_state == "IN_PROGRESS" and counts:
            deployment.failed_tasks += 1
            breaker = self.config["deploymentConfiguration"].get("deploymentCircuitBreaker") or {}
            if breaker.get("enable") and deployment.failed_tasks >= failure_threshold(deployment.desired_count):
                self._trip(deployment, rollback=bool(breaker.get("rollback")))
                return
        if kind == "start":
            deployment.start_failures += 1
            if deployment.start_failures >= THROTTLE_AFTER_FAILURES:
                delay = min(THROTTLE_MAX_SECONDS, THROTTLE_BASE_SECONDS * 2 ** (deployment.start_failures - THROTTLE_AFTER_FAILURES))
                deployment.throttled_until = time.monotonic() + self._sim.wall(delay)
                self._event(events.unable_to_start(self.name), key="throttle")

    def _trip(self, deployment: Deployment, rollback: bool) -> None:
        """The circuit breaker: FAILED, and with rollback a return to the last deployment that
        completed (API reference, DeploymentCircuitBreaker)."""
        now = self._sim.now()
        deployment.rollout_state = "FAILED"
        deployment.rollout_state_reason = events.ROLLOUT_FAILED
        deployment.updated_at = now
        self._event(events.deployment_failed(self.name, deployment.id))
        if deployment.rollback_of is not None:
            # The rollback itself failed: ECS stops there.
            deployment.rollback_of.sd_status = "ROLLBACK_FAILED"
            deployment.rollback_of.finished_at = now
            deployment.rollback_of = None
            return
        target = self._completed_before(deployment) if rollback else None
        if target is None:
            if deployment.rollout is not None:
                deployment.rollout.stop()
            deployment.sd_status = "ROLLBACK_FAILED" if rollback else "STOPPED"
            deployment.sd_status_reason = "The deployment circuit breaker detected a failure."
            deployment.stopped_at = deployment.finished_at = now
            return
        self._roll_back(deployment, target, "The deployment circuit breaker detected a failure.")

    def _roll_back(self, failed: Deployment, target: Deployment, reason: str) -> None:
        """A rollback deployment runs the target's revision under the target's id (FACTS.md
        2.4: "rolling back to deployment ecs-svc/X", then "(deployment ecs-svc/X) deployment
        completed."); the failed deployment drains as ACTIVE."""
        now = self._sim.now()
        if target in self.deployments:
            self.deployments.remove(target)
            back = target
        else:
            back = Deployment(
                id=target.id,
                task_definition=target.task_definition,
                config=dict(target.config),
                desired_count=0,
                created_at=now,
                updated_at=now,
                arn=target.arn,
                revision_arn=target.revision_arn,
                sd_status=target.sd_status,
            )
        for deployment in self.deployments:
            deployment.status = "ACTIVE"
        back.status = "PRIMARY"
        back.rollout_state = "IN_PROGRESS"
        back.rollout_state_reason = events.rollout_rolling_back(target.id)
        back.failed_tasks, back.has_run, back.start_failures, back.throttled_until = 0, False, 0, 0.0
        back.updated_at = now
        back.rollback_of = failed
        back.rollout = None
        if failed.rollout is not None:
            failed.rollout.rolled_back(back)
        self.deployments.insert(0, back)
        failed.sd_status = "ROLLBACK_IN_PROGRESS"
        failed.sd_status_reason = reason
        failed.rollback = {"reason": reason, "startedAt": now, "serviceRevisionArn": target.revision_arn}
        self.config["taskDefinition"] = target.task_definition
        self._event(events.rolling_back(self.name, target.id))

    def roll_back(self, deployment: Deployment, reason: str) -> None:
        """Back to the last completed revision (StopServiceDeployment ROLLBACK, a lifecycle hook
        failed, timed out or answered ROLLBACK); ROLLBACK_FAILED when there is none."""
        target = self._completed_before(deployment)
        if target is None:
            deployment.sd_status = "ROLLBACK_FAILED"
            deployment.sd_status_reason = "No completed service revision to roll back to."
            deployment.finished_at = self._sim.now()
            if deployment.rollout is not None:
                deployment.rollout.stop()
        else:
            self._roll_back(deployment, target, reason)
        self.kick()

    def _completed_before(self, deployment: Deployment) -> Deployment | None:
        """The newest deployment that completed before `deployment` (what a rollback returns to)."""
        return next(
            (d for d in self.history if d.id != deployment.id and d.rollout_state == "COMPLETED"),
            None,
        )

    def _new_deployment(self) -> Deployment:
        now = self._sim.now()
        config = {k: self.config[k] for k in DEPLOYMENT_FIELDS if self.config.get(k) is not None}
        # "In the CreateService and UpdateService responses the new PRIMARY deployment has
        # desiredCount 0" (FACTS.md 2.1): the scheduler sets it on its first pass.
        new = Deployment(id=deployment_id(), task_definition=self.config["taskDefinition"], config=config,
                         desired_count=0, created_at=now, updated_at=now)
        new.rollout_state_reason = events.rollout_in_progress(new.id)
        digits = new.id.split("/")[1]
        base = f"arn:aws:ecs:{self.region_name}:{self._account_id}"
        token = uuid.uuid4().hex[:21]
        new.arn = f"{base}:service-deployment/{self.cluster_name}/{self.name}/{token}"
        new.revision_arn = f"{base}:service-revision/{self.cluster_name}/{self.name}/{digits}"
        new.started_at = now
        for deployment in self.deployments:
            deployment.status = "ACTIVE"
            if deployment.rollout is not None:
                deployment.rollout.stop()
            if deployment.sd_status in ("PENDING", "IN_PROGRESS"):
                deployment.sd_status = "STOPPED"
                deployment.sd_status_reason = "A newer service deployment started."
                deployment.stopped_at = deployment.finished_at = now
        new.source_revisions = [d.revision_arn for d in self.deployments]
        blue = list(self.deployments)
        self.deployments.insert(0, new)
        self.history.insert(0, new)
        if self.config["deploymentConfiguration"].get("strategy", "ROLLING") != "ROLLING":
            new.rollout = Rollout(self, new, blue)
            new.rollout.start()
        return new

    def _event(self, message: str, key: str | None = None) -> None:
        """Writes a service event; a `key`ed message is not repeated within six hours of ECS
        time (FACTS.md 1.1) unless its cause was resolved (the key dropped)."""
        now = time.monotonic()
        if key is not None:
            said = self._said.get(key)
            if said is not None and now - said < self._sim.wall(events.REPEAT_AFTER_SECONDS):
                return
            self._said[key] = now
        moment = self._sim.now()
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # ECS answers in ms
        if self.events and moment <= self.events[0]["createdAt"]:
            # Events of one scheduler action are 1 ms apart, in order (FACTS.md 1.1).
            moment = self.events[0]["createdAt"] + timedelta(milliseconds=1)
        self.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": moment, "message": message})
        del self.events[events.MAX_EVENTS :]

    # --- answers -------------------------------------------------------------------------------

    def describe(self, include_tags: bool) -> dict[str, Any]:
        """The Service shape of DescribeServices, CreateService, UpdateService, DeleteService."""
        config = self.config
        live = self.status != "INACTIVE"
        service: dict[str, Any] = {
            "serviceArn": self.arn,
            "serviceName": self.name,
            "clusterArn": self.cluster_arn,
            "loadBalancers": config.get("loadBalancers", []),
            "serviceRegistries": config.get("serviceRegistries", []),
            "status": self.status,
            # A DAEMON service's desired count is ECS's own: one task per active instance.
            "desiredCount": self._desired() if self.status == "ACTIVE" else self.desired_count,
            "runningCount": sum(1 for t in self.tasks if t.active and t.last_status == "RUNNING"),
            "pendingCount": sum(1 for t in self.tasks if t.active and t.last_status in ("PROVISIONING", "PENDING", "ACTIVATING")),
            "launchType": config.get("launchType"),
            "capacityProviderStrategy": config.get("capacityProviderStrategy"),
            "platformVersion": config.get("platformVersion"),
            "platformFamily": config.get("platformFamily"),
            "taskDefinition": config["taskDefinition"],
            "deploymentConfiguration": config["deploymentConfiguration"],
            "deployments": [self._deployment_shape(d) for d in self.deployments] if live else [],
            "roleArn": config.get("roleArn"),
            "events": self.events,
            "createdAt": self.created_at,
            "placementConstraints": config.get("placementConstraints", []),
            "placementStrategy": config.get("placementStrategy", []),
            "networkConfiguration": config.get("networkConfiguration"),
            "healthCheckGracePeriodSeconds": config.get("healthCheckGracePeriodSeconds"),
            "schedulingStrategy": config["schedulingStrategy"],
            "deploymentController": config["deploymentController"],
            "createdBy": config.get("createdBy"),
            "enableECSManagedTags": config["enableECSManagedTags"],
            "propagateTags": config["propagateTags"],
            "enableExecuteCommand": config["enableExecuteCommand"],
            "availabilityZoneRebalancing": config.get("availabilityZoneRebalancing"),
            "serviceConnectConfiguration": config.get("serviceConnectConfiguration"),
            "volumeConfigurations": config.get("volumeConfigurations"),
            "vpcLatticeConfigurations": config.get("vpcLatticeConfigurations"),
            "resourceManagementType": "CUSTOMER",
            "tags": self.tags if include_tags else [],
        }
        if self.deployments and live:
            service["currentServiceDeployment"] = self.primary.arn
            service["currentServiceRevisions"] = [self._revision_summary(d) for d in self.deployments]
        return {k: v for k, v in service.items() if v is not None}

    def _deployment_shape(self, d: Deployment) -> dict[str, Any]:
        version = d.platform_version()
        shape = {
            "id": d.id,
            "status": d.status,
            "taskDefinition": d.task_definition,
            "desiredCount": d.desired_count,
            "pendingCount": self._count(d, "PENDING"),
            "runningCount": self._count(d, "RUNNING"),
            "failedTasks": d.failed_tasks,
            "createdAt": d.created_at,
            "updatedAt": d.updated_at,
            "capacityProviderStrategy": d.config.get("capacityProviderStrategy"),
            "launchType": d.config.get("launchType"),
            "platformVersion": version,
            "platformFamily": "Linux" if version else None,
            "networkConfiguration": d.config.get("networkConfiguration"),
            "rolloutState": d.rollout_state,
            "rolloutStateReason": d.rollout_state_reason,
            "serviceConnectConfiguration": d.config.get("serviceConnectConfiguration"),
            "volumeConfigurations": d.config.get("volumeConfigurations"),
            "vpcLatticeConfigurations": d.config.get("vpcLatticeConfigurations"),
        }
        return {k: v for k, v in shape.items() if v is not None}

    def _revision_summary(self, d: Deployment) -> dict[str, Any]:
        summary = {
            "arn": d.revision_arn,
            "requestedTaskCount": d.desired_count,
            "runningTaskCount": self._count(d, "RUNNING"),
            "pendingTaskCount": self._count(d, "PENDING"),
            "requestedProductionTrafficWeight": d.production_weight,
            "requestedTestTrafficWeight": d.test_weight,
        }
        return {k: v for k, v in summary.items() if v is not None}

    def _source_summary(self, arn: str) -> dict[str, Any]:
        """A source revision: live counts (and weights) while it still runs, zeros after."""
        live = next((x for x in self.deployments if x.revision_arn == arn), None)
        if live is not None:
            return self._revision_summary(live)
        return {"arn": arn, "requestedTaskCount": 0, "runningTaskCount": 0, "pendingTaskCount": 0}

    def service_deployment(self, d: Deployment) -> dict[str, Any]:
        """The ServiceDeployment shape of DescribeServiceDeployments (API reference)."""
        breaker = self.config["deploymentConfiguration"].get("deploymentCircuitBreaker") or {}
        if not breaker.get("enable"):
            breaker_status = "DISABLED"
        elif d.rollout_state == "FAILED":
            breaker_status = "TRIGGERED"
        elif d.rollout_state == "COMPLETED":
            breaker_status = "MONITORING_COMPLETE"
        else:
            breaker_status = "MONITORING"
        live = next((x for x in self.deployments if x.arn == d.arn), None)
        shape: dict[str, Any] = {
            "serviceDeploymentArn": d.arn,
            "serviceArn": self.arn,
            "clusterArn": self.cluster_arn,
            "createdAt": d.created_at,
            "startedAt": d.started_at,
            "finishedAt": d.finished_at,
            "stoppedAt": d.stopped_at,
            "updatedAt": d.updated_at,
            "sourceServiceRevisions": [self._source_summary(arn) for arn in d.source_revisions],
            "targetServiceRevision": self._revision_summary(live or d),
            "status": d.sd_status,
            "statusReason": d.sd_status_reason,
            "lifecycleStage": d.rollout.stage if d.rollout else None,
            "lifecycleHookDetails": [run.shape() for run in d.rollout.hooks] if d.rollout else None,
            "deploymentConfiguration": self.config["deploymentConfiguration"],
            "rollback": d.rollback,
            "deploymentCircuitBreaker": {
                "status": breaker_status,
                "failureCount": d.failed_tasks,
                "threshold": failure_threshold(d.desired_count),
            },
            "alarms": {"status": "DISABLED"},
        }
        return {k: v for k, v in shape.items() if v is not None}

    def service_revision(self, d: Deployment) -> dict[str, Any]:
        """The ServiceRevision shape of DescribeServiceRevisions (API reference)."""
        definition = self._backend.describe_task_definition(d.task_definition)
        version = d.platform_version()
        shape = {
            "serviceRevisionArn": d.revision_arn,
            "serviceArn": self.arn,
            "clusterArn": self.cluster_arn,
            "taskDefinition": d.task_definition,
            "capacityProviderStrategy": d.config.get("capacityProviderStrategy"),
            "launchType": d.config.get("launchType"),
            "platformVersion": version,
            "platformFamily": "Linux" if version else None,
            "loadBalancers": d.config.get("loadBalancers"),
            "serviceRegistries": d.config.get("serviceRegistries"),
            "networkConfiguration": d.config.get("networkConfiguration"),
            "containerImages": [{"containerName": c["name"], "image": c.get("image")} for c in definition.container_definitions],
            "guardDutyEnabled": False,
            "serviceConnectConfiguration": d.config.get("serviceConnectConfiguration"),
            "volumeConfigurations": d.config.get("volumeConfigurations"),
            "vpcLatticeConfigurations": d.config.get("vpcLatticeConfigurations"),
            "createdAt": d.created_at,
        }
        return {k: v for k, v in shape.items() if v is not None}
