"""moto's ECS backend, extended where ECS behaves differently from moto.

`patch.install` makes moto build this class for every account and region. What it adds or
changes, each with its ECS source in the method's doc:
services (create, update, delete, describe, list) with a control plane; tasks (run, stop,
describe, list); task definitions as ECS stores them; the service deployments API; cluster
counts and delete rules.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from moto.ec2 import ec2_backends
from moto.ecs.exceptions import (
    ClusterNotFoundException,
    EcsClientException,
    InvalidParameterException,
    ServiceNotFoundException,
    TaskDefinitionMissingPropertyError,
    TaskDefinitionNotFoundException,
)
from moto.ecs.models import Cluster, EC2ContainerServiceBackend, TaskDefinition

from . import capacity_providers, shapes, state, strategies
from .services import Deployment, EmulatedService
from .tasks import STOPPED_RETENTION_SECONDS, EmulatedTask


class ServiceNotActiveException(InvalidParameterException):
    code = "ServiceNotActiveException"


class ConflictException(InvalidParameterException):
    code = "ConflictException"


class ClusterContainsServicesException(InvalidParameterException):
    code = "ClusterContainsServicesException"


class ClusterContainsTasksException(InvalidParameterException):
    code = "ClusterContainsTasksException"


class ServiceDeploymentNotFoundException(InvalidParameterException):
    code = "ServiceDeploymentNotFoundException"


#: How long a RunTask client token is remembered: "24 hours" or "the lifetime of the resource
#: plus one hour", whichever is lower (API reference, "Ensuring idempotency").
RUN_TASK_TOKEN_SECONDS = 24 * 3600.0


def digest(params: dict[str, Any]) -> str:
    """A request's parameters, without its client token, for idempotency checks."""
    rest = {k: v for k, v in params.items() if k != "clientToken"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()


def page(items: list[Any], params: dict[str, Any], default: int, maximum: int) -> tuple[list[Any], str | None]:
    """One page of `items` for maxResults/nextToken (ECS's list calls return "up to N results and
    a nextToken value if applicable")."""
    size = int(params.get("maxResults") or default)
    if not 1 <= size <= maximum:
        raise InvalidParameterException(f"maxResults must be between 1 and {maximum}.")
    start = 0
    if params.get("nextToken"):
        try:
            start = int(base64.b64decode(params["nextToken"]).decode())
        except ValueError as error:
            raise InvalidParameterException("Invalid nextToken.") from error
    end = start + size
    token = base64.b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token


class EmulatedEcsBackend(EC2ContainerServiceBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        #: CreateService tokens per cluster: (the service created, request digest).
        self.service_tokens: dict[tuple[str, str], tuple[EmulatedService, str]] = {}
        #: RunTask tokens per cluster: (request digest, task ARNs, expiry on time.monotonic()).
        self.run_tokens: dict[tuple[str, str], tuple[str, list[str], float]] = {}

    @property
    def _url_module(self) -> Any:
        # moto looks for the URL routes beside the backend class's module: they are moto's.
        import moto.ecs.urls

        return moto.ecs.urls

    @property
    def emulator(self) -> state.Emulator:
        return state.emulator()

    def caller_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    # --- clusters ------------------------------------------------------------------------------

    def counts(self, cluster: Cluster) -> dict[str, int]:
        """A cluster's counts, from what runs in it (moto keeps them at 0)."""
        tasks = [t for t in self.tasks.get(cluster.name, {}).values() if isinstance(t, EmulatedTask)]
        return {
            "registeredContainerInstancesCount": self.active_instances(cluster.name),
            "runningTasksCount": sum(1 for t in tasks if t.last_status == "RUNNING"),
            "pendingTasksCount": sum(1 for t in tasks if t.last_status in ("PROVISIONING", "PENDING", "ACTIVATING")),
            "activeServicesCount": sum(
                1 for s in self.services.values() if s.cluster_name == cluster.name and s.status == "ACTIVE"
            ),
        }

    def delete_cluster(self, cluster_str: str) -> Cluster:
        """DeleteCluster refuses while services or tasks remain (API reference, DeleteCluster:
        ClusterContainsServicesException "You can't delete a cluster that contains services",
        ClusterContainsTasksException "You can't delete a cluster that has active tasks")."""
        cluster = self._get_cluster(cluster_str)
        counts = self.counts(cluster)
        draining = any(s.cluster_name == cluster.name and s.status == "DRAINING" for s in self.services.values())
        if counts["activeServicesCount"] or draining:
            raise ClusterContainsServicesException("The Cluster cannot be deleted while Services are active.")
        if counts["runningTasksCount"] or counts["pendingTasksCount"]:
            raise ClusterContainsTasksException("The Cluster cannot be deleted while Tasks are active.")
        if capacity_providers.scoped_to(self, cluster.name):
            # Seen: hashicorp/terraform-provider-aws PR #45794, ekristen/aws-nuke#990 (FACTS.md 8b).
            raise EcsClientException(capacity_providers.CLUSTER_SCOPED_ATTACHED)
        return super().delete_cluster(cluster_str)

    def active_instances(self, cluster_name: str) -> int:
        return sum(1 for i in self.container_instances.get(cluster_name, {}).values() if i.status == "ACTIVE")

    def add_container_instances(self, cluster_name: str, count: int) -> list[str]:
        """Registers `count` EC2 instances with a cluster, as an Auto Scaling group's instances
        running the ECS agent would (admin API)."""
        self._get_cluster(cluster_name)
        ec2 = ec2_backends[self.account_id][self.region_name]
        reservation = ec2.run_instances(
            "ami-12345678", count, user_data=None, security_group_names=[], is_instance_type_default=True
        )
        arns = [
            self.register_container_instance(cluster_name, instance.id).container_instance_arn
            for instance in reservation.instances
        ]
        # New capacity: DAEMON services start a task on it, services waiting to place try again.
        for service in self.services.values():
            if isinstance(service, EmulatedService) and service.cluster_name == cluster_name:
                service.kick()
        return arns

    # --- task definitions ----------------------------------------------------------------------

    def register_task_definition(self, family: str, container_definitions: list[dict[str, Any]], **kwargs: Any) -> TaskDefinition:
        """Registers as ECS stores a revision (see `shapes`): defaults filled in, role names
        expanded, cpu/memory units converted, output-only fields added. moto's own additions
        ECS does not make are undone: an omitted networkMode stays absent (ecs-facts 13)."""
        network_mode = kwargs.get("network_mode")
        shapes.validate_task_definition(
            container_definitions,
            network_mode,
            kwargs.get("memory"),
            kwargs.get("requires_compatibilities"),
            kwargs.get("execution_role_arn"),
        )
        kwargs["cpu"] = shapes.task_size(kwargs.get("cpu"))
        kwargs["memory"] = shapes.task_size(kwargs.get("memory"))
        for key in ("task_role_arn", "execution_role_arn"):
            kwargs[key] = shapes.role_arn(self.account_id, kwargs.get(key))
        kwargs["volumes"] = shapes.volumes(kwargs.get("volumes"))
        containers = [shapes.container_definition(c, network_mode) for c in container_definitions]
        definition = super().register_task_definition(family, containers, **kwargs)
        definition.network_mode = network_mode
        definition.registered_at = self.emulator.sim.now()
        definition.registered_by = self.caller_arn()
        definition.requires_attributes = shapes.requires_attributes(
            {
                "networkMode": network_mode,
                "containerDefinitions": containers,
                "executionRoleArn": kwargs.get("execution_role_arn"),
            }
        )
        return definition

    @staticmethod
    def _validate_container_defs(memory: str | None, container_definitions: list[dict[str, Any]], requires_compatibilities: list[str] | None) -> None:  # type: ignore[override]
        """moto refuses an EC2 container that sets only memoryReservation; ECS takes it (task
        definition parameters, memory: "specify one or both of memory or memoryReservation").
        `shapes.validate_task_definition` judges memory as ECS does; name and image stay moto's."""
        for container in container_definitions:
            for field in ("name", "image"):
                if not container.get(field):
                    raise TaskDefinitionMissingPropertyError(field)

    def describe_task_definition(self, task_definition_str: str) -> TaskDefinition:
        """A family without a revision names its newest ACTIVE revision (aws-cli
        describe-task-definition: "the latest ACTIVE revision is used")."""
        name = task_definition_str.split("/")[-1]
        if ":" in name:
            return super().describe_task_definition(task_definition_str)
        revisions = self.task_definitions.get(name, {})
        active = [r for r, d in revisions.items() if d.status == "ACTIVE"]
        if not active:
            raise TaskDefinitionNotFoundException()
        return revisions[max(active)]

    def delete_task_definitions(self, task_definitions: list[str]) -> tuple[list[TaskDefinition], list[Any]]:
        """DeleteTaskDefinitions: a deleted revision is DELETE_IN_PROGRESS and stays describable by
        its ARN (services still running it "can still scale up or down by modifying the service's
        desired count", API reference), and its number is never issued again ("the revision is
        incremented the next time you create a task definition with that name"). moto forgets it."""
        deleted, failures = super().delete_task_definitions(task_definitions)
        for definition in deleted:
            self.task_definitions.setdefault(definition.family, {})[definition.revision] = definition
        return deleted, failures

    def deregister_task_definition(self, task_definition_str: str) -> TaskDefinition:
        definition = super().deregister_task_definition(task_definition_str)
        if getattr(definition, "deregistered_at", None) is None:
            definition.deregistered_at = self.emulator.sim.now()
        return definition

    def list_task_definitions_page(self, params: dict[str, Any]) -> tuple[list[str], str | None]:
        """ListTaskDefinitions: by family and status, sorted by family and revision (ASC unless
        sort DESC), up to 100 per page (API reference)."""
        family = params.get("familyPrefix")
        status = params.get("status") or "ACTIVE"
        found = [
            d
            for revisions in self.task_definitions.values()
            for d in revisions.values()
            if (family is None or d.family == family) and d.status == status
        ]
        found.sort(key=lambda d: (d.family, d.revision), reverse=params.get("sort") == "DESC")
        return page([d.arn for d in found], params, 100, 100)

    def resolve_task_definition(self, reference: str) -> TaskDefinition:
        """What CreateService, UpdateService and RunTask accept: family, family:revision or ARN,
        of an ACTIVE revision."""
        try:
            definition = self.describe_task_definition(reference)
        except TaskDefinitionNotFoundException as error:
            raise InvalidParameterException("TaskDefinition not found.") from error
        if definition.status != "ACTIVE":
            raise InvalidParameterException("TaskDefinition is inactive")
        return definition

    # --- services ------------------------------------------------------------------------------

    def _network(self, params: dict[str, Any], definition: TaskDefinition, fargate: bool) -> str | None:
        """Checks networkConfiguration as ECS does, and names the VPC's default security group
        for when none is given."""
        network = (params.get("networkConfiguration") or {}).get("awsvpcConfiguration")
        if definition.network_mode == "awsvpc" and not network:
            raise InvalidParameterException("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
        if fargate and definition.network_mode != "awsvpc":
            raise InvalidParameterException("Task definition does not support launch_type FARGATE.")
        if not network:
            return None
        if not network.get("subnets"):
            raise InvalidParameterException("subnets can not be empty.")
        if network.get("assignPublicIp") == "ENABLED" and not fargate:
            # ecs-facts: "Assign public IP is not supported for this launch type." (aws/aws-cdk#13348)
            raise InvalidParameterException("Assign public IP is not supported for this launch type.")
        ec2 = ec2_backends[self.account_id][self.region_name]
        subnets = []
        for subnet_id in network["subnets"]:
            try:
                subnets += ec2.describe_subnets(subnet_ids=[subnet_id])
            except Exception as error:  # moto's InvalidSubnetIdError
                raise InvalidParameterException(
                    f"Error retrieving subnet information for [{subnet_id}]: The subnet ID '{subnet_id}' does not exist "
                    f"(ErrorCode: InvalidSubnetID.NotFound)"
                ) from error
        for group in network.get("securityGroups") or []:
            try:
                ec2.describe_security_groups(group_ids=[group])
            except Exception as error:
                raise InvalidParameterException(
                    f"Error retrieving security group information for [{group}]: The security group '{group}' does "
                    f"not exist (ErrorCode: InvalidGroup.NotFound)"
                ) from error
        default = [g for g in ec2.describe_security_groups(filters={"vpc-id": [subnets[0].vpc_id], "group-name": ["default"]})]
        return default[0].id if default else None

    def create_service_from(self, params: dict[str, Any]) -> EmulatedService:
        """CreateService. The same clientToken with the same parameters returns the service it
        created, without further action (API reference, "Ensuring idempotency"), for as long as
        that service is remembered: while it lives and, deleted, while it is still described as
        INACTIVE (ECS documents a token's lifetime for RunTask only, "the lifetime of the
        resource plus one hour"; the emulator applies it here too). Otherwise an existing ACTIVE
        name is refused ("Creation of service was not idempotent."), a DRAINING one too ("Unable
        to Start a service that is still Draining."), and an INACTIVE name is created anew."""
        cluster = self._get_cluster(params.get("cluster") or "default")
        name = params.get("serviceName")
        if not name:
            raise InvalidParameterException("serviceName can not be blank.")
        key = f"{cluster.name}:{name}"
        token = params.get("clientToken")
        remembered = self.service_tokens.get((cluster.name, token)) if token else None
        if remembered is not None and self.services.get(f"{cluster.name}:{remembered[0].name}") is remembered[0]:
            if remembered[1] == digest(params):
                return remembered[0]
            raise InvalidParameterException("Creation of service was not idempotent.")
        existing = self.services.get(key)
        if isinstance(existing, EmulatedService) and existing.status != "INACTIVE":
            if existing.status == "DRAINING":
                raise InvalidParameterException("Unable to Start a service that is still Draining.")
            raise InvalidParameterException("Creation of service was not idempotent.")
        definition = self.resolve_task_definition(params.get("taskDefinition") or "")
        fargate = shapes.is_fargate(params) or (
            not params.get("launchType")
            and not params.get("capacityProviderStrategy")
            and shapes.is_fargate({"capacityProviderStrategy": cluster.default_capacity_provider_strategy or []})
        )
        default_group = self._network(params, definition, fargate)
        self._check_strategy(cluster, params.get("capacityProviderStrategy"))
        self._check_load_balancers(params.get("loadBalancers"))
        config = shapes.service_config(
            params,
            account_id=self.account_id,
            awsvpc=definition.network_mode == "awsvpc",
            task_definition_arn=definition.arn,
            cluster_default_strategy=cluster.default_capacity_provider_strategy,
            default_security_group=default_group,
            caller_arn=self.caller_arn(),
        )
        strategies.validate(config["deploymentConfiguration"], config["deploymentController"], config["loadBalancers"])
        service = EmulatedService(self, cluster, config, params.get("tags") or [])
        self.services[key] = service
        if token:
            self.service_tokens[(cluster.name, token)] = (service, digest(params))
        service.start()
        return service

    def _check_load_balancers(self, items: list[dict[str, Any]] | None) -> None:
        """A target group must exist and sit behind a load balancer: "The target group with
        targetGroupArn <arn> does not have an associated load balancer." (cloudposse/
        terraform-aws-ecs-web-app#226, hashicorp/terraform#32908, anomalyco/sst#5826). For one
        that does not exist the emulator answers the same (ECS's own text for it is unsourced)."""
        from moto.elbv2.models import elbv2_backends

        groups = elbv2_backends[self.account_id][self.region_name].target_groups
        for item in items or []:
            arn = item.get("targetGroupArn")
            if arn is None:
                continue  # a Classic Load Balancer by name
            group = groups.get(arn)
            if group is None or not group.load_balancer_arns:
                raise InvalidParameterException(
                    f"The target group with targetGroupArn {arn} does not have an associated load balancer."
                )

    def _check_strategy(self, cluster: Cluster, items: list[dict[str, Any]] | None) -> None:
        """A strategy may only name providers associated with the cluster (CreateService API
        reference: "The capacity provider must be associated with the cluster")."""
        for item in items or []:
            provider = item.get("capacityProvider")
            if provider not in (cluster.capacity_providers or []):
                raise InvalidParameterException(
                    f"The specified capacity provider strategy cannot contain a capacity provider that is not "
                    f"associated with the cluster. Associate the capacity provider with the cluster or specify a "
                    f"valid capacity provider and try again."
                )

    @staticmethod
    def _check_strategy_change(service: EmulatedService, params: dict[str, Any]) -> None:
        """Moving to a capacity provider strategy, or changing one, needs a new deployment: the
        message real ECS answers otherwise (seen in aws-cli output; aws/aws-cdk#34631)."""
        wanted = params.get("capacityProviderStrategy")
        if not wanted or params.get("forceNewDeployment"):
            # An empty list goes back to the launch type (`shapes.service_changes`).
            return
        current = service.config.get("capacityProviderStrategy")
        if service.config.get("launchType") or shapes.strategy(wanted) != (current or []):
            raise InvalidParameterException(
                "When switching from launch type to capacity provider strategy on an existing service, or making a "
                "change to a capacity provider strategy on a service that is already using one, you must force a "
                "new deployment."
            )

    def _service(self, cluster_str: str, service_str: str) -> EmulatedService:
        cluster = self._get_cluster(cluster_str)
        service = self.services.get(f"{cluster.name}:{service_str.split('/')[-1]}")
        if not isinstance(service, EmulatedService):
            raise ServiceNotFoundException()
        return service

    def update_service_from(self, params: dict[str, Any]) -> EmulatedService:
        """UpdateService on an ACTIVE service ("Service was not ACTIVE." otherwise)."""
        cluster = self._get_cluster(params.get("cluster") or "default")
        service = self._service(cluster.name, params.get("service") or "")
        if service.status != "ACTIVE":
            raise ServiceNotActiveException("Service was not ACTIVE.")
        definition = None
        if params.get("taskDefinition"):
            definition = self.resolve_task_definition(params["taskDefinition"])
        merged = {**service.config, **{k: v for k, v in params.items() if v is not None}}
        if params.get("capacityProviderStrategy") is not None:
            merged.pop("launchType", None)
        default_group = None
        if params.get("networkConfiguration") is not None:
            if service.config["deploymentController"].get("type") == "CODE_DEPLOY":
                # ecs-facts (UpdateService errors, pulumi/pulumi-aws#1961).
                raise InvalidParameterException(
                    "Unable to update network parameters on services with a CODE_DEPLOY deployment controller. "
                    "Use AWS CodeDeploy to trigger a new deployment."
                )
            # A revision deleted since (DELETE_IN_PROGRESS) still describes; only its network matters.
            current_definition = definition or self.describe_task_definition(service.config["taskDefinition"])
            default_group = self._network(merged, current_definition, shapes.is_fargate(merged))
        self._check_strategy_change(service, params)
        self._check_strategy(cluster, params.get("capacityProviderStrategy") or None)
        self._check_load_balancers(params.get("loadBalancers"))
        changes = shapes.service_changes(
            params,
            service.config,
            account_id=self.account_id,
            task_definition_arn=definition.arn if definition else None,
            default_security_group=default_group,
        )
        merged_config = {**service.config, **changes}
        strategies.validate(
            merged_config["deploymentConfiguration"], merged_config.get("deploymentController"), merged_config.get("loadBalancers")
        )
        service.update(changes, bool(params.get("forceNewDeployment")))
        return service

    def delete_service_from(self, cluster_str: str, service_str: str, force: bool) -> EmulatedService:
        """DeleteService: "The service cannot be stopped while it is scaled above 0." unless
        forced; then DRAINING, and INACTIVE once its tasks stop (API reference)."""
        service = self._service(cluster_str, service_str)
        if service.status == "INACTIVE":
            raise ServiceNotActiveException("Service was not ACTIVE.")
        if service.status == "ACTIVE":
            if service.desired_count > 0 and not force and service.scheduling_strategy == "REPLICA":
                raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
            service.delete()
        return service

    def describe_services_from(self, cluster_str: str, names: list[str]) -> tuple[list[EmulatedService], list[dict[str, str]]]:
        """DescribeServices, INACTIVE ones included; an unknown one is a failure "MISSING" with
        the ARN asked for (aws-sdk-core-ruby#221)."""
        cluster = self._get_cluster(cluster_str)
        if not names:
            raise InvalidParameterException("Services cannot be empty.")
        if len(names) > 10:
            # The API reference allows "up to 10 services"; the message is the emulator's own.
            raise InvalidParameterException("A maximum of 10 services can be described at a time.")
        found, failures = [], []
        for name in names:
            service = self.services.get(f"{cluster.name}:{name.split('/')[-1]}")
            if isinstance(service, EmulatedService):
                found.append(service)
            else:
                arn = name if name.startswith("arn:") else f"arn:aws:ecs:{self.region_name}:{self.account_id}:service/{cluster.name}/{name}"
                failures.append({"arn": arn, "reason": "MISSING"})
        return found, failures

    def list_services_page(self, params: dict[str, Any]) -> tuple[list[str], str | None]:
        """ListServices: ACTIVE services only (a deleted service "is no longer visible ... in the
        ListServices API operation"), 10 per page unless maxResults (at most 100) says otherwise."""
        cluster = self._get_cluster(params.get("cluster") or "default")
        arns = sorted(
            s.arn
            for s in self.services.values()
            if s.cluster_name == cluster.name
            and s.status == "ACTIVE"
            and (not params.get("launchType") or s.launch_type == params["launchType"])
            and (not params.get("schedulingStrategy") or s.scheduling_strategy == params["schedulingStrategy"])
        )
        return page(arns, params, 10, 100)

    def forget_service(self, service: EmulatedService) -> None:
        key = f"{service.cluster_name}:{service.name}"
        if self.services.get(key) is service:
            del self.services[key]
        self.forget_tasks(service.cluster_name, service.tasks)
        for token in [t for t, (s, _) in self.service_tokens.items() if s is service]:
            del self.service_tokens[token]

    def forget_tasks(self, cluster_name: str, tasks: list[EmulatedTask]) -> None:
        cluster_tasks = self.tasks.get(cluster_name, {})
        for task in tasks:
            cluster_tasks.pop(task.arn, None)

    def placement_problem(self, service: EmulatedService, deployment: Deployment) -> str | None:
        """Why a task of `deployment` cannot be placed (the "Reason: ..." of ECS's "was unable
        to place a task" event), or None. EC2 tasks need a registered container instance;
        Fargate and capacity providers (their Auto Scaling groups scale out) always place."""
        if deployment.config.get("capacityProviderStrategy"):
            return None
        if deployment.config.get("launchType") in ("EC2", "EXTERNAL") and not self.active_instances(service.cluster_name):
            return "No Container Instances were found in your cluster"
        return None

    def _owner(self, arn: str) -> EmulatedService | None:
        """The service a service deployment or revision ARN belongs to
        (`...:service-deployment/<cluster>/<service>/<id>`)."""
        parts = arn.split(":", 5)[-1].split("/")
        if len(parts) != 4:
            return None
        service = self.services.get(f"{parts[1]}:{parts[2]}")
        return service if isinstance(service, EmulatedService) else None

    def service_deployment(self, arn: str) -> tuple[EmulatedService, Deployment] | None:
        service = self._owner(arn)
        found = next((d for d in service.history if d.arn == arn), None) if service else None
        return (service, found) if service and found else None

    def continue_service_deployment(self, params: dict[str, Any]) -> str:
        """ContinueServiceDeployment: acts on a PAUSE hook "in AWAITING_ACTION status" of a
        deployment that "must be in the IN_PROGRESS state" (developer guide, "Continuing service
        deployments"); `action` defaults to CONTINUE (API reference). The refusals' words are
        the emulator's (unverified)."""
        arn = params.get("serviceDeploymentArn") or ""
        hit = self.service_deployment(arn)
        if hit is None:
            raise ServiceDeploymentNotFoundException("The service deployment does not exist.")
        service, deployment = hit
        action = params.get("action") or "CONTINUE"
        if action not in ("CONTINUE", "ROLLBACK"):
            raise InvalidParameterException("action must be one of [CONTINUE, ROLLBACK].")
        if deployment.sd_status != "IN_PROGRESS":
            raise InvalidParameterException(f"The service deployment is {deployment.sd_status}, not IN_PROGRESS.")
        run = deployment.rollout.find(params.get("hookId") or "") if deployment.rollout else None
        if run is None:
            raise InvalidParameterException(f"The lifecycle hook {params.get('hookId')} was not found in the service deployment.")
        if run.status != "AWAITING_ACTION":
            raise InvalidParameterException(f"The lifecycle hook {run.hook_id} is {run.status}, not AWAITING_ACTION.")
        deployment.rollout.resolve(run, action)
        return arn

    def service_revision(self, arn: str) -> tuple[EmulatedService, Deployment] | None:
        service = self._owner(arn)
        found = next((d for d in service.history if d.revision_arn == arn), None) if service else None
        return (service, found) if service and found else None

    # --- tasks ---------------------------------------------------------------------------------

    def run_task_from(self, params: dict[str, Any]) -> tuple[list[EmulatedTask], list[dict[str, str]]]:
        """RunTask: count 1-10, a launch type, a strategy or the cluster's default, awsvpc needs a
        network configuration, EC2 needs container instances ("No Container Instances were found
        in your cluster."), and a clientToken makes a retry return the same tasks (API
        reference, RunTask and "Ensuring idempotency")."""
        cluster = self._get_cluster(params.get("cluster") or "default")
        count = int(params.get("count") or 1)
        if not 1 <= count <= 10:
            raise InvalidParameterException("count must be between 1 and 10.")
        token = params.get("clientToken")
        now = time.monotonic()
        if token:
            remembered = self.run_tokens.get((cluster.name, token))
            if remembered is not None and remembered[2] > now:
                if remembered[0] != digest(params):
                    raise ConflictException("The specified client token has already been used with different parameters.")
                tasks = self.tasks.get(cluster.name, {})
                return [tasks[arn] for arn in remembered[1] if arn in tasks], []
        if params.get("launchType") and params.get("capacityProviderStrategy"):
            raise InvalidParameterException("Specify either Launch Type or Capacity Provider Strategy, but not both.")
        definition = self.resolve_task_definition(params.get("taskDefinition") or "")
        strategy = params.get("capacityProviderStrategy") or (
            None if params.get("launchType") else cluster.default_capacity_provider_strategy
        )
        launch_type = params.get("launchType") or (None if strategy else "EC2")
        self._check_strategy(cluster, params.get("capacityProviderStrategy"))
        fargate = shapes.is_fargate({"launchType": launch_type, "capacityProviderStrategy": strategy or []})
        self._network(params, definition, fargate)
        if launch_type in ("EC2", "EXTERNAL") and not self.active_instances(cluster.name):
            raise InvalidParameterException("No Container Instances were found in your cluster.")
        overrides = params.get("overrides") or {}
        network = shapes.network_configuration(params.get("networkConfiguration"), None)
        tasks = []
        for _ in range(count):
            task = EmulatedTask(
                self.emulator.sim,
                cluster,
                definition,
                account_id=self.account_id,
                script=self.emulator.script_for(definition, overrides),
                started_by=params.get("startedBy") or "",
                group=params.get("group") or "",
                launch_type=launch_type,
                capacity_provider_name=strategy[0]["capacityProvider"] if strategy else None,
                platform_version=params.get("platformVersion"),
                overrides=overrides,
                tags=params.get("tags") or [],
                network_configuration=network,
                enable_execute_command=bool(params.get("enableExecuteCommand")),
            )
            self.tasks.setdefault(cluster.name, {})[task.arn] = task
            tasks.append(task)
        if token:
            expiry = now + self.emulator.sim.wall(RUN_TASK_TOKEN_SECONDS)
            self.run_tokens[(cluster.name, token)] = (digest(params), [t.arn for t in tasks], expiry)
            for expired in [k for k, (_, _, until) in self.run_tokens.items() if until <= now]:
                del self.run_tokens[expired]
        return tasks, []

    def _task(self, cluster: Cluster, reference: str) -> EmulatedTask | None:
        """A task by ARN or id (an ARN is `.../task/<cluster>/<id>`: one dict lookup)."""
        task_id = reference.split("/")[-1]
        arn = f"arn:aws:ecs:{self.region_name}:{self.account_id}:task/{cluster.name}/{task_id}"
        task = self.tasks.get(cluster.name, {}).get(arn)
        return task if isinstance(task, EmulatedTask) else None

    def _expire_tasks(self, cluster: Cluster) -> None:
        """Stopped tasks are describable "for at least 1 hour after the task stops" (FACTS.md 4.1)."""
        horizon = self.emulator.sim.now().timestamp() - self.emulator.sim.wall(STOPPED_RETENTION_SECONDS)
        tasks = self.tasks.get(cluster.name, {})
        for arn in [a for a, t in tasks.items() if isinstance(t, EmulatedTask) and t.stopped_at and t.stopped_at.timestamp() < horizon]:
            del tasks[arn]

    def stop_task(self, cluster_str: str, task_str: str, reason: str | None) -> EmulatedTask:  # type: ignore[override]
        """StopTask: stop code UserInitiated, reason "Task stopped by user" unless one is given."""
        cluster = self._get_cluster(cluster_str)
        task = self._task(cluster, task_str)
        if task is None:
            raise InvalidParameterException("The referenced task was not found.")
        task.stop("UserInitiated", reason or "Task stopped by user")
        return task

    def describe_tasks_from(self, cluster_str: str, references: list[str]) -> tuple[list[EmulatedTask], list[dict[str, str]]]:
        cluster = self._get_cluster(cluster_str)
        if not references:
            raise InvalidParameterException("Tasks cannot be empty.")
        if len(references) > 100:
            raise InvalidParameterException("A maximum of 100 tasks can be described at a time.")
        self._expire_tasks(cluster)
        found, failures = [], []
        for reference in references:
            task = self._task(cluster, reference)
            if task is None:
                failures.append({"arn": reference, "reason": "MISSING"})
            else:
                found.append(task)
        return found, failures

    def list_tasks_page(self, params: dict[str, Any]) -> tuple[list[str], str | None]:
        """ListTasks: desiredStatus RUNNING unless asked otherwise ("The default status filter is
        RUNNING"), by family, startedBy, serviceName, launchType; 100 per page."""
        cluster = self._get_cluster(params.get("cluster") or "default")
        self._expire_tasks(cluster)
        desired = params.get("desiredStatus") or "RUNNING"
        tasks = [t for t in self.tasks.get(cluster.name, {}).values() if isinstance(t, EmulatedTask)]
        selected = [
            t
            for t in tasks
            if t.desired_status == desired
            and (not params.get("family") or t.task_definition.family == params["family"])
            and (not params.get("startedBy") or t.started_by == params["startedBy"])
            and (not params.get("serviceName") or t.group == f"service:{params['serviceName'].split('/')[-1]}")
            and (not params.get("launchType") or t.launch_type == params["launchType"])
        ]
        return page([t.arn for t in selected], params, 100, 100)


def cluster_shape(backend: EmulatedEcsBackend, cluster: Cluster, include: list[str]) -> dict[str, Any]:
    """The Cluster shape: counts from what runs; `settings`, `configuration`, `tags`,
    `statistics` and `attachments` only when `include` asks for them (API reference,
    DescribeClusters.include; ecs-facts clusters 2)."""
    shape: dict[str, Any] = {
        "clusterArn": cluster.arn,
        "clusterName": cluster.name,
        "status": cluster.status,
        **backend.counts(cluster),
        "statistics": [],
        "tags": (cluster.tags or []) if "TAGS" in include else [],
        "capacityProviders": cluster.capacity_providers or [],
        "defaultCapacityProviderStrategy": shapes.strategy(cluster.default_capacity_provider_strategy or []),
    }
    if "SETTINGS" in include:
        shape["settings"] = cluster.settings
    if "CONFIGURATIONS" in include and cluster.configuration:
        shape["configuration"] = cluster.configuration
    if cluster.service_connect_defaults:
        shape["serviceConnectDefaults"] = cluster.service_connect_defaults
    return shape


__all__ = [
    "ClusterNotFoundException",
    "EcsClientException",
    "EmulatedEcsBackend",
    "cluster_shape",
]
