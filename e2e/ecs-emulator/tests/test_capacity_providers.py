"""Capacity providers: both kinds created and described, updated in place, not deleted while a
cluster uses them, and a service strategy limited to the cluster's providers. Each test names
its source (FACTS.md section 9)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import unique, wait_until

ASG = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0e6b3cb2:autoScalingGroupName/{}"


def managed_instances() -> dict[str, Any]:
    return {
        "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
        "instanceLaunchTemplate": {
            "ec2InstanceProfileArn": "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole",
            "networkConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]},
            "storageConfiguration": {"storageSizeGiB": 50},
            "capacityOptionType": "SPOT",
            "instanceRequirements": {"vCpuCount": {"min": 2, "max": 8}, "memoryMiB": {"min": 4096}},
        },
        "propagateTags": "CAPACITY_PROVIDER",
    }


def test_a_managed_instances_provider_belongs_to_its_cluster(ecs: Any) -> None:
    """FACTS.md 9.1: CreateCapacityProvider `cluster` ("it becomes available only within the
    specified cluster"); DescribeCapacityProviders with `cluster` lists it, with `type`."""
    cluster, name = unique("c"), unique("mi")
    with pytest.raises(ClientError) as missing:
        ecs.create_capacity_provider(name=name, cluster=cluster, managedInstancesProvider=managed_instances())
    assert missing.value.response["Error"]["Code"] == "ClusterNotFoundException"
    ecs.create_cluster(clusterName=cluster)
    created = ecs.create_capacity_provider(
        name=name, cluster=cluster, managedInstancesProvider=managed_instances(), tags=[{"key": "team", "value": "a"}]
    )["capacityProvider"]
    assert (created["status"], created["type"], created["cluster"]) == ("ACTIVE", "MANAGED_INSTANCES", cluster)
    assert created["managedInstancesProvider"]["instanceLaunchTemplate"]["capacityOptionType"] == "SPOT"

    described = ecs.describe_capacity_providers(capacityProviders=[name], cluster=cluster, include=["TAGS"])
    [provider] = described["capacityProviders"]
    assert provider["tags"] == [{"key": "team", "value": "a"}]
    assert provider["managedInstancesProvider"]["propagateTags"] == "CAPACITY_PROVIDER"
    assert "tags" not in ecs.describe_capacity_providers(capacityProviders=[name], cluster=cluster)["capacityProviders"][0]
    elsewhere = ecs.describe_capacity_providers(capacityProviders=[name])
    assert elsewhere["capacityProviders"] == [] and elsewhere["failures"][0]["reason"] == "MISSING"


def test_update_changes_what_ecs_allows_and_reports_progress(ecs: Any) -> None:
    """FACTS.md 9.2: UpdateCapacityProvider takes managedScaling, managedTerminationProtection and
    managedDraining (AutoScalingGroupProviderUpdate), everything of a Managed Instances provider
    but capacityOptionType (InstanceLaunchTemplateUpdate); updateStatus UPDATE_IN_PROGRESS then
    UPDATE_COMPLETE."""
    name = unique("asg")
    ecs.create_capacity_provider(
        name=name, autoScalingGroupProvider={"autoScalingGroupArn": ASG.format(name), "managedScaling": {"status": "ENABLED"}}
    )
    updated = ecs.update_capacity_provider(
        name=name,
        autoScalingGroupProvider={"managedScaling": {"status": "ENABLED", "targetCapacity": 80}, "managedDraining": "ENABLED"},
    )["capacityProvider"]
    assert updated["updateStatus"] == "UPDATE_IN_PROGRESS"
    asg = updated["autoScalingGroupProvider"]
    assert (asg["managedScaling"]["targetCapacity"], asg["managedDraining"]) == (80, "ENABLED")
    assert asg["autoScalingGroupArn"] == ASG.format(name)
    wait_until(
        lambda: ecs.describe_capacity_providers(capacityProviders=[name])["capacityProviders"][0]["updateStatus"]
        == "UPDATE_COMPLETE",
        what="UPDATE_COMPLETE",
    )

    cluster, mi = unique("c"), unique("mi")
    ecs.create_cluster(clusterName=cluster)
    ecs.create_capacity_provider(name=mi, cluster=cluster, managedInstancesProvider=managed_instances())
    change = managed_instances()
    change["instanceLaunchTemplate"] = {
        "ec2InstanceProfileArn": change["instanceLaunchTemplate"]["ec2InstanceProfileArn"],
        "storageConfiguration": {"storageSizeGiB": 100},
    }
    change["propagateTags"] = "NONE"
    updated = ecs.update_capacity_provider(name=mi, cluster=cluster, managedInstancesProvider=change)["capacityProvider"]
    template = updated["managedInstancesProvider"]["instanceLaunchTemplate"]
    assert template["storageConfiguration"] == {"storageSizeGiB": 100}
    assert template["capacityOptionType"] == "SPOT", "capacityOptionType is not updatable"
    assert updated["managedInstancesProvider"]["propagateTags"] == "NONE"


def test_a_provider_a_cluster_uses_is_not_deleted(ecs: Any) -> None:
    """FACTS.md 9.3: "Only capacity providers that aren't associated with a cluster can be
    deleted"; ECS answers DELETE_FAILED with the reason naming the cluster (terraform-provider-aws
    PR #48156), and deletes it once the cluster lets go."""
    cluster, name = unique("c"), unique("asg")
    ecs.create_capacity_provider(name=name, autoScalingGroupProvider={"autoScalingGroupArn": ASG.format(name)})
    ecs.create_cluster(clusterName=cluster, capacityProviders=[name])
    refused = ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert (refused["status"], refused["updateStatus"]) == ("ACTIVE", "DELETE_FAILED")
    assert refused["updateStatusReason"] == (
        f"The capacity provider cannot be deleted because it is associated with cluster: {cluster}. "
        "Remove the capacity provider from the cluster and try again."
    )
    assert ecs.describe_capacity_providers(capacityProviders=[name])["capacityProviders"][0]["status"] == "ACTIVE"

    ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=[], defaultCapacityProviderStrategy=[])
    deleted = ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert deleted["status"] == "INACTIVE"
    assert ecs.describe_capacity_providers(capacityProviders=[name])["capacityProviders"] == []

    # Deleting the cluster lets its providers go too.
    other, kept = unique("c"), unique("asg")
    ecs.create_capacity_provider(name=kept, autoScalingGroupProvider={"autoScalingGroupArn": ASG.format(kept)})
    ecs.create_cluster(clusterName=other, capacityProviders=[kept])
    ecs.delete_cluster(cluster=other)
    assert ecs.delete_capacity_provider(capacityProvider=kept)["capacityProvider"]["status"] == "INACTIVE"


def test_a_service_strategy_names_only_the_clusters_providers(ecs: Any) -> None:
    """FACTS.md 9.4 (CreateService API reference: "The capacity provider must be associated with
    the cluster")."""
    cluster, name, other = unique("c"), unique("asg"), unique("asg")
    for provider in (name, other):
        ecs.create_capacity_provider(name=provider, autoScalingGroupProvider={"autoScalingGroupArn": ASG.format(provider)})
    ecs.create_cluster(clusterName=cluster, capacityProviders=[name])
    family = unique("web")
    ecs.register_task_definition(
        family=family, containerDefinitions=[{"name": "web", "image": "nginx:1.27", "memory": 128}]
    )
    created = ecs.create_service(
        cluster=cluster, serviceName="web", taskDefinition=family, desiredCount=1,
        capacityProviderStrategy=[{"capacityProvider": name, "weight": 1}],
    )["service"]
    assert created["capacityProviderStrategy"] == [{"capacityProvider": name, "weight": 1, "base": 0}]
    with pytest.raises(ClientError) as refused:
        ecs.create_service(
            cluster=cluster, serviceName="other", taskDefinition=family, desiredCount=1,
            capacityProviderStrategy=[{"capacityProvider": other, "weight": 1}],
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "not associated with the cluster" in refused.value.response["Error"]["Message"]


def test_a_cluster_goes_after_its_managed_instances_providers(ecs: Any) -> None:
    """FACTS.md 9.5: DeleteCluster refuses while Managed Instances providers are scoped to the
    cluster (ClientException, terraform-provider-aws PR #45794); the provider is deleted from its
    own cluster, which lets the cluster go."""
    cluster, name = unique("c"), unique("mi")
    ecs.create_cluster(clusterName=cluster)
    ecs.create_capacity_provider(name=name, cluster=cluster, managedInstancesProvider=managed_instances())
    ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=[name], defaultCapacityProviderStrategy=[])
    with pytest.raises(ClientError) as refused:
        ecs.delete_cluster(cluster=cluster)
    assert refused.value.response["Error"]["Code"] == "ClientException"
    assert refused.value.response["Error"]["Message"] == (
        "The Cluster cannot be deleted while Cluster Scoped Capacity Providers are attached to the cluster."
    )
    deleted = ecs.delete_capacity_provider(capacityProvider=name, cluster=cluster)["capacityProvider"]
    assert deleted["status"] == "INACTIVE"
    assert ecs.describe_clusters(clusters=[cluster])["clusters"][0]["capacityProviders"] == []
    assert ecs.delete_cluster(cluster=cluster)["cluster"]["status"] == "INACTIVE"


def test_an_update_made_to_fail_reports_update_failed_and_changes_nothing(ecs: Any, admin: Any) -> None:
    """FACTS.md 9.2: `updateStatus` UPDATE_FAILED with `updateStatusReason` (API reference,
    CapacityProvider); the failure itself is imposed through the admin API."""
    name = unique("asg")
    ecs.create_capacity_provider(
        name=name, autoScalingGroupProvider={"autoScalingGroupArn": ASG.format(name), "managedScaling": {"targetCapacity": 90}}
    )
    reason = "The Auto Scaling group could not be updated."
    admin("POST", "capacity-provider-failures", {"name": name, "reason": reason})
    try:
        ecs.update_capacity_provider(name=name, autoScalingGroupProvider={"managedScaling": {"targetCapacity": 50}})
        failed = wait_until(
            lambda: (p := ecs.describe_capacity_providers(capacityProviders=[name])["capacityProviders"][0])[
                "updateStatus"
            ]
            == "UPDATE_FAILED"
            and p,
            what="UPDATE_FAILED",
        )
        assert failed["updateStatusReason"] == reason
        assert failed["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 90
    finally:
        admin("DELETE", "capacity-provider-failures")
