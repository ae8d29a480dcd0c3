"""EventBridge Scheduler, where moto's differs from the real API in what ecs-operator relies on
(everything else of the Scheduler is moto's own, passed straight through).

- CreateSchedule's ClientToken: "Unique, case-sensitive identifier you provide to ensure the
  idempotency of the request" (CreateSchedule, EventBridge Scheduler API reference,
  https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html). moto
  ignores it, so a create repeated after a lost answer fails with ConflictException; here the
  request that repeats the token of the one that created the schedule gets that schedule's ARN.
- CreateSchedule in a schedule group that does not exist: ResourceNotFoundException, as
  GetSchedule answers for it (ResourceNotFoundException is in CreateSchedule's errors); moto
  fails with an internal error (a KeyError).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from moto.scheduler.exceptions import ScheduleGroupNotFound
from moto.scheduler.responses import EventBridgeSchedulerResponse

_ORIGINAL: dict[str, Callable[..., Any]] = {}


def create_schedule(self: EventBridgeSchedulerResponse) -> str:
    token = self._get_param("ClientToken")
    group_name = self._get_param("GroupName") or "default"
    name = self.uri.split("?")[0].split("/")[-1]
    backend = self.scheduler_backend
    group = backend.schedule_groups.get(group_name)
    if group is None:
        raise ScheduleGroupNotFound(group_name)
    existing = group.schedules.get(name)
    if existing is not None and token and getattr(existing, "client_token", None) == token:
        return json.dumps({"ScheduleArn": existing.arn})
    answer = _ORIGINAL["create_schedule"](self)
    group.schedules[name].client_token = token
    return answer


def install() -> None:
    """Puts the handlers on moto's Scheduler response class (once)."""
    if "create_schedule" not in _ORIGINAL:
        _ORIGINAL["create_schedule"] = EventBridgeSchedulerResponse.create_schedule
        EventBridgeSchedulerResponse.create_schedule = create_schedule  # type: ignore[method-assign]
