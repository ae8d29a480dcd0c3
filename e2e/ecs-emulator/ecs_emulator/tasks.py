"""Tasks: their lifecycle, and what their containers do.

Lifecycle (ECS developer guide, "Amazon ECS task lifecycle"): PROVISIONING -> PENDING ->
ACTIVATING -> RUNNING -> DEACTIVATING -> STOPPING -> DEPROVISIONING -> STOPPED, with
`desiredStatus` RUNNING until something stops the task. How long each state lasts is not
documented; the durations below are typical of Fargate, in ECS seconds (see `clock`).

What the containers do is read from markers, so that a test can make tasks fail the way real
ones do without a container runtime:

- an image whose registry host ends in `.invalid` (a name that can never resolve, RFC 2606)
  cannot be pulled: the task stops with `CannotPullContainerError`, stop code
  `TaskFailedToStart`;
- `ECS_EMULATOR_EXIT_CODE=N` in a container's environment (task definition or
  `containerOverrides`) makes that container exit with N after `ECS_EMULATOR_RUN_SECONDS`
  (default 0) of running; an essential container exiting stops the task ("Essential container
  in task exited", stop code `EssentialContainerExited`);
- `ECS_EMULATOR_HEALTH=unhealthy` makes the task fail its health checks once running: the
  load balancer's when the service has one, else the container health check;
- `ECS_EMULATOR_SIGTERM_EXIT_CODE=N` is the code the container exits with when ECS stops it
  (StopTask, a scheduler's stop): StopTask is "the equivalent of docker stop", a SIGTERM, then
  SIGKILL after the stop timeout (StopTask API reference). Default 0, a container that handles
  SIGTERM and exits cleanly; 143 (128 + SIGTERM) is one that dies of the signal, 137 (128 +
  SIGKILL) one that ignores it;
- the admin API (`POST /_emulator/task-failures`) does the same for a whole family.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moto.ec2.utils import random_private_ip

from .clock import Simulation, Timer

if TYPE_CHECKING:
    from moto.ecs.models import Cluster, TaskDefinition

#: ECS seconds spent in each state, from a real Fargate task's timestamps (FACTS.md 4.1:
#: createdAt 14:19:14.98, pullStartedAt 14:19:27.91, pullStoppedAt 14:19:32.43, startedAt
#: 14:19:34.52; on stop, executionStoppedAt to stoppedAt 23 s). Containers that handle SIGTERM
#: stop within seconds (the real example's 43 s was the 30 s SIGKILL timeout).
PROVISIONING_SECONDS = 13.0
PULL_SECONDS = 4.5
STARTING_SECONDS = 2.0
ACTIVATING_SECONDS = 2.0
DEACTIVATING_SECONDS = 2.0
STOPPING_SECONDS = 5.0
DEPROVISIONING_SECONDS = 20.0
#: How long a load balancer keeps a deregistering target: the target group attribute
#: deregistration_delay.timeout_seconds, default 300 (ELB user guide, "Deregistration delay"),
#: read from the target group when it exists in moto's ELBv2.
DEREGISTRATION_DELAY_SECONDS = 300.0
#: Health check defaults: the container health check's interval 30 s and retries 3 (HealthCheck
#: API reference), an ALB target group's 30 s interval with 5 healthy and 2 unhealthy checks in a
#: row (ELB user guide, "Health checks for target groups"; a target group in moto's ELBv2 gives
#: its own values).
CONTAINER_CHECK_INTERVAL = 30.0
CONTAINER_CHECK_RETRIES = 3
TARGET_CHECK_INTERVAL = 30.0
TARGET_HEALTHY_THRESHOLD = 5
TARGET_UNHEALTHY_THRESHOLD = 2
#: How long a STOPPED task stays describable ("Stopped tasks ... at least 1 hour", ECS
#: developer guide, "Amazon ECS task lifecycle"/DescribeTasks).
STOPPED_RETENTION_SECONDS = 3600.0

#: Fargate platform version that "LATEST" resolves to for Linux tasks (ECS developer guide,
#: "Fargate Linux platform versions": 1.4.0 is the current and the LATEST).
FARGATE_LINUX_LATEST = "1.4.0"


@dataclass(frozen=True)
class Script:
    """What a task's containers do."""

    #: The image that cannot be pulled, if any.
    unpullable_image: str | None = None
    #: The container that exits, with its code, after `run_seconds` of running.
    exits: tuple[str, int] | None = None
    run_seconds: float = 0.0
    #: Health checks fail once the task is running.
    unhealthy: bool = False
    #: Exit code of containers ECS stops (see ECS_EMULATOR_SIGTERM_EXIT_CODE).
    sigterm_exit: int = 0


@dataclass(frozen=True)
class Failure:
    """A failure the admin API imposes on every task of a family."""

    mode: str  # "cannot-pull", "exit" or "unhealthy"
    exit_code: int = 1
    run_seconds: float = 0.0

    @staticmethod
    def parse(body: dict[str, Any]) -> Failure:
        failure = Failure(
            mode=str(body.get("mode", "exit")),
            exit_code=int(body.get("exitCode", 1)),
            run_seconds=float(body.get("runSeconds", 0.0)),
        )
        if failure.mode not in ("cannot-pull", "exit", "unhealthy"):
            raise ValueError("mode is cannot-pull, exit or unhealthy")
        return failure


def _environment(container: dict[str, Any], overrides: dict[str, Any]) -> dict[str, str]:
    env = {e["name"]: e.get("value", "") for e in container.get("environment") or []}
    for override in overrides.get("containerOverrides") or []:
        if override.get("name") == container.get("name"):
            env.update({e["name"]: e.get("value", "") for e in override.get("environment") or []})
    return env


def script_of(containers: list[dict[str, Any]], overrides: dict[str, Any], failure: Failure | None) -> Script:
    """Reads the markers (see the module doc) of a task's containers."""
    script = Script()
    for container in containers:
        image = str(container.get("image", ""))
        host = image.split("/", 1)[0] if "/" in image else ""
        if host.split(":")[0].endswith(".invalid") and script.unpullable_image is None:
            script = replace(script, unpullable_image=image)
        env = _environment(container, overrides)
        if "ECS_EMULATOR_EXIT_CODE" in env and script.exits is None:
            script = replace(
                script,
                exits=(container["name"], int(env["ECS_EMULATOR_EXIT_CODE"])),
                run_seconds=float(env.get("ECS_EMULATOR_RUN_SECONDS", "0")),
            )
        if "ECS_EMULATOR_SIGTERM_EXIT_CODE" in env:
            script = replace(script, sigterm_exit=int(env["ECS_EMULATOR_SIGTERM_EXIT_CODE"]))
        if env.get("ECS_EMULATOR_HEALTH") == "unhealthy":
            # Only a health check or a load balancer can find it unhealthy (see EmulatedTask.checked).
            script = replace(script, unhealthy=True)
    if failure is not None and containers:
        first = containers[0]
        if failure.mode == "cannot-pull":
            script = replace(script, unpullable_image=str(first.get("image", "")))
        elif failure.mode == "exit":
            script = replace(script, exits=(first["name"], failure.exit_code), run_seconds=failure.run_seconds)
        else:
            script = replace(script, unhealthy=True)
    return script


def cannot_pull_reason(image: str) -> str:
    """ECS's stoppedReason for an image whose registry does not resolve (ECS developer guide,
    "CannotPullContainer task errors", the "failed to resolve ref" and "no such host" cases)."""
    host = image.split("/", 1)[0]
    return (
        f"CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref "
        f"{image}: failed to do request: Head \"https://{host}/v2/\": dial tcp: lookup {host}: no such host"
    )


class EmulatedTask:
    """One task. Owners (a service, or nobody for RunTask) hear of each state change."""

    def __init__(
        self,
        sim: Simulation,
        cluster: Cluster,
        task_definition: TaskDefinition,
        *,
        account_id: str,
        script: Script,
        started_by: str = "",
        group: str = "",
        launch_type: str | None = None,
        capacity_provider_name: str | None = None,
        platform_version: str | None = None,
        overrides: dict[str, Any] | None = None,
        tags: list[dict[str, str]] | None = None,
        network_configuration: dict[str, Any] | None = None,
        enable_execute_command: bool = False,
        target_group_arn: str | None = None,
        on_change: Callable[[EmulatedTask], None] | None = None,
    ) -> None:
        self._sim = sim
        self.id = uuid.uuid4().hex
        self.region_name = cluster.region_name
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.arn = f"arn:aws:ecs:{self.region_name}:{account_id}:task/{cluster.name}/{self.id}"
        self.task_definition = task_definition
        self.script = script
        self.started_by = started_by
        self.group = group or f"family:{task_definition.family}"
        self.launch_type = launch_type
        self.capacity_provider_name = capacity_provider_name
        self.fargate = launch_type == "FARGATE" or (capacity_provider_name or "").startswith("FARGATE")
        if self.fargate:
            version = platform_version if platform_version not in (None, "LATEST") else FARGATE_LINUX_LATEST
            self.platform_version: str | None = version
        else:
            self.platform_version = None
        self.overrides = overrides or {}
        self.tags = tags or []
        self.network_configuration = network_configuration
        self.enable_execute_command = enable_execute_command
        #: The target group the task registers in (the service's first load balancer).
        self.target_group_arn = target_group_arn
        self.port = 80
        self.on_change = on_change
        self.awsvpc = task_definition.network_mode == "awsvpc"

        self.last_status = "PROVISIONING" if self.awsvpc or self.fargate else "PENDING"
        self.desired_status = "RUNNING"
        self.health_status = "UNKNOWN"
        self.version = 1
        self.connectivity_at: datetime | None = None
        self.created_at: datetime = sim.now()
        self.pull_started_at: datetime | None = None
        self.pull_stopped_at: datetime | None = None
        self.started_at: datetime | None = None
        self.stopping_at: datetime | None = None
        self.execution_stopped_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self.stop_code: str | None = None
        self.stopped_reason: str | None = None
        #: How the task failed, until its owner has taken note: "start" (it never ran) or
        #: "health" (it failed its health checks).
        self.failure: str | None = None
        self.containers = [
            {
                "containerArn": f"arn:aws:ecs:{self.region_name}:{account_id}:container/{cluster.name}/{self.id}/{uuid.uuid4()}",
                "taskArn": self.arn,
                "name": c["name"],
                "image": c.get("image"),
                "lastStatus": "PENDING",
                "networkInterfaces": [],
                "healthStatus": "UNKNOWN",
                "cpu": str(c.get("cpu", 0)),
                **({"memory": str(c["memory"])} if c.get("memory") is not None else {}),
                **({"memoryReservation": str(c["memoryReservation"])} if c.get("memoryReservation") else {}),
                "_essential": c.get("essential", True),
            }
            for c in task_definition.container_definitions
        ]
        self.attachments: list[dict[str, Any]] = []
        if self.awsvpc:
            subnets = ((network_configuration or {}).get("awsvpcConfiguration") or {}).get("subnets") or [""]
            self.private_ip = random_private_ip()
            self.attachments.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "ElasticNetworkInterface",
                    "status": "PRECREATED",
                    "details": [
                        {"name": "subnetId", "value": subnets[0]},
                        {"name": "privateIPv4Address", "value": self.private_ip},
                    ],
                }
            )
        self._timer: Timer | None = None
        self._after(PROVISIONING_SECONDS if self.last_status == "PROVISIONING" else 0.0, self._pull)

    # --- the way up ----------------------------------------------------------------------------

    def _after(self, seconds: float, step: Callable[[], None]) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._sim.after(seconds, step)

    def _set(self, status: str) -> None:
        self.last_status = status
        # "version" counts the task's state changes (FACTS.md 4.1: 3 once RUNNING, 6 STOPPED).
        self.version += 1
        if self.on_change is not None:
            self.on_change(self)

    def _pull(self) -> None:
        if self.attachments:
            self.attachments[0]["status"] = "ATTACHED"
        self.connectivity_at = self._sim.now()
        self.pull_started_at = self._sim.now()
        self._set("PENDING")
        self._after(PULL_SECONDS, self._pulled)

    def _pulled(self) -> None:
        self.pull_stopped_at = self._sim.now()
        if self.script.unpullable_image is not None:
            reason = cannot_pull_reason(self.script.unpullable_image)
            for container in self.containers:
                if container["image"] == self.script.unpullable_image:
                    container["reason"] = reason
            self._fail("TaskFailedToStart", reason)
            return
        if self.script.exits is not None and self.script.run_seconds <= 0:
            # The essential container exits as it starts: the task never reaches RUNNING.
            self._exit()
        elif self.target_group_arn:
            self._after(STARTING_SECONDS, self._activating)
        else:
            self._after(STARTING_SECONDS, self._running)

    def _activating(self) -> None:
        """Registering with the load balancer (task lifecycle: ACTIVATING)."""
        self._set("ACTIVATING")
        self._after(ACTIVATING_SECONDS, self._running)

    def _running(self) -> None:
        self.started_at = self._sim.now()
        for container in self.containers:
            container["lastStatus"] = "RUNNING"
        self._set("RUNNING")
        if self.script.exits is not None:
            self._after(self.script.run_seconds, self._exit)
        elif self.checked:
            # Healthy after the first passing checks, unhealthy after the failing ones in a row;
            # until then UNKNOWN, and not yet counted as healthy by the service.
            healthy_after, unhealthy_after = self._verdict_delays()
            if self.script.unhealthy:
                self._after(unhealthy_after, self._unhealthy)
            else:
                self._after(healthy_after, self._healthy)

    @property
    def checked(self) -> bool:
        """Whether something judges the task's health: a container health check or a load
        balancer's target group."""
        return bool(self.target_group_arn) or self._has_health_check()

    def _verdict_delays(self) -> tuple[float, float]:
        """ECS seconds from RUNNING to the first healthy verdict, and to an unhealthy one."""
        if self.target_group_arn:
            interval, healthy, unhealthy = self._target_group_checks()
            return interval * healthy, interval * unhealthy
        checks = [c["healthCheck"] for c in self.task_definition.container_definitions if c.get("healthCheck")]
        interval = max(float(c.get("interval", CONTAINER_CHECK_INTERVAL)) for c in checks)
        retries = max(int(c.get("retries", CONTAINER_CHECK_RETRIES)) for c in checks)
        grace = max(float(c.get("startPeriod", 0)) for c in checks)
        return interval, grace + interval * retries

    def _target_group_checks(self) -> tuple[float, int, int]:
        from moto.elbv2.models import elbv2_backends

        account = self.arn.split(":")[4]
        group = elbv2_backends[account][self.region_name].target_groups.get(self.target_group_arn or "")
        if group is None:
            return TARGET_CHECK_INTERVAL, TARGET_HEALTHY_THRESHOLD, TARGET_UNHEALTHY_THRESHOLD
        return (
            float(group.health_check_interval_seconds or TARGET_CHECK_INTERVAL),
            int(group.healthy_threshold_count or TARGET_HEALTHY_THRESHOLD),
            int(group.unhealthy_threshold_count or TARGET_UNHEALTHY_THRESHOLD),
        )

    def _healthy(self) -> None:
        self.health_status = "HEALTHY"
        for container in self.containers:
            if self._container_has_health_check(container["name"]):
                container["healthStatus"] = "HEALTHY"
        if self.on_change is not None:
            self.on_change(self)

    def _has_health_check(self) -> bool:
        return any(self._container_has_health_check(c["name"]) for c in self.containers)

    def _container_has_health_check(self, name: str) -> bool:
        return any(
            c.get("name") == name and c.get("healthCheck") for c in self.task_definition.container_definitions
        )

    def _exit(self) -> None:
        assert self.script.exits is not None
        name, code = self.script.exits
        essential = False
        for container in self.containers:
            if container["name"] == name:
                container["exitCode"] = code
                container["lastStatus"] = "STOPPED"
                essential = bool(container["_essential"])
        if essential:
            self.execution_stopped_at = self._sim.now()
            # Stop code EssentialContainerExited, "Essential container in task exited" (FACTS.md 4.2).
            if self.started_at is None:
                self.failure = "start"
            self._stop("EssentialContainerExited", "Essential container in task exited")

    def _unhealthy(self) -> None:
        self.health_status = "UNHEALTHY"
        for container in self.containers:
            container["healthStatus"] = "UNHEALTHY"
        if self.target_group_arn:
            reason = f"Task failed ELB health checks in (target-group {self.target_group_arn})"
        else:
            reason = "Task failed container health checks"
        self.failure = "health"
        self._stop("ServiceSchedulerInitiated", reason)

    def _fail(self, stop_code: str, reason: str) -> None:
        """A task that never ran: straight to STOPPED (after deprovisioning its network)."""
        self.desired_status = "STOPPED"
        self.stop_code = stop_code
        self.stopped_reason = reason
        self.failure = "start"
        self.stopping_at = self._sim.now()
        for container in self.containers:
            container["lastStatus"] = "STOPPED"
        if self.awsvpc:
            self._set("DEPROVISIONING")
            self._after(DEPROVISIONING_SECONDS, self._stopped)
        else:
            self._stopped()

    # --- the way down --------------------------------------------------------------------------

    def stop(self, stop_code: str, reason: str) -> None:
        """Stops the task (StopTask, or the service scheduler), unless it is stopping already."""
        if self.desired_status == "STOPPED":
            return
        if self.last_status in ("PROVISIONING", "PENDING"):
            # Never started: nothing to drain.
            self.desired_status = "STOPPED"
            self.stop_code, self.stopped_reason = stop_code, reason
            self.stopping_at = self._sim.now()
            for container in self.containers:
                container["lastStatus"] = "STOPPED"
            self._set("DEPROVISIONING" if self.awsvpc else "STOPPING")
            self._after(DEPROVISIONING_SECONDS, self._stopped)
            return
        self._stop(stop_code, reason)

    def _stop(self, stop_code: str, reason: str) -> None:
        self.desired_status = "STOPPED"
        self.stop_code, self.stopped_reason = stop_code, reason
        self.stopping_at = self._sim.now()
        if self.target_group_arn and self.started_at is not None:
            self._set("DEACTIVATING")
            self._after(self._deregistration_delay() + DEACTIVATING_SECONDS, self._stopping)
        else:
            self._stopping()

    def _deregistration_delay(self) -> float:
        from moto.elbv2.models import elbv2_backends

        account = self.arn.split(":")[4]
        group = elbv2_backends[account][self.region_name].target_groups.get(self.target_group_arn or "")
        if group is None:
            return DEREGISTRATION_DELAY_SECONDS
        return float(group.attributes.get("deregistration_delay.timeout_seconds", DEREGISTRATION_DELAY_SECONDS))

    def _stopping(self) -> None:
        self._set("STOPPING")
        self._after(STOPPING_SECONDS, self._containers_stopped)

    def _containers_stopped(self) -> None:
        for container in self.containers:
            if container["lastStatus"] != "STOPPED":
                container["lastStatus"] = "STOPPED"
                # Containers stopped by ECS get SIGTERM; a well-behaved one exits 0, one that dies
                # of it 143, one killed after the stop timeout 137 (the script's sigterm_exit).
                # One that never started has no exit code.
                if self.started_at is not None:
                    container.setdefault("exitCode", self.script.sigterm_exit)
        if self.execution_stopped_at is None:
            self.execution_stopped_at = self._sim.now()
        if self.awsvpc:
            self._set("DEPROVISIONING")
            self._after(DEPROVISIONING_SECONDS, self._stopped)
        else:
            self._stopped()

    def _stopped(self) -> None:
        self.stopped_at = self._sim.now()
        if self.attachments:
            self.attachments[0]["status"] = "DELETED"
        self._timer = None
        self._set("STOPPED")

    # --- answers -------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Counted toward a service's tasks: not being stopped."""
        return self.desired_status == "RUNNING"

    def describe(self, include_tags: bool = False) -> dict[str, Any]:
        """The Task shape of DescribeTasks, RunTask and StopTask."""
        td = self.task_definition
        task: dict[str, Any] = {
            "taskArn": self.arn,
            "clusterArn": self.cluster_arn,
            "taskDefinitionArn": td.arn,
            "overrides": {"containerOverrides": [], "inferenceAcceleratorOverrides": [], **self.overrides},
            "lastStatus": self.last_status,
            "desiredStatus": self.desired_status,
            "cpu": td.cpu,
            "memory": td.memory,
            "containers": [{k: v for k, v in c.items() if not k.startswith("_")} for c in self.containers],
            "startedBy": self.started_by or None,
            "version": self.version,
            "stoppedReason": self.stopped_reason,
            "stopCode": self.stop_code,
            "connectivity": "CONNECTED" if self.connectivity_at else None,
            "connectivityAt": self.connectivity_at,
            "pullStartedAt": self.pull_started_at,
            "pullStoppedAt": self.pull_stopped_at,
            "executionStoppedAt": self.execution_stopped_at,
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "stoppingAt": self.stopping_at,
            "stoppedAt": self.stopped_at,
            "group": self.group,
            "launchType": self.launch_type,
            "capacityProviderName": self.capacity_provider_name,
            "platformVersion": self.platform_version,
            "platformFamily": "Linux" if self.fargate else None,
            "attachments": self.attachments,
            "healthStatus": self.health_status,
            "enableExecuteCommand": self.enable_execute_command,
            "availabilityZone": f"{self.region_name}a",
            "tags": self.tags if include_tags else [],
        }
        return {k: v for k, v in task.items() if v is not None}
