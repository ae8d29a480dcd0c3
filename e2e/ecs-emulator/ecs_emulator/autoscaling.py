"""Application Auto Scaling for ECS services, where moto's differs from the real API in what
ecs-operator relies on (everything else is moto's own, passed straight through; FACTS.md 8b).

- RegisterScalableTarget of a new target brings the service's desiredCount into the range:
  "When you register a new scalable target, you must specify values for the minimum and maximum
  capacity. If the specified resource is not active in the target service, this operation does
  not change the resource's current capacity. Otherwise, it changes the resource's current
  capacity to a value that is inside of this range." (RegisterScalableTarget, Application Auto
  Scaling API reference,
  https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html).
  moto records the target and leaves the count alone.
- DeregisterScalableTarget deletes the target's scaling policies (and their alarms) and its
  scheduled actions: "If a scalable target is deregistered, the scalable target is no longer
  available to use scaling policies. Any scaling policies that were specified for the scalable
  target are deleted." (PutScalingPolicy) and "Deregistering a scalable target deletes the
  scaling policies and the scheduled actions that are associated with it."
  (DeregisterScalableTarget). moto keeps them.
- `scale()` (admin `POST /_emulator/scaling-activity`) is a scaling activity: Application Auto
  Scaling sets the service's desiredCount within the target's range, as a policy or a scheduled
  action would ("At the scheduled time, if the current capacity is below the minimum capacity,
  Application Auto Scaling scales out to the minimum capacity. If the current capacity is above
  the maximum capacity, Application Auto Scaling scales in to the maximum capacity.",
  PutScheduledAction ScalableTargetAction). The emulator runs no policies or schedules itself.
"""

from __future__ import annotations

from typing import Any, Callable

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, applicationautoscaling_backends

_ORIGINAL: dict[str, Callable[..., Any]] = {}

#: The scalable dimension of an ECS service's task count.
ECS_DIMENSION = "ecs:service:DesiredCount"


def _service_of(backend: ApplicationAutoscalingBackend, resource_id: str) -> Any:
    """The emulated ECS service of `service/<cluster>/<name>`, or None."""
    parts = resource_id.split("/")
    if len(parts) != 3 or parts[0] != "service":
        return None
    try:
        return backend.ecs_backend._service(parts[1], parts[2])
    except Exception:  # noqa: BLE001 - no such cluster or service
        return None


def _set_count(backend: ApplicationAutoscalingBackend, resource_id: str, count: int) -> None:
    service = _service_of(backend, resource_id)
    if service is None or service.status != "ACTIVE" or service.desired_count == count:
        return
    _, cluster, name = resource_id.split("/")
    backend.ecs_backend.update_service_from({"cluster": cluster, "service": name, "desiredCount": count})


def register_scalable_target(self: ApplicationAutoscalingBackend, namespace: str, r_id: str, dimension: str, min_capacity: int | None, max_capacity: int | None, role_arn: str, suspended_state: str) -> Any:
    new = not self._scalable_target_exists(r_id, dimension)
    target = _ORIGINAL["register_scalable_target"](self, namespace, r_id, dimension, min_capacity, max_capacity, role_arn, suspended_state)
    if new and namespace == "ecs" and dimension == ECS_DIMENSION:
        service = _service_of(self, r_id)
        if service is not None:
            count = service.desired_count
            _set_count(self, r_id, _clamp(count, target.min_capacity, target.max_capacity))
    return target


def deregister_scalable_target(self: ApplicationAutoscalingBackend, namespace: str, r_id: str, dimension: str) -> None:
    _ORIGINAL["deregister_scalable_target"](self, namespace, r_id, dimension)
    for key, policy in list(self.policies.items()):
        if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (namespace, r_id, dimension):
            policy.delete_alarms(self.account_id, self.region_name)
            del self.policies[key]
    self.scheduled_actions = [
        a
        for a in self.scheduled_actions
        if (a.service_namespace, a.resource_id, a.scalable_dimension) != (namespace, r_id, dimension)
    ]


def _clamp(count: int, low: int | None, high: int | None) -> int:
    if low is not None:
        count = max(count, low)
    if high is not None:
        count = min(count, high)
    return count


def scale(account: str, region: str, cluster: str, service: str, desired_count: int) -> dict[str, Any]:
    """A scaling activity on a registered ECS service target: its desiredCount set to
    `desired_count` brought into [minCapacity, maxCapacity]. ValueError without a target."""
    backend = applicationautoscaling_backends[account][region]
    resource_id = f"service/{cluster}/{service}"
    target = backend.targets.get(ECS_DIMENSION, {}).get(resource_id)
    if target is None:
        raise ValueError(f"no scalable target for {resource_id} in {region}: Application Auto Scaling does not scale it")
    count = _clamp(desired_count, target.min_capacity, target.max_capacity)
    _set_count(backend, resource_id, count)
    return {"resourceId": resource_id, "desiredCount": count}


def install() -> None:
    """Puts the behaviours on moto's Application Auto Scaling backend class (once)."""
    if "register_scalable_target" not in _ORIGINAL:
        _ORIGINAL["register_scalable_target"] = ApplicationAutoscalingBackend.register_scalable_target
        _ORIGINAL["deregister_scalable_target"] = ApplicationAutoscalingBackend.deregister_scalable_target
        ApplicationAutoscalingBackend.register_scalable_target = register_scalable_target  # type: ignore[method-assign]
        ApplicationAutoscalingBackend.deregister_scalable_target = deregister_scalable_target  # type: ignore[method-assign]
