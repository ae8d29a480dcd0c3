"""Blue/green, linear and canary deployments: lifecycle stages, traffic weights, lifecycle hooks
(PAUSE and AWS_LAMBDA), ContinueServiceDeployment, the refusals. FACTS.md section 10 has the
sources; each test names what it pins."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import SPEED, completed, describe, fargate_definition, fargate_service, messages, unique, wait_until
from test_services import target_group

ORDER = (
    "RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP",
)  # fmt: skip
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:check"
ROLE = "arn:aws:iam::123456789012:role/ecs-hooks"


def pause(*stages: str, **timeout: Any) -> dict[str, Any]:
    hook: dict[str, Any] = {"targetType": "PAUSE", "lifecycleStages": list(stages)}
    if timeout:
        hook["timeoutConfiguration"] = timeout
    return hook


def lambda_hook(*stages: str, arn: str = LAMBDA) -> dict[str, Any]:
    return {"targetType": "AWS_LAMBDA", "hookTargetArn": arn, "roleArn": ROLE, "lifecycleStages": list(stages)}


def deployed(ecs: Any, subnet: str, strategy: dict[str, Any], count: int = 2) -> tuple[str, str, str]:
    """A service under `strategy` whose first deployment completed: (cluster, family, v1)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    v1 = fargate_definition(ecs, family)
    fargate_service(ecs, cluster, "web", v1, subnet, count=count, deploymentConfiguration=strategy)
    wait_until(completed(ecs, cluster, "web"), what="first deployment")
    return cluster, family, v1


def update(ecs: Any, cluster: str, family: str, config: dict[str, Any]) -> str:
    """UpdateService to a new revision with `config`; the new service deployment's ARN."""
    v2 = fargate_definition(ecs, family, image="nginx:1.28")
    return ecs.update_service(cluster=cluster, service="web", taskDefinition=v2, deploymentConfiguration=config)["service"][
        "currentServiceDeployment"
    ]


def service_deployment(ecs: Any, arn: str) -> dict[str, Any]:
    return ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]


def awaiting(ecs: Any, arn: str) -> dict[str, Any]:
    """Waits for a hook AWAITING_ACTION; the service deployment then."""
    def check() -> dict[str, Any] | None:
        found = service_deployment(ecs, arn)
        return found if any(h["status"] == "AWAITING_ACTION" for h in found.get("lifecycleHookDetails", [])) else None

    return wait_until(check, what="a hook awaiting action")


def waiting_hook(found: dict[str, Any]) -> dict[str, Any]:
    return next(h for h in found["lifecycleHookDetails"] if h["status"] == "AWAITING_ACTION")


def weights(found: dict[str, Any]) -> tuple[float, float, float | None]:
    """(green production, green test, blue production) of a service deployment."""
    green = found["targetServiceRevision"]
    blue = [s["requestedProductionTrafficWeight"] for s in found["sourceServiceRevisions"] if "requestedProductionTrafficWeight" in s]
    return green["requestedProductionTrafficWeight"], green["requestedTestTrafficWeight"], blue[0] if blue else None


def before_each_shift(ecs: Any, arn: str, steps: int) -> list[tuple[float, float, float | None]]:
    """The weights at each of `steps` PRE_PRODUCTION_TRAFFIC_SHIFT pauses, each continued."""
    seen = []
    for _ in range(steps):
        found = awaiting(ecs, arn)
        seen.append(weights(found))
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=waiting_hook(found)["hookId"])
    return seen


def finished(ecs: Any, arn: str, status: str) -> dict[str, Any]:
    return wait_until(lambda: (d := service_deployment(ecs, arn))["status"] == status and d, what=status)


def test_blue_green_walks_every_stage_to_successful(ecs: Any, subnet: str, admin: Any) -> None:
    """ServiceDeployment.lifecycleStage (API reference) in order; green starts at full count
    beside blue at SCALE_UP; test traffic then production traffic move to green
    (ServiceRevisionSummary weights); BAKE_TIME keeps both; CLEAN_UP stops blue; then
    SUCCESSFUL, and DescribeServices says "deployment completed." and steady state as for a
    rolling deployment. PAUSE hooks wait AWAITING_ACTION for ContinueServiceDeployment; a Lambda
    answering IN_PROGRESS is asked again (developer guide, "Lambda hooks")."""
    cluster, family, _ = deployed(ecs, subnet, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    first = service_deployment(ecs, describe(ecs, cluster, "web")["currentServiceDeployment"])
    assert (first["status"], first["lifecycleStage"]) == ("SUCCESSFUL", "CLEAN_UP")
    blue_id = describe(ecs, cluster, "web")["deployments"][0]["id"]
    admin("POST", "lifecycle-hooks", {"hookTargetArn": LAMBDA, "outcome": "IN_PROGRESS"})
    hooks = [
        pause("PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"),
        lambda_hook("TEST_TRAFFIC_SHIFT"),
    ]
    arn = update(ecs, cluster, family, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "lifecycleHooks": hooks})

    seen: list[str] = []
    checked: dict[str, tuple[float, float, float | None]] = {}
    def walk() -> dict[str, Any] | None:
        found = service_deployment(ecs, arn)
        stage = found.get("lifecycleStage")
        if stage and (not seen or seen[-1] != stage):
            seen.append(stage)
        hook = next((h for h in found.get("lifecycleHookDetails", []) if h["status"] in ("AWAITING_ACTION", "IN_PROGRESS")), None)
        if hook is not None and hook["targetType"] == "PAUSE":
            checked[stage] = weights(found)
            service = describe(ecs, cluster, "web")
            counts = {d["id"]: d["runningCount"] for d in service["deployments"]}
            if stage == "PRE_SCALE_UP":
                assert counts == {service["deployments"][0]["id"]: 0, blue_id: 2}
                # Green's tasks start slower, so that polling sees SCALE_UP for sure.
                admin("POST", "config", {"speed": SPEED / 5})
            if stage == "POST_SCALE_UP":
                admin("POST", "config", {"speed": SPEED})
            if stage in ("POST_SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT"):
                assert counts[blue_id] == 2 and counts[service["deployments"][0]["id"]] == 2
                assert [d["rolloutState"] for d in service["deployments"]] == ["IN_PROGRESS", "COMPLETED"]
            ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
        elif hook is not None and stage == "TEST_TRAFFIC_SHIFT":
            checked[stage] = weights(found)
            admin("POST", "lifecycle-hooks", {"hookTargetArn": LAMBDA, "outcome": "SUCCEEDED"})
        return found if found["status"] == "SUCCESSFUL" else None

    try:
        done = wait_until(walk, what="SUCCESSFUL")
    finally:
        admin("POST", "config", {"speed": SPEED})
    assert [ORDER.index(s) for s in seen] == sorted(ORDER.index(s) for s in seen)
    assert set(ORDER[1:]) <= set(seen), seen
    assert checked["PRE_SCALE_UP"] == (0.0, 0.0, 100.0)
    assert checked["POST_SCALE_UP"] == (0.0, 0.0, 100.0)
    assert checked["TEST_TRAFFIC_SHIFT"] == (0.0, 100.0, 100.0)
    assert checked["POST_TEST_TRAFFIC_SHIFT"] == (0.0, 100.0, 100.0)
    assert checked["PRODUCTION_TRAFFIC_SHIFT"] == (0.0, 100.0, 100.0)
    assert checked["POST_PRODUCTION_TRAFFIC_SHIFT"] == (100.0, 100.0, 0.0)
    assert done["lifecycleStage"] == "CLEAN_UP" and weights(done)[:2] == (100.0, 100.0)
    details = done["lifecycleHookDetails"]
    assert [h["status"] for h in details] == ["SUCCEEDED"] * 6
    assert len({h["hookId"] for h in details}) == 6
    assert all(h["hookId"].startswith("ecs-pause-") and "targetArn" not in h for h in details if h["targetType"] == "PAUSE")
    assert [h["targetArn"] for h in details if h["targetType"] == "AWS_LAMBDA"] == [LAMBDA]
    assert all(h["timeoutAction"] == "ROLLBACK" for h in details)
    service = wait_until(completed(ecs, cluster, "web"), what="COMPLETED")
    assert service["runningCount"] == 2
    assert messages(service)[0] == "(service web) has reached a steady state."
    assert messages(service)[1] == f"(service web) (deployment {service['deployments'][0]['id']}) deployment completed."
    # The Service shape's currentServiceRevisions carry no weights (ServiceCurrentRevisionSummary).
    assert "requestedProductionTrafficWeight" not in service["currentServiceRevisions"][0]
    admin("DELETE", "lifecycle-hooks")


def test_a_reconcile_stage_runs_when_two_revisions_are_active(ecs: Any, subnet: str) -> None:
    """RECONCILE_SERVICE "only happens when you start a new service deployment with more than 1
    service revision in an ACTIVE state" (ServiceDeployment.lifecycleStage); a newer deployment
    stops the one it replaces."""
    cluster, family, _ = deployed(ecs, subnet, {"strategy": "BLUE_GREEN"})
    config = {"strategy": "BLUE_GREEN", "lifecycleHooks": [pause("RECONCILE_SERVICE", "POST_SCALE_UP")]}
    first = update(ecs, cluster, family, config)
    assert service_deployment(ecs, awaiting(ecs, first)["serviceDeploymentArn"])["lifecycleStage"] == "POST_SCALE_UP"
    second = update(ecs, cluster, family, config)
    assert service_deployment(ecs, first)["status"] == "STOPPED"
    found = awaiting(ecs, second)
    assert found["lifecycleStage"] == "RECONCILE_SERVICE" and len(found["sourceServiceRevisions"]) == 2


def test_a_pause_answered_rollback_rolls_back(ecs: Any, subnet: str) -> None:
    """ContinueServiceDeployment ROLLBACK "rolls back the service deployment to the previous
    service revision": ROLLBACK_IN_PROGRESS then ROLLBACK_SUCCESSFUL, `rollback` filled, green
    stopped, blue keeps all traffic. Acting on a hook not AWAITING_ACTION, an unknown hook or
    deployment is refused (API reference errors: InvalidParameterException,
    ServiceDeploymentNotFoundException)."""
    cluster, family, v1 = deployed(ecs, subnet, {"strategy": "BLUE_GREEN"})
    blue = describe(ecs, cluster, "web")["deployments"][0]["id"]
    arn = update(ecs, cluster, family, {"strategy": "BLUE_GREEN", "lifecycleHooks": [pause("POST_TEST_TRAFFIC_SHIFT")]})
    hook = waiting_hook(awaiting(ecs, arn))
    with pytest.raises(ClientError) as unknown:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="ecs-pause-nothing")
    assert unknown.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as missing:
        ecs.continue_service_deployment(serviceDeploymentArn=arn[:-3] + "xyz", hookId=hook["hookId"])
    assert missing.value.response["Error"]["Code"] == "ServiceDeploymentNotFoundException"
    answer = ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="ROLLBACK")
    assert answer["serviceDeploymentArn"] == arn
    with pytest.raises(ClientError) as again:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"])
    assert again.value.response["Error"]["Code"] == "InvalidParameterException"
    done = finished(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert done["rollback"]["serviceRevisionArn"].endswith(blue.split("/")[1])
    assert weights(done) == (0.0, 0.0, 100.0)
    service = wait_until(completed(ecs, cluster, "web"), what="rolled back")
    assert service["taskDefinition"] == v1 and service["deployments"][0]["id"] == blue


@pytest.mark.parametrize("action", ["CONTINUE", "ROLLBACK"])
def test_a_pause_that_times_out_takes_its_timeout_action(ecs: Any, subnet: str, action: str) -> None:
    """DeploymentLifecycleHookTimeoutConfiguration: after timeoutInMinutes (ECS time) the hook
    is TIMED_OUT and ECS takes `action`: CONTINUE "proceeds the deployment to the next lifecycle
    stage", ROLLBACK "rolls back the deployment to the previous service revision"."""
    cluster, family, _ = deployed(ecs, subnet, {"strategy": "BLUE_GREEN"})
    hooks = [pause("POST_SCALE_UP", timeoutInMinutes=1, action=action)]
    arn = update(ecs, cluster, family, {"strategy": "BLUE_GREEN", "lifecycleHooks": hooks})
    hook = waiting_hook(awaiting(ecs, arn))
    assert hook["timeoutAction"] == action and hook["expiresAt"] > service_deployment(ecs, arn)["startedAt"]
    done = finished(ecs, arn, "SUCCESSFUL" if action == "CONTINUE" else "ROLLBACK_SUCCESSFUL")
    assert [h["status"] for h in done["lifecycleHookDetails"]] == ["TIMED_OUT"]
    if action == "ROLLBACK":
        assert "timed out" in done["statusReason"]


def test_a_failing_lambda_hook_rolls_back(ecs: Any, subnet: str, admin: Any) -> None:
    """Lambda hooks: "FAILED - Amazon ECS rolls back the deployment to the last successful
    service revision"; the service says "deployment failed: hook execution failure(s)
    detected" (aws/containers-roadmap#2664)."""
    failing = LAMBDA + "-failing"
    admin("POST", "lifecycle-hooks", {"hookTargetArn": failing, "outcome": "FAILED"})
    cluster, family, v1 = deployed(ecs, subnet, {"strategy": "BLUE_GREEN"})
    hooks = [lambda_hook("POST_SCALE_UP", arn=failing)]
    arn = update(ecs, cluster, family, {"strategy": "BLUE_GREEN", "lifecycleHooks": hooks})
    done = finished(ecs, arn, "ROLLBACK_SUCCESSFUL")
    hook = done["lifecycleHookDetails"][0]
    assert (hook["status"], hook["targetArn"], hook["targetType"]) == ("FAILED", failing, "AWS_LAMBDA")
    assert "failed" in done["statusReason"] and done["rollback"]["reason"] == done["statusReason"]
    service = wait_until(completed(ecs, cluster, "web"), what="rolled back")
    assert service["taskDefinition"] == v1
    green = service_deployment(ecs, arn)["targetServiceRevision"]["arn"].split("/")[-1]
    assert f"(service web) (deployment ecs-svc/{green}) deployment failed: hook execution failure(s) detected." in messages(service)
    assert admin("DELETE", "lifecycle-hooks")["lifecycleHooks"] == {}


SHIFTS = [
    # LINEAR: stepPercent increments to 100, stepBakeTimeInMinutes between the steps.
    ("linearConfiguration", {"stepPercent": 100.0}, {"stepPercent": 40.0, "stepBakeTimeInMinutes": 1},
     [(0.0, 100.0, 100.0), (40.0, 100.0, 60.0), (80.0, 100.0, 20.0)]),
    # CANARY: canaryPercent first, canaryBakeTimeInMinutes, then the rest.
    ("canaryConfiguration", {"canaryBakeTimeInMinutes": 0}, {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1},
     [(0.0, 100.0, 100.0), (10.0, 100.0, 90.0)]),
]  # fmt: skip


@pytest.mark.parametrize(("key", "first", "shifting", "expected"), SHIFTS)
def test_linear_and_canary_shift_production_traffic_in_steps(
    ecs: Any, subnet: str, key: str, first: dict[str, Any], shifting: dict[str, Any], expected: list[Any]
) -> None:
    """LinearConfiguration and CanaryConfiguration (API reference): the green revision's
    production weight grows step by step, the blue one's shrinks; PRE_PRODUCTION_TRAFFIC_SHIFT
    hooks run "before every traffic shift step", each with its own hookId."""
    strategy = "LINEAR" if key == "linearConfiguration" else "CANARY"
    cluster, family, _ = deployed(ecs, subnet, {"strategy": strategy, key: first})
    config = {"strategy": strategy, key: shifting, "lifecycleHooks": [pause("PRE_PRODUCTION_TRAFFIC_SHIFT")]}
    arn = update(ecs, cluster, family, config)
    assert before_each_shift(ecs, arn, len(expected)) == expected
    done = finished(ecs, arn, "SUCCESSFUL")
    assert weights(done)[0] == 100.0 and len({h["hookId"] for h in done["lifecycleHookDetails"]}) == len(expected)


def test_stop_service_deployment_rolls_a_blue_green_deployment_back(ecs: Any, subnet: str) -> None:
    """StopServiceDeployment ROLLBACK during a blue/green deployment: green stops, blue keeps
    (gets back) all traffic, ROLLBACK_SUCCESSFUL with `rollback` filled."""
    cluster, family, v1 = deployed(ecs, subnet, {"strategy": "BLUE_GREEN"})
    arn = update(ecs, cluster, family, {"strategy": "BLUE_GREEN", "lifecycleHooks": [pause("POST_PRODUCTION_TRAFFIC_SHIFT")]})
    assert weights(awaiting(ecs, arn))[0] == 100.0
    ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    done = finished(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert done["rollback"]["reason"] and weights(done)[:2] == (0.0, 0.0)
    service = wait_until(completed(ecs, cluster, "web"), what="rolled back")
    assert service["taskDefinition"] == v1 and service["runningCount"] == 2


def test_strategy_fields_are_kept_in_ecs_shapes(ecs: Any, endpoint: str, subnet: str) -> None:
    """CreateService input comes back: deploymentConfiguration (strategy, bakeTimeInMinutes,
    lifecycleHooks), loadBalancers[].advancedConfiguration, Service Connect testTrafficRules,
    tls and accessLogConfiguration, volumeConfigurations, vpcLatticeConfigurations (in
    deployments[] and the service revision, where the Service shape has no such field)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    advanced = {
        "alternateTargetGroupArn": target_group(endpoint, subnet, delay=0),
        "productionListenerRule": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/lb/1/2/3",
        "testListenerRule": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/lb/1/2/4",
        "roleArn": ROLE,
    }
    balancers = [{"targetGroupArn": target_group(endpoint, subnet, delay=0), "containerName": "web", "containerPort": 80,
                  "advancedConfiguration": advanced}]  # fmt: skip
    connect = {
        "enabled": True,
        "namespace": "apps",
        "services": [{
            "portName": "web",
            "clientAliases": [{"port": 80, "testTrafficRules": {"header": {"name": "x-test", "value": {"exact": "1"}}}}],
            "tls": {"issuerCertificateAuthority": {"awsPcaAuthorityArn": "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x"}},
        }],
        "accessLogConfiguration": {"format": "JSON", "includeQueryParameters": "ENABLED"},
    }  # fmt: skip
    volumes = [{"name": "data", "managedEBSVolume": {"roleArn": ROLE, "sizeInGiB": 10}}]
    lattice = [{"roleArn": ROLE, "targetGroupArn": "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-1", "portName": "web"}]
    hooks = [pause("POST_SCALE_UP", timeoutInMinutes=30), {**lambda_hook("PRE_SCALE_UP"), "hookDetails": {"suite": "smoke", "retries": 2}}]
    config = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5, "lifecycleHooks": hooks}
    created = fargate_service(ecs, cluster, "web", fargate_definition(ecs, unique("web")), subnet, count=1,
                              deploymentConfiguration=config, loadBalancers=balancers, serviceConnectConfiguration=connect,
                              volumeConfigurations=volumes, vpcLatticeConfigurations=lattice)  # fmt: skip
    service = describe(ecs, cluster, "web")
    for shown in (created, service):
        assert shown["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
        assert shown["deploymentConfiguration"]["bakeTimeInMinutes"] == 5
        assert shown["deploymentConfiguration"]["lifecycleHooks"] == config["lifecycleHooks"]
        assert shown["loadBalancers"][0]["advancedConfiguration"] == advanced
        deployment = shown["deployments"][0]
        assert deployment["serviceConnectConfiguration"] == connect
        assert deployment["volumeConfigurations"] == volumes and deployment["vpcLatticeConfigurations"] == lattice
    revision_arn = service["currentServiceRevisions"][0]["arn"]
    revision = ecs.describe_service_revisions(serviceRevisionArns=[revision_arn])["serviceRevisions"][0]
    assert revision["loadBalancers"][0]["advancedConfiguration"] == advanced
    assert revision["serviceConnectConfiguration"] == connect and revision["vpcLatticeConfigurations"] == lattice


REFUSALS = [
    ({"strategy": "SHINY"}, "Invalid deployment strategy"),
    ({"strategy": "LINEAR", "deploymentCircuitBreaker": {"enable": True, "rollback": True}}, "circuit breaker"),
    ({"strategy": "CANARY", "deploymentCircuitBreaker": {"enable": True, "rollback": False}}, "circuit breaker"),
    ({"strategy": "BLUE_GREEN", "lifecycleHooks": [pause("TEST_TRAFFIC_SHIFT")]}, "PAUSE hooks cannot"),
    ({"strategy": "BLUE_GREEN", "lifecycleHooks": [pause("PRODUCTION_TRAFFIC_SHIFT")]}, "PAUSE hooks cannot"),
    ({"strategy": "BLUE_GREEN", "lifecycleHooks": [pause("POST_SCALE_UP")] * 11}, "at most 10 PAUSE"),
    ({"strategy": "BLUE_GREEN", "lifecycleHooks": [lambda_hook("POST_SCALE_UP")] * 11}, "at most 10 AWS_LAMBDA"),
    ({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"hookTargetArn": LAMBDA, "lifecycleStages": ["PRE_SCALE_UP"]}]}, "roleArn"),
    ({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"roleArn": ROLE, "lifecycleStages": ["PRE_SCALE_UP"]}]}, "hookTargetArn"),
    ({"strategy": "BLUE_GREEN", "lifecycleHooks": [pause("SCALE_UP")]}, "Invalid lifecycle stage"),
    ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.9}}, "stepPercent"),
    ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 10.05}}, "stepPercent"),
    ({"strategy": "LINEAR", "linearConfiguration": {"stepBakeTimeInMinutes": 1441}}, "stepBakeTimeInMinutes"),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.0}}, "canaryPercent"),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 100.1}}, "canaryPercent"),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryBakeTimeInMinutes": -1}}, "canaryBakeTimeInMinutes"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441}, "bakeTimeInMinutes"),
    ({"strategy": "BLUE_GREEN", "lifecycleHooks": [pause("POST_SCALE_UP", action="WAIT")]}, "timeoutConfiguration.action"),
]


@pytest.mark.parametrize(("config", "words"), REFUSALS)
def test_create_and_update_refuse_what_ecs_refuses(ecs: Any, subnet: str, config: dict[str, Any], words: str) -> None:
    """The documented ranges and rules (FACTS.md 10) answer InvalidParameterException, on
    CreateService and on UpdateService alike."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("web"))
    with pytest.raises(ClientError) as created:
        fargate_service(ecs, cluster, "web", definition, subnet, count=0, deploymentConfiguration=config)
    fargate_service(ecs, cluster, "web", definition, subnet, count=0)
    with pytest.raises(ClientError) as updated:
        ecs.update_service(cluster=cluster, service="web", deploymentConfiguration=config)
    for refused in (created, updated):
        assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
        assert words in refused.value.response["Error"]["Message"]


def test_strategies_need_the_ecs_controller_and_advanced_load_balancers(ecs: Any, endpoint: str, subnet: str) -> None:
    """LinearConfiguration/CanaryConfiguration are "only valid ... with deploymentController set
    to ECS"; a load-balanced blue/green service needs an alternate target group and a production
    listener rule ("Required resources for Amazon ECS blue/green deployments"). The circuit
    breaker is supported with BLUE_GREEN ("only support rolling update deployment and blue/green
    deployment types", deployment failure detection)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    definition = fargate_definition(ecs, unique("web"))
    with pytest.raises(ClientError) as controller:
        fargate_service(ecs, cluster, "web", definition, subnet, count=0, deploymentController={"type": "CODE_DEPLOY"},
                        deploymentConfiguration={"strategy": "BLUE_GREEN"})  # fmt: skip
    assert "ECS deployment controller" in controller.value.response["Error"]["Message"]
    plain = [{"targetGroupArn": target_group(endpoint, subnet), "containerName": "web", "containerPort": 80}]
    with pytest.raises(ClientError) as balancer:
        fargate_service(ecs, cluster, "web", definition, subnet, count=0, loadBalancers=plain,
                        deploymentConfiguration={"strategy": "CANARY"})  # fmt: skip
    assert "advancedConfiguration" in balancer.value.response["Error"]["Message"]
    breaker = {"strategy": "BLUE_GREEN", "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    assert fargate_service(ecs, cluster, "web", definition, subnet, count=0, deploymentConfiguration=breaker)["status"] == "ACTIVE"


def test_a_launch_type_moves_to_a_capacity_provider_and_back(ecs: Any, subnet: str, admin: Any) -> None:
    """UpdateService capacityProviderStrategy (API reference): "Update the Amazon EC2 launch type
    to a Fargate capacity provider" (with forceNewDeployment, FACTS.md: ECS refuses it without)
    starts a deployment on the provider; "Update the ... Fargate capacity provider back to the
    launch type. Pass an empty list"."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    admin("POST", "container-instances", {"cluster": cluster, "count": 1})
    definition = fargate_definition(ecs, unique("web"))
    ecs.create_service(cluster=cluster, serviceName="web", taskDefinition=definition, desiredCount=1, launchType="EC2",
                       networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}})  # fmt: skip
    wait_until(completed(ecs, cluster, "web"), what="EC2 deployment")
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    moved = ecs.update_service(cluster=cluster, service="web", capacityProviderStrategy=strategy, forceNewDeployment=True)["service"]
    assert "launchType" not in moved and moved["capacityProviderStrategy"] == strategy
    assert [d["status"] for d in moved["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert moved["deployments"][0]["capacityProviderStrategy"] == strategy
    wait_until(completed(ecs, cluster, "web"), what="capacity provider deployment")
    tasks = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster)["taskArns"])["tasks"]
    assert [t["capacityProviderName"] for t in tasks] == ["FARGATE"]
    back = ecs.update_service(cluster=cluster, service="web", capacityProviderStrategy=[])["service"]
    assert back["launchType"] == "FARGATE" and "capacityProviderStrategy" not in back
    assert back["deployments"][0]["launchType"] == "FARGATE" and len(back["deployments"]) == 2
