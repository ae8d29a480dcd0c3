"""The ECS operations the emulator answers itself, as methods of moto's ECS response class.

Each takes the whole request (moto's own handlers pass on only the fields moto models) and
answers with plain dicts; moto serializes them through botocore's ECS model, so an answer can
only carry what the real API's shapes allow.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.responses import EC2ContainerServiceResponse

from . import capacity_providers
from .backend import EmulatedEcsBackend, ServiceDeploymentNotFoundException, cluster_shape
from moto.ecs.exceptions import InvalidParameterException


def _backend(response: EC2ContainerServiceResponse) -> EmulatedEcsBackend:
    backend = response.ecs_backend
    assert isinstance(backend, EmulatedEcsBackend)
    return backend


def _params(response: EC2ContainerServiceResponse) -> dict[str, Any]:
    return response._get_params()


def _include(params: dict[str, Any], what: str) -> bool:
    return what in (params.get("include") or [])


# --- services -------------------------------------------------------------------------------------


def create_service(self: EC2ContainerServiceResponse) -> ActionResult:
    service = _backend(self).create_service_from(_params(self))
    return ActionResult({"service": service.describe(include_tags=True)})


def update_service(self: EC2ContainerServiceResponse) -> ActionResult:
    service = _backend(self).update_service_from(_params(self))
    return ActionResult({"service": service.describe(include_tags=False)})


def delete_service(self: EC2ContainerServiceResponse) -> ActionResult:
    params = _params(self)
    service = _backend(self).delete_service_from(params.get("cluster") or "default", params.get("service") or "", bool(params.get("force")))
    return ActionResult({"service": service.describe(include_tags=False)})


def describe_services(self: EC2ContainerServiceResponse) -> ActionResult:
    params = _params(self)
    services, failures = _backend(self).describe_services_from(params.get("cluster") or "default", params.get("services") or [])
    tags = _include(params, "TAGS")
    return ActionResult({"services": [s.describe(include_tags=tags) for s in services], "failures": failures})


def list_services(self: EC2ContainerServiceResponse) -> ActionResult:
    arns, token = _backend(self).list_services_page(_params(self))
    return ActionResult({"serviceArns": arns, "nextToken": token})


# --- the service deployments API -----------------------------------------------------------------


def list_service_deployments(self: EC2ContainerServiceResponse) -> ActionResult:
    """ListServiceDeployments: newest first, filtered by status and createdAt, 20 per page."""
    from .backend import page

    params = _params(self)
    backend = _backend(self)
    service = backend._service(params.get("cluster") or "default", params.get("service") or "")
    statuses = params.get("status") or []
    created = params.get("createdAt") or {}
    briefs = []
    for d in service.history:
        if statuses and d.sd_status not in statuses:
            continue
        if created.get("after") and d.created_at.timestamp() < float(created["after"]):
            continue
        if created.get("before") and d.created_at.timestamp() > float(created["before"]):
            continue
        brief = {
            "serviceDeploymentArn": d.arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "startedAt": d.started_at,
            "createdAt": d.created_at,
            "finishedAt": d.finished_at,
            "targetServiceRevisionArn": d.revision_arn,
            "status": d.sd_status,
            "statusReason": d.sd_status_reason,
        }
        briefs.append({k: v for k, v in brief.items() if v is not None})
    items, token = page(briefs, params, 20, 100)
    return ActionResult({"serviceDeployments": items, "nextToken": token})


def describe_service_deployments(self: EC2ContainerServiceResponse) -> ActionResult:
    arns = _params(self).get("serviceDeploymentArns") or []
    if not 1 <= len(arns) <= 20:
        raise InvalidParameterException("serviceDeploymentArns must name 1 to 20 service deployments.")
    found, failures = [], []
    for arn in arns:
        hit = _backend(self).service_deployment(arn)
        if hit is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(hit[0].service_deployment(hit[1]))
    return ActionResult({"serviceDeployments": found, "failures": failures})


def stop_service_deployment(self: EC2ContainerServiceResponse) -> ActionResult:
    params = _params(self)
    arn = params.get("serviceDeploymentArn") or ""
    hit = _backend(self).service_deployment(arn)
    if hit is None:
        raise ServiceDeploymentNotFoundException("The service deployment does not exist.")
    service, deployment = hit
    if deployment.sd_status not in ("PENDING", "IN_PROGRESS"):
        raise InvalidParameterException(f"The service deployment is {deployment.sd_status} and can no longer be stopped.")
    stop_type = params.get("stopType") or "ROLLBACK"
    if stop_type not in ("ROLLBACK", "ABORT"):
        raise InvalidParameterException("stopType must be one of [ROLLBACK, ABORT].")
    service.stop_deployment(deployment, stop_type)
    return ActionResult({"serviceDeploymentArn": arn})


def continue_service_deployment(self: EC2ContainerServiceResponse) -> ActionResult:
    arn = _backend(self).continue_service_deployment(_params(self))
    return ActionResult({"serviceDeploymentArn": arn})


def describe_service_revisions(self: EC2ContainerServiceResponse) -> ActionResult:
    arns = _params(self).get("serviceRevisionArns") or []
    found, failures = [], []
    for arn in arns:
        hit = _backend(self).service_revision(arn)
        if hit is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(hit[0].service_revision(hit[1]))
    return ActionResult({"serviceRevisions": found, "failures": failures})


# --- tasks ----------------------------------------------------------------------------------------


def run_task(self: EC2ContainerServiceResponse) -> ActionResult:
    tasks, failures = _backend(self).run_task_from(_params(self))
    return ActionResult({"tasks": [t.describe(include_tags=True) for t in tasks], "failures": failures})


def stop_task(self: EC2ContainerServiceResponse) -> ActionResult:
    params = _params(self)
    task = _backend(self).stop_task(params.get("cluster") or "default", params.get("task") or "", params.get("reason"))
    return ActionResult({"task": task.describe()})


def describe_tasks(self: EC2ContainerServiceResponse) -> ActionResult:
    params = _params(self)
    tasks, failures = _backend(self).describe_tasks_from(params.get("cluster") or "default", params.get("tasks") or [])
    tags = _include(params, "TAGS")
    return ActionResult({"tasks": [t.describe(include_tags=tags) for t in tasks], "failures": failures})


def list_tasks(self: EC2ContainerServiceResponse) -> ActionResult:
    arns, token = _backend(self).list_tasks_page(_params(self))
    return ActionResult({"taskArns": arns, "nextToken": token})


# --- task definitions and clusters ----------------------------------------------------------------


def list_task_definitions(self: EC2ContainerServiceResponse) -> ActionResult:
    arns, token = _backend(self).list_task_definitions_page(_params(self))
    return ActionResult({"taskDefinitionArns": arns, "nextToken": token})


def describe_clusters(self: EC2ContainerServiceResponse) -> ActionResult:
    params = _params(self)
    backend = _backend(self)
    clusters, failures = backend.describe_clusters(params.get("clusters") or [])
    include = params.get("include") or []
    return ActionResult(
        {
            "clusters": [cluster_shape(backend, c, include) for c in clusters],
            "failures": [{"arn": f.arn, "reason": f.reason} for f in failures],
        }
    )


def create_cluster(self: EC2ContainerServiceResponse) -> ActionResult:
    """CreateCluster answers with the tags given and without settings (ecs-facts clusters 1)."""
    original = _ORIGINAL["create_cluster"](self)
    cluster = original.result["cluster"]  # type: ignore[index]
    return ActionResult({"cluster": cluster_shape(_backend(self), cluster, ["TAGS", "CONFIGURATIONS"])})


def delete_cluster(self: EC2ContainerServiceResponse) -> ActionResult:
    cluster = _backend(self).delete_cluster(_params(self).get("cluster") or "default")
    return ActionResult({"cluster": cluster_shape(_backend(self), cluster, [])})


# --- capacity providers (see capacity_providers.py) -----------------------------------------------


def create_capacity_provider(self: EC2ContainerServiceResponse) -> ActionResult:
    provider = capacity_providers.create(_backend(self), _params(self))
    return ActionResult({"capacityProvider": capacity_providers.shape(provider, include_tags=True)})


def update_capacity_provider(self: EC2ContainerServiceResponse) -> ActionResult:
    provider = capacity_providers.update(_backend(self), _params(self))
    return ActionResult({"capacityProvider": capacity_providers.shape(provider, include_tags=False)})


def delete_capacity_provider(self: EC2ContainerServiceResponse) -> ActionResult:
    provider = capacity_providers.delete(_backend(self), _params(self))
    return ActionResult({"capacityProvider": capacity_providers.shape(provider, include_tags=False)})


def describe_capacity_providers(self: EC2ContainerServiceResponse) -> ActionResult:
    params = _params(self)
    providers, failures = capacity_providers.describe(_backend(self), params)
    tags = _include(params, "TAGS")
    return ActionResult(
        {"capacityProviders": [capacity_providers.shape(p, include_tags=tags) for p in providers], "failures": failures}
    )


HANDLERS = {
    "create_capacity_provider": create_capacity_provider,
    "update_capacity_provider": update_capacity_provider,
    "delete_capacity_provider": delete_capacity_provider,
    "describe_capacity_providers": describe_capacity_providers,
    "create_service": create_service,
    "update_service": update_service,
    "delete_service": delete_service,
    "describe_services": describe_services,
    "list_services": list_services,
    "list_service_deployments": list_service_deployments,
    "describe_service_deployments": describe_service_deployments,
    "stop_service_deployment": stop_service_deployment,
    "continue_service_deployment": continue_service_deployment,
    "describe_service_revisions": describe_service_revisions,
    "run_task": run_task,
    "stop_task": stop_task,
    "describe_tasks": describe_tasks,
    "list_tasks": list_tasks,
    "list_task_definitions": list_task_definitions,
    "describe_clusters": describe_clusters,
    "create_cluster": create_cluster,
    "delete_cluster": delete_cluster,
}
_ORIGINAL: dict[str, Any] = {}


def install() -> None:
    """Puts the handlers on moto's ECS response class (once)."""
    for name, handler in HANDLERS.items():
        if name not in _ORIGINAL:
            _ORIGINAL[name] = getattr(EC2ContainerServiceResponse, name, None)
            setattr(EC2ContainerServiceResponse, name, handler)
