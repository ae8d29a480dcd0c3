"""Services: rollouts, the circuit breaker, events, create and delete rules. Each test names the
ECS documentation or real output (FACTS.md section) it pins."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import client, completed, describe, fargate_definition, fargate_service, messages, unique, wait_until


def test_a_new_service_rolls_out_and_reports_it_in_ecs_words(ecs: Any, subnet: str) -> None:
    """FACTS.md 2.1 (the CreateService response shows the new PRIMARY deployment with desiredCount
    0, IN_PROGRESS, "ECS deployment <id> in progress.") and 1.2/1.3 (started, deployment
    completed, steady state, newest first)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("web"))
    created = fargate_service(ecs, cluster, "web", definition, subnet, count=2)
    first = created["deployments"][0]
    assert (first["status"], first["desiredCount"], first["rolloutState"]) == ("PRIMARY", 0, "IN_PROGRESS")
    assert first["rolloutStateReason"] == f"ECS deployment {first['id']} in progress."
    assert created["runningCount"] == 0 and created["events"] == []

    pending = wait_until(lambda: (s := describe(ecs, cluster, "web"))["pendingCount"] == 2 and s, what="2 pending")
    assert pending["deployments"][0]["desiredCount"] == 2
    assert pending["deployments"][0]["rolloutState"] == "IN_PROGRESS"

    done = wait_until(completed(ecs, cluster, "web"), what="COMPLETED")
    deployment = done["deployments"][0]
    assert (done["runningCount"], done["pendingCount"], deployment["runningCount"]) == (2, 0, 2)
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."
    said = messages(done)
    assert said[0] == "(service web) has reached a steady state."
    assert said[1] == f"(service web) (deployment {deployment['id']}) deployment completed."
    assert said[2].startswith("(service web) has started 2 tasks: (task ")
    times = [e["createdAt"] for e in done["events"]]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)


def test_a_new_revision_replaces_tasks_within_the_deployment_percentages(ecs: Any, subnet: str) -> None:
    """DeploymentConfiguration (API reference): at most floor(desired x maximumPercent) tasks
    RUNNING or PENDING, at least ceil(desired x minimumHealthyPercent) RUNNING; replaced tasks
    stop with ServiceSchedulerInitiated, "Scaling activity initiated by (deployment ...)"
    (FACTS.md 4.2)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    v1 = fargate_definition(ecs, family)
    fargate_service(ecs, cluster, "web", v1, subnet, count=4,
                    deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50})
    before = wait_until(completed(ecs, cluster, "web"), what="first rollout")
    old_id = before["deployments"][0]["id"]
    v2 = fargate_definition(ecs, family, image="nginx:1.28")
    updated = ecs.update_service(cluster=cluster, service="web", taskDefinition=v2)["service"]
    assert [d["status"] for d in updated["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert updated["deployments"][0]["desiredCount"] == 0

    peak_total, least_running = 0, 4
    def check() -> dict[str, Any] | None:
        nonlocal peak_total, least_running
        service = describe(ecs, cluster, "web")
        peak_total = max(peak_total, service["runningCount"] + service["pendingCount"])
        least_running = min(least_running, service["runningCount"])
        return completed(ecs, cluster, "web")()
    done = wait_until(check, what="second rollout")
    assert peak_total <= 6 and least_running >= 2
    assert done["taskDefinition"] == v2 and done["deployments"][0]["taskDefinition"] == v2
    stopped = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    old = [t for t in ecs.describe_tasks(cluster=cluster, tasks=stopped)["tasks"] if t["startedBy"] == old_id]
    assert len(old) == 4
    assert {(t["stopCode"], t["stoppedReason"]) for t in old} == {
        ("ServiceSchedulerInitiated", f"Scaling activity initiated by (deployment {old_id})")
    }


def test_the_circuit_breaker_fails_the_deployment_and_rolls_back(ecs: Any, subnet: str) -> None:
    """ServiceDeploymentCircuitBreaker: threshold max(3, ceil(0.5 x desired)); FAILED with "ECS
    deployment circuit breaker: tasks failed to start."; the rollback deployment carries the id
    it rolls back to and "rolling back to deploymentId" (FACTS.md 2.2, 2.4); events 1.2; an
    unpullable image stops with TaskFailedToStart and CannotPullContainerError (4.2)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    good = fargate_definition(ecs, family)
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    fargate_service(ecs, cluster, "web", good, subnet, count=2, deploymentConfiguration=breaker)
    good_id = wait_until(completed(ecs, cluster, "web"))["deployments"][0]["id"]
    bad = fargate_definition(ecs, family, image="registry.invalid/web:broken")
    bad_id = ecs.update_service(cluster=cluster, service="web", taskDefinition=bad)["service"]["deployments"][0]["id"]

    failed = wait_until(
        lambda: next((d for d in describe(ecs, cluster, "web")["deployments"] if d["id"] == bad_id and d["rolloutState"] == "FAILED"), None),
        what="FAILED",
    )
    assert failed["failedTasks"] == 3 and failed["status"] == "ACTIVE"
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    rolling = describe(ecs, cluster, "web")
    assert rolling["taskDefinition"] == good
    back = rolling["deployments"][0]
    assert (back["id"], back["taskDefinition"]) == (good_id, good)
    assert back["rolloutStateReason"] in (
        f"ECS deployment circuit breaker: rolling back to deploymentId {good_id}.",
        f"ECS deployment {good_id} completed.",
    )
    done = wait_until(completed(ecs, cluster, "web"), what="rollback completed")
    assert done["deployments"][0]["id"] == good_id
    said = messages(done)
    assert f"(service web) (deployment {bad_id}) deployment failed: tasks failed to start." in said
    assert f"(service web) rolling back to deployment {good_id}." in said
    assert said.index(f"(service web) rolling back to deployment {good_id}.") < said.index(
        f"(service web) (deployment {bad_id}) deployment failed: tasks failed to start."
    )
    stopped = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"])["tasks"]
    failures = [t for t in stopped if t["startedBy"] == bad_id]
    assert failures and all(t["stopCode"] == "TaskFailedToStart" for t in failures)
    assert failures[0]["stoppedReason"].startswith(
        "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref registry.invalid/web:broken"
    )
    assert failures[0]["containers"][0]["reason"] == failures[0]["stoppedReason"]


def test_without_rollback_a_failed_deployment_launches_nothing(ecs: Any, subnet: str) -> None:
    """API reference, Deployment: "A deployment in FAILED state doesn't launch any new tasks."
    An essential container exiting as it starts counts as a task failing to start."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    crash = fargate_definition(ecs, unique("crash"), environment=[{"name": "ECS_EMULATOR_EXIT_CODE", "value": "1"}])
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}
    fargate_service(ecs, cluster, "web", crash, subnet, count=1, deploymentConfiguration=breaker)
    failed = wait_until(lambda: (d := describe(ecs, cluster, "web")["deployments"][0])["rolloutState"] == "FAILED" and d)
    assert failed["status"] == "PRIMARY" and failed["failedTasks"] == 3
    stopped = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"])["tasks"]
    assert {(t["stopCode"], t["stoppedReason"], t["containers"][0]["exitCode"]) for t in stopped} == {
        ("EssentialContainerExited", "Essential container in task exited", 1)
    }
    launched = len(stopped)
    wait_until(lambda: not ecs.list_tasks(cluster=cluster)["taskArns"], what="no task running")
    assert len(ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]) == launched


def test_without_a_breaker_failing_tasks_are_retried_ever_more_slowly(ecs: Any, subnet: str) -> None:
    """Service throttle logic (developer guide): repeated failures to start slow the restarts,
    with the event "is unable to consistently start tasks successfully" written once."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    bad = fargate_definition(ecs, unique("bad"), image="registry.invalid/web:1")
    fargate_service(ecs, cluster, "web", bad, subnet, count=1)
    service = wait_until(lambda: (s := describe(ecs, cluster, "web"))["deployments"][0]["failedTasks"] >= 4 and s, timeout=30)
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    throttle = [m for m in messages(service) if "is unable to consistently start tasks successfully" in m]
    assert throttle == ["(service web) is unable to consistently start tasks successfully."]


def test_create_service_rules(ecs: Any, subnet: str) -> None:
    """FACTS.md 5: an ACTIVE name is refused ("Creation of service was not idempotent."), the
    same clientToken with the same parameters returns the service, a DRAINING name is refused
    ("Unable to Start a service that is still Draining."), an INACTIVE name is created anew."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("web"))
    first = fargate_service(ecs, cluster, "web", definition, subnet, count=0, clientToken="token-1")
    again = fargate_service(ecs, cluster, "web", definition, subnet, count=0, clientToken="token-1")
    assert again["serviceArn"] == first["serviceArn"]
    assert again["deployments"][0]["id"] == first["deployments"][0]["id"]
    for token in ("token-2", None):
        with pytest.raises(ClientError) as refused:
            fargate_service(ecs, cluster, "web", definition, subnet, count=0, **({"clientToken": token} if token else {}))
        assert refused.value.response["Error"] == {"Code": "InvalidParameterException", "Message": "Creation of service was not idempotent."}



def target_group(endpoint: str, subnet: str, delay: int = 300) -> str:
    """A target group behind an application load balancer (ECS refuses one without)."""
    elb = client(endpoint, "elbv2")
    ec2 = client(endpoint, "ec2")
    vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc][:2]
    balancer = elb.create_load_balancer(Name=unique("lb"), Subnets=subnets, Type="application")["LoadBalancers"][0]
    group = elb.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])
    elb.modify_target_group_attributes(TargetGroupArn=group["TargetGroupArn"],
                                       Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}])
    return group["TargetGroupArn"]


def test_a_target_group_needs_a_load_balancer(ecs: Any, endpoint: str, subnet: str) -> None:
    """FACTS.md (services): "The target group with targetGroupArn ... does not have an associated
    load balancer." """
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("web"))
    elb, ec2 = client(endpoint, "elbv2"), client(endpoint, "ec2")
    vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    lonely = elb.create_target_group(Name=unique("tg"), Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    with pytest.raises(ClientError) as refused:
        fargate_service(ecs, cluster, "web", definition, subnet, count=1,
                        loadBalancers=[{"targetGroupArn": lonely, "containerName": "web", "containerPort": 80}])
    assert refused.value.response["Error"]["Message"] == (
        f"The target group with targetGroupArn {lonely} does not have an associated load balancer."
    )


def test_a_deployment_the_percentages_block_says_so(ecs: Any, subnet: str) -> None:
    """Service event messages (developer guide): "(service <svc>) was unable to stop or start
    tasks during a deployment because of the service deployment configuration. ..." (1 task,
    maximum 100%: nothing may start; minimum 100%: nothing may stop)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    fargate_service(ecs, cluster, "web", fargate_definition(ecs, family), subnet, count=1,
                    deploymentConfiguration={"maximumPercent": 100, "minimumHealthyPercent": 100})
    wait_until(completed(ecs, cluster, "web"))
    ecs.update_service(cluster=cluster, service="web", taskDefinition=fargate_definition(ecs, family, image="nginx:1.28"))
    blocked = (
        "(service web) was unable to stop or start tasks during a deployment because of the service deployment "
        "configuration. Update the minimumHealthyPercent or maximumPercent value and try again."
    )
    def check() -> dict[str, Any] | None:
        service = describe(ecs, cluster, "web")
        return service if blocked in messages(service) else None

    service = wait_until(check, what="the blocked deployment event")
    assert [d["rolloutState"] for d in service["deployments"]] == ["IN_PROGRESS", "COMPLETED"]


def test_a_deleted_service_drains_then_stays_describable_as_inactive(ecs: Any, endpoint: str, subnet: str) -> None:
    """DeleteService (API reference): refused above 0 without force ("The service cannot be
    stopped while it is scaled above 0."); DRAINING until its tasks are STOPPING or STOPPED (a
    load-balanced task first waits out the target group's deregistration delay), then INACTIVE,
    still described but no longer listed; meanwhile the name cannot be reused ("Unable to Start
    a service that is still Draining.", FACTS.md 5) nor the service updated ("Service was not
    ACTIVE."); once INACTIVE a new service takes the name."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("web"))
    balancer = [{"targetGroupArn": target_group(endpoint, subnet), "containerName": "web", "containerPort": 80}]
    first = fargate_service(ecs, cluster, "web", definition, subnet, count=1, loadBalancers=balancer)
    wait_until(completed(ecs, cluster, "web"))
    with pytest.raises(ClientError) as scaled:
        ecs.delete_service(cluster=cluster, service="web")
    assert scaled.value.response["Error"]["Message"] == "The service cannot be stopped while it is scaled above 0."
    deleted = ecs.delete_service(cluster=cluster, service="web", force=True)["service"]
    assert deleted["status"] == "DRAINING"
    with pytest.raises(ClientError) as draining:
        fargate_service(ecs, cluster, "web", definition, subnet, count=0)
    assert draining.value.response["Error"]["Message"] == "Unable to Start a service that is still Draining."
    with pytest.raises(ClientError) as inactive_update:
        ecs.update_service(cluster=cluster, service="web", desiredCount=2)
    assert inactive_update.value.response["Error"] == {"Code": "ServiceNotActiveException", "Message": "Service was not ACTIVE."}
    assert ecs.list_services(cluster=cluster)["serviceArns"] == []
    gone = wait_until(lambda: (s := describe(ecs, cluster, "web"))["status"] == "INACTIVE" and s, what="INACTIVE")
    assert gone["deployments"] == []
    renewed = fargate_service(ecs, cluster, "web", definition, subnet, count=0)
    assert renewed["status"] == "ACTIVE" and renewed["deployments"][0]["id"] != first["deployments"][0]["id"]


def test_a_client_token_keeps_answering_with_its_service_after_delete(ecs: Any, subnet: str) -> None:
    """"If you retry a request that completed successfully using the same client token and the
    same parameters, the retry succeeds without performing any further actions" (Ensuring
    idempotency): the token of a deleted service still answers with it (INACTIVE) while ECS
    remembers it; a new token creates a new service under the name."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("web"))
    first = fargate_service(ecs, cluster, "web", definition, subnet, count=0, clientToken="once")
    ecs.delete_service(cluster=cluster, service="web")
    wait_until(lambda: describe(ecs, cluster, "web")["status"] == "INACTIVE", what="INACTIVE")
    retried = fargate_service(ecs, cluster, "web", definition, subnet, count=0, clientToken="once")
    assert (retried["status"], retried["createdAt"]) == ("INACTIVE", first["createdAt"])
    renewed = fargate_service(ecs, cluster, "web", definition, subnet, count=0, clientToken="twice")
    assert renewed["status"] == "ACTIVE" and renewed["createdAt"] > first["createdAt"]


def test_describe_services_reports_unknown_services_as_missing(ecs: Any) -> None:
    """aws-sdk-core-ruby#221: HTTP 200, failures [{"arn", "reason": "MISSING"}]."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    answer = ecs.describe_services(cluster=cluster, services=["nope"])
    assert answer["services"] == []
    assert answer["failures"] == [{"arn": f"arn:aws:ecs:us-east-1:123456789012:service/{cluster}/nope", "reason": "MISSING"}]


def test_ec2_tasks_need_container_instances(ecs: Any, admin: Any) -> None:
    """FACTS.md 1.2: "(service <svc>) was unable to place a task because no container instance
    met all of its requirements. Reason: No Container Instances were found in your cluster. ..."
    written once while the cause lasts (duplicates omitted for six hours, 1.1)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("worker")
    ecs.register_task_definition(family=family, containerDefinitions=[{"name": "w", "image": "busybox", "memory": 128}])
    ecs.create_service(cluster=cluster, serviceName="worker", taskDefinition=family, desiredCount=1, launchType="EC2")
    problem = (
        "(service worker) was unable to place a task because no container instance met all of its requirements. "
        "Reason: No Container Instances were found in your cluster. For more information, see the "
        "Troubleshooting section of the Amazon ECS Developer Guide."
    )
    waiting = wait_until(lambda: (s := describe(ecs, cluster, "worker"))["events"] and s)
    assert messages(waiting) == [problem]
    with pytest.raises(ClientError) as refused:
        ecs.run_task(cluster=cluster, taskDefinition=family, launchType="EC2")
    assert refused.value.response["Error"]["Message"] == "No Container Instances were found in your cluster."
    admin("POST", "container-instances", {"cluster": cluster, "count": 1})
    done = wait_until(completed(ecs, cluster, "worker"), what="placed once an instance joined")
    assert messages(done).count(problem) == 1


def test_a_service_without_launch_type_uses_the_cluster_default_strategy(ecs: Any, subnet: str) -> None:
    """CreateService: "If no capacityProviderStrategy or launchType is specified, the
    defaultCapacityProviderStrategy for the cluster is used"; items come back with base 0
    (terraform-provider-aws#29143), no launchType key (boto/boto3#2845)."""
    cluster = unique("c")
    ecs.create_cluster(
        clusterName=cluster,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
    )
    definition = fargate_definition(ecs, unique("web"))
    ecs.create_service(
        cluster=cluster, serviceName="web", taskDefinition=definition, desiredCount=1,
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )
    service = wait_until(completed(ecs, cluster, "web"))
    assert service["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    assert "launchType" not in service
    assert service["platformVersion"] == "LATEST" and service["deployments"][0]["platformVersion"] == "1.4.0"


def test_the_service_deployments_api(ecs: Any, subnet: str) -> None:
    """API reference: ListServiceDeployments, DescribeServiceDeployments (statuses, target
    revision, circuit breaker block), StopServiceDeployment ROLLBACK; revision ARNs end in the
    deployment's digits (FACTS.md 3)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    v1 = fargate_definition(ecs, family)
    fargate_service(ecs, cluster, "web", v1, subnet, count=1)
    first = wait_until(completed(ecs, cluster, "web"))
    listed = ecs.list_service_deployments(cluster=cluster, service="web")["serviceDeployments"]
    assert [d["status"] for d in listed] == ["SUCCESSFUL"]
    assert listed[0]["targetServiceRevisionArn"].endswith("/" + first["deployments"][0]["id"].split("/")[1])
    assert first["currentServiceDeployment"] == listed[0]["serviceDeploymentArn"]

    v2 = fargate_definition(ecs, family, image="nginx:1.28")
    ecs.update_service(cluster=cluster, service="web", taskDefinition=v2)
    newest = ecs.list_service_deployments(cluster=cluster, service="web")["serviceDeployments"][0]
    assert newest["status"] == "IN_PROGRESS"
    ecs.stop_service_deployment(serviceDeploymentArn=newest["serviceDeploymentArn"], stopType="ROLLBACK")
    done = wait_until(completed(ecs, cluster, "web"), what="rolled back")
    assert done["taskDefinition"] == v1
    detail = ecs.describe_service_deployments(serviceDeploymentArns=[newest["serviceDeploymentArn"]])["serviceDeployments"][0]
    assert detail["status"] == "ROLLBACK_SUCCESSFUL"
    assert detail["rollback"]["serviceRevisionArn"] == listed[0]["targetServiceRevisionArn"]
    assert detail["deploymentCircuitBreaker"] == {"status": "DISABLED", "failureCount": 0, "threshold": 3}
    revisions = ecs.describe_service_revisions(serviceRevisionArns=[listed[0]["targetServiceRevisionArn"]])["serviceRevisions"]
    assert revisions[0]["taskDefinition"] == v1
    assert revisions[0]["containerImages"] == [{"containerName": "web", "image": "nginx:1.27"}]


def test_a_cluster_with_services_cannot_be_deleted(ecs: Any, subnet: str) -> None:
    """DeleteCluster (API reference): ClusterContainsServicesException while services remain;
    counts come from what runs."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    fargate_service(ecs, cluster, "web", fargate_definition(ecs, unique("web")), subnet, count=1)
    wait_until(completed(ecs, cluster, "web"))
    described = ecs.describe_clusters(clusters=[cluster])["clusters"][0]
    assert (described["activeServicesCount"], described["runningTasksCount"]) == (1, 1)
    with pytest.raises(ClientError) as refused:
        ecs.delete_cluster(cluster=cluster)
    assert refused.value.response["Error"]["Code"] == "ClusterContainsServicesException"


def test_events_are_capped_at_100(ecs: Any, subnet: str, admin: Any) -> None:
    """Service.events: "A maximum of 100 of the latest events are displayed." (API reference)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    fargate_service(ecs, cluster, "web", fargate_definition(ecs, unique("web")), subnet, count=1)
    wait_until(completed(ecs, cluster, "web"))
    speed = admin("GET", "config")["speed"]
    admin("POST", "config", {"speed": speed * 10})
    try:
        for count in range(2, 80):
            ecs.update_service(cluster=cluster, service="web", desiredCount=count % 2)
            wait_until(lambda: (s := describe(ecs, cluster, "web"))["runningCount"] == count % 2 and not s["pendingCount"])
    finally:
        admin("POST", "config", {"speed": speed})
    said = messages(describe(ecs, cluster, "web"))
    assert len(said) == 100 and said[0] == "(service web) has reached a steady state."
    assert said[1].startswith("(service web) has started 1 tasks")  # the last change scaled to 1


def test_a_daemon_service_runs_one_task_per_instance(ecs: Any, admin: Any) -> None:
    """DAEMON: "one task on each active container instance"; the service reports that as its
    desired count (API reference, CreateService schedulingStrategy)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    admin("POST", "container-instances", {"cluster": cluster, "count": 2})
    family = unique("agent")
    ecs.register_task_definition(family=family, networkMode="host", containerDefinitions=[{"name": "a", "image": "busybox", "memory": 64}])
    ecs.create_service(cluster=cluster, serviceName="agent", taskDefinition=family, schedulingStrategy="DAEMON", launchType="EC2")
    wait_until(lambda: describe(ecs, cluster, "agent")["runningCount"] == 2)
    # An instance joining gets its task.
    admin("POST", "container-instances", {"cluster": cluster, "count": 1})
    done = wait_until(lambda: (s := describe(ecs, cluster, "agent"))["runningCount"] == 3 and s)
    assert (done["desiredCount"], done["runningCount"]) == (3, 3)
    assert done["deploymentConfiguration"]["maximumPercent"] == 100 and done["deploymentConfiguration"]["minimumHealthyPercent"] == 0


def test_failing_health_checks_trip_the_breaker_and_roll_back(ecs: Any, subnet: str) -> None:
    """FACTS.md 1.3 (a real run, desired 1): a task failing its container health checks is
    replaced ("failed container health checks.", "has stopped 1 running tasks", "has started 1
    tasks: ... Amazon ECS replaced 1 tasks due to an unhealthy status."); three such failures trip
    the breaker and ECS rolls back. A task with a health check is not healthy before its first
    passing check, so the deployment cannot complete before the verdict."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    check = {"command": ["CMD-SHELL", "true"], "interval": 5, "retries": 1}
    def register(environment: list[dict[str, str]]) -> str:
        return ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "web", "image": "nginx", "healthCheck": check, "environment": environment}],
        )["taskDefinition"]["taskDefinitionArn"]
    good = register([])
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    fargate_service(ecs, cluster, "web", good, subnet, count=1, deploymentConfiguration=breaker)
    first = wait_until(completed(ecs, cluster, "web"))
    good_id = first["deployments"][0]["id"]
    bad = register([{"name": "ECS_EMULATOR_HEALTH", "value": "unhealthy"}])
    bad_id = ecs.update_service(cluster=cluster, service="web", taskDefinition=bad)["service"]["deployments"][0]["id"]
    def rolled_back() -> dict[str, Any] | None:
        service = completed(ecs, cluster, "web")()
        return service if service and service["taskDefinition"] == good else None

    done = wait_until(rolled_back, timeout=30, what="rolled back")
    assert done["deployments"][0]["id"] == good_id
    said = messages(done)
    assert f"(service web) (deployment {bad_id}) deployment failed: tasks failed to start." in said
    assert any(m.endswith("failed container health checks.") for m in said)
    assert any(m.endswith("Amazon ECS replaced 1 tasks due to an unhealthy status.") for m in said)


def test_a_rollback_that_fails_too_stops_there(ecs: Any, subnet: str, admin: Any) -> None:
    """A rollback deployment whose own tasks fail is FAILED like any other; ECS does not roll
    the rollback back (the service deployment ends ROLLBACK_FAILED), and no two deployments
    share an id."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}, "minimumHealthyPercent": 0}
    fargate_service(ecs, cluster, "web", fargate_definition(ecs, family), subnet, count=1, deploymentConfiguration=breaker)
    wait_until(completed(ecs, cluster, "web"))
    admin("POST", "task-failures", {"family": family, "mode": "cannot-pull"})
    try:
        ecs.update_service(cluster=cluster, service="web", taskDefinition=fargate_definition(ecs, family, image="nginx:1.28"))
        arn = ecs.list_service_deployments(cluster=cluster, service="web")["serviceDeployments"][0]["serviceDeploymentArn"]
        detail = wait_until(
            lambda: (d := ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0])["status"] == "ROLLBACK_FAILED" and d,
            timeout=30,
        )
        assert detail["rollback"] is not None
        ids = [d["id"] for d in describe(ecs, cluster, "web")["deployments"]]
        assert len(ids) == len(set(ids)), ids
        failed = sum(m.endswith("deployment failed: tasks failed to start.") for m in messages(describe(ecs, cluster, "web")))
        assert failed == 2
    finally:
        admin("DELETE", "task-failures")


def test_a_service_created_again_has_its_own_history(ecs: Any, subnet: str) -> None:
    """"When you delete a service, Amazon ECS deletes the corresponding service deployments"
    (developer guide, "View service history")."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("web"))
    fargate_service(ecs, cluster, "web", definition, subnet, count=0)
    ecs.delete_service(cluster=cluster, service="web")
    wait_until(lambda: describe(ecs, cluster, "web")["status"] == "INACTIVE")
    fargate_service(ecs, cluster, "web", definition, subnet, count=0)
    assert len(ecs.list_service_deployments(cluster=cluster, service="web")["serviceDeployments"]) == 1


def test_a_new_capacity_provider_strategy_needs_a_new_deployment(ecs: Any, subnet: str) -> None:
    """Real UpdateService output (aws/aws-cdk#34631, aws-cli captures): "When switching from
    launch type to capacity provider strategy on an existing service, ... you must force a new
    deployment."; with forceNewDeployment the move is in place."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    fargate_service(ecs, cluster, "web", fargate_definition(ecs, unique("web")), subnet, count=1)
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    with pytest.raises(ClientError) as refused:
        ecs.update_service(cluster=cluster, service="web", capacityProviderStrategy=strategy)
    assert refused.value.response["Error"]["Message"].startswith(
        "When switching from launch type to capacity provider strategy on an existing service"
    )
    moved = ecs.update_service(cluster=cluster, service="web", capacityProviderStrategy=strategy, forceNewDeployment=True)["service"]
    assert "launchType" not in moved and moved["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]


def test_deleted_revisions_keep_their_number_and_their_services(ecs: Any, subnet: str) -> None:
    """DeleteTaskDefinitions (API reference): a deleted revision is DELETE_IN_PROGRESS, services
    running it "can still scale up or down by modifying the service's desired count", and "the
    revision is incremented the next time you create a task definition with that name"."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    v1 = fargate_definition(ecs, family)
    fargate_service(ecs, cluster, "web", v1, subnet, count=1)
    wait_until(completed(ecs, cluster, "web"))
    ecs.deregister_task_definition(taskDefinition=v1)
    ecs.delete_task_definitions(taskDefinitions=[v1])
    assert ecs.describe_task_definition(taskDefinition=v1)["taskDefinition"]["status"] == "DELETE_IN_PROGRESS"
    ecs.update_service(cluster=cluster, service="web", desiredCount=2)
    wait_until(lambda: describe(ecs, cluster, "web")["runningCount"] == 2, what="scaled on a deleted revision")
    assert fargate_definition(ecs, family).endswith(":2")
