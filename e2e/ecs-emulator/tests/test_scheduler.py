"""EventBridge Scheduler behaviours moto lacks (ecs_emulator/scheduler.py). Each test names its
source in the EventBridge Scheduler API reference."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import client, unique

TARGET = {
    "Arn": "arn:aws:ecs:us-east-1:123456789012:cluster/apps",
    "RoleArn": "arn:aws:iam::123456789012:role/scheduler-run-task",
    "EcsParameters": {"TaskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/report:1"},
}


def create(scheduler: Any, name: str, **extra: Any) -> dict[str, Any]:
    return scheduler.create_schedule(
        Name=name,
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=TARGET,
        **extra,
    )


def test_a_create_repeated_with_its_client_token_answers_with_the_schedule(endpoint: str) -> None:
    """CreateSchedule ClientToken: "Unique, case-sensitive identifier you provide to ensure the
    idempotency of the request." The same request again is the same schedule, not a conflict;
    another token for an existing name is still a ConflictException."""
    scheduler = client(endpoint, "scheduler")
    name = unique("nightly")
    first = create(scheduler, name, ClientToken="uid-1")
    again = create(scheduler, name, ClientToken="uid-1")
    assert again["ScheduleArn"] == first["ScheduleArn"]
    with pytest.raises(ClientError) as error:
        create(scheduler, name, ClientToken="uid-2")
    assert error.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as error:
        create(scheduler, name)
    assert error.value.response["Error"]["Code"] == "ConflictException"


def test_a_create_in_a_missing_group_is_resource_not_found(endpoint: str) -> None:
    """CreateSchedule errors: ResourceNotFoundException ("The request references a resource
    which does not exist"), as GetSchedule answers for the same group."""
    scheduler = client(endpoint, "scheduler")
    with pytest.raises(ClientError) as error:
        create(scheduler, unique("nightly"), GroupName=unique("missing"))
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
