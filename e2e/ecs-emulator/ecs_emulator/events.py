"""ECS's service event messages, word for word.

Each message is the text real ECS writes into a service's `events` (sources in FACTS.md, section
1). ECS keeps the newest 100 events of a service, newest first, and omits a repeated message
"until either the cause is resolved or six hours passes" (developer guide, "Service event
messages"); the steady-state message repeats about every six hours.
"""

from __future__ import annotations

#: How many events ECS keeps per service.
MAX_EVENTS = 100
#: ECS seconds during which an identical message is not repeated, and between two steady-state
#: messages of a service that stays steady.
REPEAT_AFTER_SECONDS = 6 * 3600.0


def tasks_list(ids: list[str]) -> str:
    return " ".join(f"(task {task_id})" for task_id in ids)


def started(service: str, ids: list[str]) -> str:
    return f"(service {service}) has started {len(ids)} tasks: {tasks_list(ids)}."


def stopped(service: str, ids: list[str]) -> str:
    return f"(service {service}) has stopped {len(ids)} running tasks: {tasks_list(ids)}."


def steady_state(service: str) -> str:
    return f"(service {service}) has reached a steady state."


def deployment_completed(service: str, deployment: str) -> str:
    return f"(service {service}) (deployment {deployment}) deployment completed."


def deployment_failed(service: str, deployment: str, why: str = "tasks failed to start") -> str:
    """`why` is "tasks failed to start" for the circuit breaker, "hook execution failure(s)
    detected" for a lifecycle hook (aws/containers-roadmap#2664)."""
    return f"(service {service}) (deployment {deployment}) deployment failed: {why}."


def rolling_back(service: str, to: str) -> str:
    return f"(service {service}) rolling back to deployment {to}."


def replaced_unhealthy(service: str, ids: list[str], replaced: int) -> str:
    return f"{started(service, ids)} Amazon ECS replaced {replaced} tasks due to an unhealthy status."


def failed_container_health_checks(service: str, task: str) -> str:
    return f"(service {service}) (task {task}) failed container health checks."


def unhealthy_in_target_group(service: str, task: str, port: int, target_group: str) -> str:
    return (
        f"(service {service}) (task {task}) (port {port}) is unhealthy in (target-group {target_group}) "
        f"due to (reason Health checks failed)."
    )


def unable_to_place(service: str, reason: str) -> str:
    return (
        f"(service {service}) was unable to place a task because no container instance met all of its "
        f"requirements. Reason: {reason}. For more information, see the Troubleshooting section of the "
        f"Amazon ECS Developer Guide."
    )


def blocked_by_deployment_configuration(service: str) -> str:
    return (
        f"(service {service}) was unable to stop or start tasks during a deployment because of the service "
        f"deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again."
    )


def unable_to_start(service: str) -> str:
    return f"(service {service}) is unable to consistently start tasks successfully."


def registered_targets(service: str, count: int, target_group: str) -> str:
    return f"(service {service}) registered {count} targets in (target-group {target_group})"


def deregistered_targets(service: str, count: int, target_group: str) -> str:
    return f"(service {service}) deregistered {count} targets in (target-group {target_group})"


def draining(service: str, deployment: str, count: int) -> str:
    return f"(service {service}, taskSet {deployment}) has begun draining connections on {count} tasks."


# rolloutStateReason texts of a deployment.


def rollout_in_progress(deployment: str) -> str:
    return f"ECS deployment {deployment} in progress."


def rollout_completed(deployment: str) -> str:
    return f"ECS deployment {deployment} completed."


ROLLOUT_FAILED = "ECS deployment circuit breaker: tasks failed to start."


def rollout_rolling_back(to: str) -> str:
    return f"ECS deployment circuit breaker: rolling back to deploymentId {to}."
