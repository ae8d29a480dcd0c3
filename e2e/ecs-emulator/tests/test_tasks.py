"""RunTask, StopTask, DescribeTasks, ListTasks: the lifecycle, exit codes, idempotency."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import fargate_definition, unique, wait_until

NETWORK = "networkConfiguration"


def run(ecs: Any, cluster: str, definition: str, subnet: str, **extra: Any) -> list[dict[str, Any]]:
    return ecs.run_task(
        cluster=cluster,
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
        **extra,
    )["tasks"]


def stopped(ecs: Any, cluster: str, arns: list[str]) -> list[dict[str, Any]] | None:
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    return tasks if all(t["lastStatus"] == "STOPPED" for t in tasks) else None


def test_a_task_goes_through_ecs_lifecycle_and_exits_with_its_code(ecs: Any, subnet: str) -> None:
    """Task lifecycle (developer guide): PROVISIONING -> PENDING -> RUNNING -> ... -> STOPPED,
    with createdAt <= pullStartedAt <= pullStoppedAt <= startedAt <= stoppingAt <= stoppedAt; an
    essential container exiting stops the task: EssentialContainerExited, "Essential container
    in task exited", its exitCode (FACTS.md 4). Overrides set the exit code per run; RunTask
    tasks are in group "family:<family>"."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("job")
    definition = fargate_definition(ecs, family)
    overrides = {"containerOverrides": [{"name": "web", "environment": [
        {"name": "ECS_EMULATOR_EXIT_CODE", "value": "3"}, {"name": "ECS_EMULATOR_RUN_SECONDS", "value": "30"}]}]}
    tasks = run(ecs, cluster, definition, subnet, count=10, overrides=overrides, startedBy="batch-7")
    assert len(tasks) == 10
    first = tasks[0]
    assert (first["lastStatus"], first["desiredStatus"], first["group"]) == ("PROVISIONING", "RUNNING", f"family:{family}")
    assert first["platformVersion"] == "1.4.0" and first["startedBy"] == "batch-7"
    seen: set[str] = set()

    def watch() -> list[dict[str, Any]] | None:
        described = ecs.describe_tasks(cluster=cluster, tasks=[t["taskArn"] for t in tasks])["tasks"]
        seen.add(described[0]["lastStatus"])
        return described if all(t["lastStatus"] == "STOPPED" for t in described) else None

    done = wait_until(watch, what="all stopped")
    assert {"PENDING", "RUNNING"} <= seen
    task = done[0]
    assert (task["stopCode"], task["stoppedReason"]) == ("EssentialContainerExited", "Essential container in task exited")
    assert task["containers"][0]["exitCode"] == 3 and task["desiredStatus"] == "STOPPED"
    order = ["createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "executionStoppedAt", "stoppingAt", "stoppedAt"]
    moments = [task[k] for k in order]
    assert moments[:4] == sorted(moments[:4]) and moments[3] <= moments[5] <= moments[6]
    assert ecs.list_tasks(cluster=cluster, startedBy="batch-7")["taskArns"] == []  # RUNNING by default
    assert len(ecs.list_tasks(cluster=cluster, startedBy="batch-7", desiredStatus="STOPPED")["taskArns"]) == 10


def test_stop_task_is_user_initiated(ecs: Any, subnet: str) -> None:
    """StopTask: stop code UserInitiated, the reason given, or "Task stopped by user" (FACTS.md 4.2)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("svc"))
    a, b = run(ecs, cluster, definition, subnet, count=2)
    wait_until(lambda: all(t["lastStatus"] == "RUNNING" for t in ecs.describe_tasks(cluster=cluster, tasks=[a["taskArn"], b["taskArn"]])["tasks"]))
    answer = ecs.stop_task(cluster=cluster, task=a["taskArn"], reason="Deleted by EcsTask demo/migrate")["task"]
    assert (answer["desiredStatus"], answer["stopCode"]) == ("STOPPED", "UserInitiated")
    ecs.stop_task(cluster=cluster, task=b["taskArn"].split("/")[-1])
    done = wait_until(lambda: stopped(ecs, cluster, [a["taskArn"], b["taskArn"]]))
    assert [t["stoppedReason"] for t in done] == ["Deleted by EcsTask demo/migrate", "Task stopped by user"]


def test_stopped_containers_exit_as_their_sigterm_handling_says(ecs: Any, subnet: str) -> None:
    """StopTask is "the equivalent of docker stop": SIGTERM, then SIGKILL after the timeout
    (StopTask API reference). A container exits 0 when it handles SIGTERM (the default), or with
    the code ECS_EMULATOR_SIGTERM_EXIT_CODE sets (143: it died of the signal)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("svc"))
    dies = {"containerOverrides": [{"name": "web", "environment": [
        {"name": "ECS_EMULATOR_SIGTERM_EXIT_CODE", "value": "143"}]}]}
    (clean,) = run(ecs, cluster, definition, subnet)
    (killed,) = run(ecs, cluster, definition, subnet, overrides=dies)
    arns = [clean["taskArn"], killed["taskArn"]]
    wait_until(lambda: all(t["lastStatus"] == "RUNNING" for t in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]))
    for arn in arns:
        ecs.stop_task(cluster=cluster, task=arn, reason="deleted with EcsTask demo/batch")
    done = wait_until(lambda: stopped(ecs, cluster, arns))
    assert [t["containers"][0]["exitCode"] for t in done] == [0, 143]
    assert {t["stopCode"] for t in done} == {"UserInitiated"}


def test_run_task_client_token_is_idempotent(ecs: Any, subnet: str) -> None:
    """Ensuring idempotency (API reference): the same token and parameters return the same
    tasks; different parameters with the same token are a ConflictException."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("job"))
    first = run(ecs, cluster, definition, subnet, count=2, clientToken="run-1")
    again = run(ecs, cluster, definition, subnet, count=2, clientToken="run-1")
    assert [t["taskArn"] for t in again] == [t["taskArn"] for t in first]
    assert len(ecs.list_tasks(cluster=cluster)["taskArns"]) == 2
    with pytest.raises(ClientError) as conflict:
        run(ecs, cluster, definition, subnet, count=3, clientToken="run-1")
    assert conflict.value.response["Error"]["Code"] == "ConflictException"


def test_describe_tasks_reports_unknown_tasks_as_missing(ecs: Any) -> None:
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    answer = ecs.describe_tasks(cluster=cluster, tasks=["0123456789abcdef0123456789abcdef"])
    assert answer["tasks"] == [] and answer["failures"][0]["reason"] == "MISSING"


def test_admin_failures_apply_to_a_family(ecs: Any, subnet: str, admin: Any) -> None:
    """`POST /_emulator/task-failures`: every new task of the family fails as asked."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("flaky")
    definition = fargate_definition(ecs, family)
    admin("POST", "task-failures", {"family": family, "mode": "cannot-pull"})
    try:
        (task,) = run(ecs, cluster, definition, subnet)
        (done,) = wait_until(lambda: stopped(ecs, cluster, [task["taskArn"]]))
        assert done["stopCode"] == "TaskFailedToStart" and done["stoppedReason"].startswith("CannotPullContainerError")
    finally:
        admin("DELETE", "task-failures")
