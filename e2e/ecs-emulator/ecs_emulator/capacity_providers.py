"""Capacity providers as ECS keeps them: moto models only Auto Scaling group providers, deletes
them whatever uses them and changes them at once. Each behaviour names its source (FACTS.md
section 9).

- CreateCapacityProvider takes a `managedInstancesProvider` with a `cluster` (API reference,
  CreateCapacityProvider: "When you create a capacity provider with Amazon ECS Managed
  Instances, it becomes available only within the specified cluster"); the cluster must exist.
- DescribeCapacityProviders with `cluster` returns the providers associated with that cluster,
  "including Amazon ECS Managed Instances capacity providers" (API reference); without it, the
  Managed Instances providers are not listed.
- UpdateCapacityProvider changes what `AutoScalingGroupProviderUpdate` /
  `UpdateManagedInstancesProviderConfiguration` carry (no Auto Scaling group, no capacity option
  type) and reports UPDATE_IN_PROGRESS, then UPDATE_COMPLETE (API reference, CapacityProvider
  `updateStatus`), or UPDATE_FAILED with a reason for a provider the admin API makes fail (the
  same field's values; what fails a real update is not simulated).
- DeleteCapacityProvider of a provider associated with a cluster is not deleted: ECS answers
  with the provider, `updateStatus` DELETE_FAILED and a reason naming the cluster (API
  reference: "Only capacity providers that aren't associated with a cluster can be deleted";
  hashicorp/terraform-provider-aws PR #48156; ekristen/aws-nuke PR #542). A Managed Instances
  provider is deleted from its own cluster (DeleteCapacityProvider `cluster`: "The name of the
  cluster that contains the capacity provider to delete"; that its association with that cluster
  does not hold the delete back is **unverified**).
- DeleteCluster refuses while Managed Instances providers are scoped to the cluster:
  ClientException "The Cluster cannot be deleted while Cluster Scoped Capacity Providers are
  attached to the cluster." (hashicorp/terraform-provider-aws PR #45794; ekristen/aws-nuke#990).
"""

from __future__ import annotations

import copy
from typing import Any

from moto.ecs.exceptions import ClusterNotFoundException, EcsClientException
from moto.ecs.models import CapacityProvider

from . import state

#: ECS seconds an update stays UPDATE_IN_PROGRESS.
UPDATE_SECONDS = 20.0

#: DeleteCapacityProvider's reason for a provider a cluster still uses (terraform-provider-aws
#: PR #48156 quotes it).
ASSOCIATED = (
    "The capacity provider cannot be deleted because it is associated with cluster: {cluster}. "
    "Remove the capacity provider from the cluster and try again."
)


#: DeleteCluster's refusal while Managed Instances providers are scoped to the cluster.
CLUSTER_SCOPED_ATTACHED = "The Cluster cannot be deleted while Cluster Scoped Capacity Providers are attached to the cluster."


def scoped_to(backend: Any, cluster: str) -> list[str]:
    """Managed Instances providers that belong to `cluster`."""
    return sorted(p.name for p in backend.capacity_providers.values() if getattr(p, "cluster", None) == cluster)


def _managed_instances(provider: CapacityProvider) -> dict[str, Any] | None:
    return getattr(provider, "managed_instances_provider", None)


def shape(provider: CapacityProvider, include_tags: bool) -> dict[str, Any]:
    """The CapacityProvider as ECS answers it: `type` EC2_AUTOSCALING or MANAGED_INSTANCES, the
    cluster of a Managed Instances provider, tags only when asked (`include: ["TAGS"]`)."""
    managed = _managed_instances(provider)
    answer: dict[str, Any] = {
        "capacityProviderArn": provider.capacity_provider_arn,
        "name": provider.name,
        "status": provider.status,
        "type": "MANAGED_INSTANCES" if managed is not None else "EC2_AUTOSCALING",
    }
    if managed is not None:
        answer["managedInstancesProvider"] = managed
        answer["cluster"] = getattr(provider, "cluster", None)
    else:
        answer["autoScalingGroupProvider"] = provider.auto_scaling_group_provider
    if provider.update_status:
        answer["updateStatus"] = provider.update_status
    reason = getattr(provider, "update_status_reason", None)
    if reason:
        answer["updateStatusReason"] = reason
    if include_tags:
        answer["tags"] = provider.tags or []
    return answer


def create(backend: Any, params: dict[str, Any]) -> CapacityProvider:
    """CreateCapacityProvider for both kinds. A Managed Instances provider needs `cluster`, an
    existing one (ClusterNotFoundException otherwise)."""
    name = params.get("name") or ""
    if name in backend.capacity_providers:
        # API reference, CreateCapacityProvider: ClientException for a name in use.
        raise EcsClientException("The specified capacity provider already exists.")
    managed = params.get("managedInstancesProvider")
    asg = params.get("autoScalingGroupProvider")
    if (managed is None) == (asg is None):
        raise EcsClientException(
            "Specify exactly one of autoScalingGroupProvider and managedInstancesProvider."
        )
    if managed is None:
        return backend.create_capacity_provider(name, dict(asg), params.get("tags"))
    cluster = params.get("cluster")
    if not cluster:
        raise EcsClientException("A cluster is required for a Managed Instances capacity provider.")
    if cluster.split("/")[-1] not in backend.clusters:
        raise ClusterNotFoundException
    provider = CapacityProvider(backend.account_id, backend.region_name, name, {}, params.get("tags"))
    provider.auto_scaling_group_provider = None
    provider.managed_instances_provider = dict(managed)
    provider.cluster = cluster.split("/")[-1]
    backend.capacity_providers[name] = provider
    return provider


def _provider(backend: Any, name_or_arn: str) -> CapacityProvider:
    provider = backend._get_provider(name_or_arn)
    if provider is None:
        # unverified wording: ECS answers a ClientException for an unknown provider.
        raise EcsClientException("The specified capacity provider does not exist.")
    return provider


def _snapshot(provider: CapacityProvider) -> dict[str, Any]:
    return copy.deepcopy(
        {"asg": provider.auto_scaling_group_provider, "managed": _managed_instances(provider)}
    )


def _finish_update(provider: CapacityProvider, before: dict[str, Any]) -> None:
    """UPDATE_IN_PROGRESS for a while, then UPDATE_COMPLETE; or, for a provider the admin API
    made fail, UPDATE_FAILED with the reason given and the settings as they were before."""
    provider.update_status = "UPDATE_IN_PROGRESS"
    provider.update_status_reason = None
    failure = state.emulator().update_failures.get(provider.name)

    def complete() -> None:
        if provider.update_status != "UPDATE_IN_PROGRESS":
            return
        if failure is None:
            provider.update_status = "UPDATE_COMPLETE"
            return
        provider.auto_scaling_group_provider = before["asg"]
        if before["managed"] is not None:
            provider.managed_instances_provider = before["managed"]
        provider.update_status = "UPDATE_FAILED"
        provider.update_status_reason = failure

    state.emulator().sim.after(UPDATE_SECONDS, complete)


def update(backend: Any, params: dict[str, Any]) -> CapacityProvider:
    """UpdateCapacityProvider: what ECS can change in place, UPDATE_IN_PROGRESS for a while."""
    provider = _provider(backend, params.get("name") or "")
    before = _snapshot(provider)
    managed = _managed_instances(provider)
    if managed is not None:
        change = params.get("managedInstancesProvider")
        if change is None:
            raise EcsClientException("managedInstancesProvider is required to update this capacity provider.")
        managed["infrastructureRoleArn"] = change.get("infrastructureRoleArn", managed.get("infrastructureRoleArn"))
        template = dict(managed.get("instanceLaunchTemplate") or {})
        for key, value in (change.get("instanceLaunchTemplate") or {}).items():
            if key != "capacityOptionType":  # not in InstanceLaunchTemplateUpdate
                template[key] = value
        managed["instanceLaunchTemplate"] = template
        for key in ("propagateTags", "infrastructureOptimization", "autoRepairConfiguration"):
            if key in change:
                managed[key] = change[key]
    else:
        change = params.get("autoScalingGroupProvider")
        if change is None:
            raise EcsClientException("autoScalingGroupProvider is required to update this capacity provider.")
        provider.update(change)
        if "managedDraining" in change:  # moto forgets it
            provider.auto_scaling_group_provider["managedDraining"] = change["managedDraining"]
    _finish_update(provider, before)
    return provider


def associated_clusters(backend: Any, provider: CapacityProvider) -> list[str]:
    """ACTIVE clusters whose capacityProviders name the provider: deleting a cluster lets its
    providers go (API reference, DeleteCapacityProvider: "To remove a capacity provider from a
    cluster, you can either use PutClusterCapacityProviders or delete the cluster")."""
    return sorted(
        c.name
        for c in backend.clusters.values()
        if c.status == "ACTIVE" and provider.name in (c.capacity_providers or [])
    )


def delete(backend: Any, params: dict[str, Any]) -> CapacityProvider:
    """DeleteCapacityProvider: DELETE_FAILED with ECS's reason while a cluster uses it, else gone
    (INACTIVE in the answer, no longer described)."""
    provider = _provider(backend, params.get("capacityProvider") or "")
    own = getattr(provider, "cluster", None)
    clusters = [c for c in associated_clusters(backend, provider) if c != own]
    if clusters:
        provider.update_status = "DELETE_FAILED"
        provider.update_status_reason = ASSOCIATED.format(cluster=clusters[0])
        return provider
    backend.capacity_providers.pop(provider.name, None)
    if own in backend.clusters:
        cluster = backend.clusters[own]
        cluster.capacity_providers = [p for p in cluster.capacity_providers or [] if p != provider.name]
    provider.status = "INACTIVE"
    provider.update_status = "DELETE_COMPLETE"
    provider.update_status_reason = None
    return provider


def describe(backend: Any, params: dict[str, Any]) -> tuple[list[CapacityProvider], list[dict[str, str]]]:
    """DescribeCapacityProviders, by name or ARN, limited to one cluster's when `cluster` is given.
    Without names, every provider (of the cluster) is listed."""
    cluster = (params.get("cluster") or "").split("/")[-1] or None
    names = params.get("capacityProviders")

    def visible(provider: CapacityProvider) -> bool:
        scoped = getattr(provider, "cluster", None)
        if cluster is None:
            return _managed_instances(provider) is None
        return scoped == cluster or cluster in associated_clusters(backend, provider)

    if not names:
        return [p for p in backend.capacity_providers.values() if visible(p)], []
    found, failures = [], []
    for name in names:
        provider = backend._get_provider(name)
        if provider is not None and visible(provider):
            found.append(provider)
        else:
            arn = f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:capacity-provider/{name.split('/')[-1]}"
            failures.append({"arn": arn, "reason": "MISSING"})
    return found, failures
