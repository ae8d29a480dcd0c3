"""Application Auto Scaling of ECS services (ecs_emulator/autoscaling.py): what moto lacks and
what moto answers as it is. Each test names its source in the Application Auto Scaling API
reference (FACTS.md 8b)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.error import HTTPError

import pytest
from botocore.exceptions import ClientError
from conftest import client, describe, fargate_definition, fargate_service, unique

DIMENSION = "ecs:service:DesiredCount"
CPU_70 = {
    "TargetValue": 70.0,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    "ScaleInCooldown": 300,
    "ScaleOutCooldown": 60,
}


def service(ecs: Any, subnet: str, count: int) -> tuple[str, str]:
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    fargate_service(ecs, cluster, "web", fargate_definition(ecs, unique("web")), subnet, count=count)
    return cluster, f"service/{cluster}/web"


def register(aas: Any, resource_id: str, low: int, high: int) -> None:
    aas.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION, MinCapacity=low, MaxCapacity=high
    )


def put_cpu_policy(aas: Any, resource_id: str) -> dict[str, Any]:
    return aas.put_scaling_policy(
        PolicyName="cpu",
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=CPU_70,
    )


def test_registering_a_new_target_brings_the_count_into_its_range(endpoint: str, ecs: Any, subnet: str) -> None:
    """RegisterScalableTarget: "When you register a new scalable target ... it changes the
    resource's current capacity to a value that is inside of this range." Updating a registered
    target leaves the count alone."""
    aas = client(endpoint, "application-autoscaling")
    cluster, resource_id = service(ecs, subnet, count=1)
    register(aas, resource_id, 2, 10)
    assert describe(ecs, cluster, "web")["desiredCount"] == 2
    register(aas, resource_id, 1, 10)
    assert describe(ecs, cluster, "web")["desiredCount"] == 2
    target = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 10)
    assert target["ScalableTargetARN"].startswith("arn:aws:application-autoscaling:us-east-1:")


def test_a_target_for_a_service_ecs_does_not_have_is_refused(endpoint: str, ecs: Any) -> None:
    """RegisterScalableTarget errors: ValidationException. moto checks the ECS service exists;
    the check reads the emulator's services."""
    aas = client(endpoint, "application-autoscaling")
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    with pytest.raises(ClientError) as error:
        register(aas, f"service/{cluster}/missing", 1, 2)
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_target_tracking_policies_answer_with_their_alarms(endpoint: str, ecs: Any, subnet: str) -> None:
    """PutScalingPolicy response: PolicyARN and "Alarms: The CloudWatch alarms created for the
    target tracking scaling policy." moto makes an AlarmHigh and an AlarmLow per ECS policy
    (TargetTracking-service/<cluster>/<name>-AlarmHigh-<uuid>); a step scaling policy has none
    (its alarms are the user's own)."""
    aas = client(endpoint, "application-autoscaling")
    _, resource_id = service(ecs, subnet, count=1)
    register(aas, resource_id, 1, 4)
    put = put_cpu_policy(aas, resource_id)
    names = sorted(a["AlarmName"] for a in put["Alarms"])
    assert len(names) == 2
    assert names[0].startswith(f"TargetTracking-{resource_id}-AlarmHigh-")
    assert names[1].startswith(f"TargetTracking-{resource_id}-AlarmLow-")
    described = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"]
    assert [p["PolicyARN"] for p in described] == [put["PolicyARN"]]
    assert described[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70.0


def test_deregistering_a_target_deletes_its_policies_and_scheduled_actions(endpoint: str, ecs: Any, subnet: str) -> None:
    """DeregisterScalableTarget: "Deregistering a scalable target deletes the scaling policies
    and the scheduled actions that are associated with it." moto kept both."""
    aas = client(endpoint, "application-autoscaling")
    _, resource_id = service(ecs, subnet, count=1)
    register(aas, resource_id, 1, 4)
    put_cpu_policy(aas, resource_id)
    aas.put_scheduled_action(
        ServiceNamespace="ecs",
        ScheduledActionName="night",
        ResourceId=resource_id,
        ScalableDimension=DIMENSION,
        Schedule="cron(0 22 * * ? *)",
        ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 1},
    )
    aas.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION)
    assert aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"] == []
    actions = aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource_id)["ScheduledActions"]
    assert actions == []


def test_a_scaling_activity_sets_the_count_within_the_range(
    endpoint: str, ecs: Any, subnet: str, admin: Callable[..., dict[str, Any]]
) -> None:
    """A scaling activity sets desiredCount, never outside [MinCapacity, MaxCapacity]
    (ScalableTargetAction: below the minimum it scales out to it, above the maximum in to it);
    a service without a target is not Application Auto Scaling's to scale."""
    aas = client(endpoint, "application-autoscaling")
    cluster, resource_id = service(ecs, subnet, count=1)
    with pytest.raises(HTTPError) as refused:
        admin("POST", "scaling-activity", {"cluster": cluster, "service": "web", "desiredCount": 3})
    assert refused.value.code == 400
    register(aas, resource_id, 1, 4)
    assert admin("POST", "scaling-activity", {"cluster": cluster, "service": "web", "desiredCount": 3})["desiredCount"] == 3
    assert describe(ecs, cluster, "web")["desiredCount"] == 3
    assert admin("POST", "scaling-activity", {"cluster": cluster, "service": "web", "desiredCount": 9})["desiredCount"] == 4
    assert describe(ecs, cluster, "web")["desiredCount"] == 4
