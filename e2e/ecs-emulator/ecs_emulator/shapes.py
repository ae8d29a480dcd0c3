"""Answers shaped like real ECS's: what ECS fills in, expands or reorders in what it was sent.

Every rule here is applied to every request, always: a test cannot tune around them. Each names
its source; FACTS.md has the table (and the README a summary).
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from moto.ecs.exceptions import EcsClientException, InvalidParameterException

#: The service-linked role ECS uses when CreateService names no role (aws-cli create-service
#: examples: "roleArn": "arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS").
SERVICE_LINKED_ROLE = "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def role_arn(account_id: str, role: str | None) -> str | None:
    """A role name comes back as its ARN (RegisterTaskDefinition taskRoleArn/executionRoleArn,
    CreateService role: "If your specified role has a path other than /, then you must either
    specify the full role ARN ... or prefix the role name with the path", ECS API reference;
    aws-actions/amazon-ecs-render-task-definition#19 shows names expanded)."""
    if not role or role.startswith("arn:"):
        return role
    return f"arn:aws:iam::{account_id}:role/{role.lstrip('/')}"


# --- services -----------------------------------------------------------------------------------


def is_fargate(config: dict[str, Any]) -> bool:
    return config.get("launchType") == "FARGATE" or any(
        s.get("capacityProvider") in FARGATE_PROVIDERS for s in config.get("capacityProviderStrategy") or []
    )


def strategy(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Capacity provider strategy items come back with `base` and `weight` filled in (0): the
    DescribeServices output of terraform-provider-aws#29143 and #11351."""
    return [{"capacityProvider": i["capacityProvider"], "weight": i.get("weight", 0), "base": i.get("base", 0)} for i in items]


def deployment_configuration(given: dict[str, Any] | None, daemon: bool) -> dict[str, Any]:
    """deploymentConfiguration as ECS reports it: 200/100 for REPLICA (100/0 for DAEMON) and the
    circuit breaker off unless given (aws-cli create-service outputs; ECS API reference,
    DeploymentConfiguration: "If a service is using the rolling update (ECS) deployment type, the
    maximumPercent parameter ... defaults to 200%", "minimumHealthyPercent ... defaults to 100%",
    for DAEMON "100%" and "0%")."""
    config = copy.deepcopy(given or {})
    config.setdefault("deploymentCircuitBreaker", {"enable": False, "rollback": False})
    config.setdefault("maximumPercent", 100 if daemon else 200)
    config.setdefault("minimumHealthyPercent", 0 if daemon else 100)
    config.setdefault("strategy", "ROLLING")
    if config["strategy"] == "ROLLING":
        config.setdefault("bakeTimeInMinutes", 0)
    return config


def network_configuration(given: dict[str, Any] | None, default_security_group: str | None) -> dict[str, Any] | None:
    """awsvpcConfiguration with assignPublicIp DISABLED when omitted (ECS API reference,
    AwsVpcConfiguration: "The default value is DISABLED"), and the VPC's default security group
    when none is named ("If you don't specify a security group, the default security group for
    the VPC is used")."""
    if not given:
        return None
    config = copy.deepcopy(given)
    awsvpc = config.get("awsvpcConfiguration")
    if awsvpc is not None:
        awsvpc.setdefault("assignPublicIp", "DISABLED")
        if not awsvpc.get("securityGroups") and default_security_group:
            awsvpc["securityGroups"] = [default_security_group]
    return config


def service_config(
    params: dict[str, Any],
    *,
    account_id: str,
    awsvpc: bool,
    task_definition_arn: str,
    cluster_default_strategy: list[dict[str, Any]] | None,
    default_security_group: str | None,
    caller_arn: str,
) -> dict[str, Any]:
    """The service's configuration, as DescribeServices will report it, from CreateService's
    input. Defaults are from the aws-cli create-service examples and the ECS API reference."""
    if params.get("launchType") and params.get("capacityProviderStrategy"):
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."
        )
    daemon = params.get("schedulingStrategy") == "DAEMON"
    config: dict[str, Any] = {
        "serviceName": params["serviceName"],
        "taskDefinition": task_definition_arn,
        "desiredCount": int(params.get("desiredCount") or 0),
        "loadBalancers": params.get("loadBalancers") or [],
        "serviceRegistries": params.get("serviceRegistries") or [],
        "deploymentConfiguration": deployment_configuration(params.get("deploymentConfiguration"), daemon),
        "placementConstraints": params.get("placementConstraints") or [],
        "placementStrategy": params.get("placementStrategy") or [],
        "schedulingStrategy": params.get("schedulingStrategy") or "REPLICA",
        "deploymentController": params.get("deploymentController") or {"type": "ECS"},
        "enableECSManagedTags": bool(params.get("enableECSManagedTags", False)),
        "propagateTags": params.get("propagateTags") or "NONE",
        "enableExecuteCommand": bool(params.get("enableExecuteCommand", False)),
        "createdBy": caller_arn,
        # Since 2025 new services are created with AZ rebalancing on (ECS developer guide,
        # "Balancing an Amazon ECS service across Availability Zones").
        "availabilityZoneRebalancing": params.get("availabilityZoneRebalancing") or "ENABLED",
    }
    if params.get("capacityProviderStrategy"):
        config["capacityProviderStrategy"] = strategy(params["capacityProviderStrategy"])
    elif params.get("launchType"):
        config["launchType"] = params["launchType"]
    elif cluster_default_strategy:
        # "If no capacityProviderStrategy or launchType is specified, the
        # defaultCapacityProviderStrategy for the cluster is used" (CreateService API reference).
        config["capacityProviderStrategy"] = strategy(cluster_default_strategy)
    else:
        config["launchType"] = "EC2"
    if is_fargate(config):
        # "If one isn't specified, the LATEST platform version is used" (CreateService).
        config["platformVersion"] = params.get("platformVersion") or "LATEST"
        config["platformFamily"] = "Linux"
    elif params.get("platformVersion"):
        config["platformVersion"] = params["platformVersion"]
    network = network_configuration(params.get("networkConfiguration"), default_security_group)
    if network is not None:
        config["networkConfiguration"] = network
    # The service-linked role, unless the service neither uses awsvpc nor a load balancer (the
    # aws-cli create-service examples: Fargate and load-balanced services show it, an EC2 bridge
    # service without a load balancer has no roleArn); a role given comes back as its ARN.
    if params.get("role"):
        config["roleArn"] = role_arn(account_id, params["role"])
    elif awsvpc or config["loadBalancers"]:
        config["roleArn"] = f"arn:aws:iam::{account_id}:{SERVICE_LINKED_ROLE}"
    if params.get("healthCheckGracePeriodSeconds") is not None:
        config["healthCheckGracePeriodSeconds"] = int(params["healthCheckGracePeriodSeconds"])
    elif config["loadBalancers"]:
        config["healthCheckGracePeriodSeconds"] = 0
    for key in ("serviceConnectConfiguration", "volumeConfigurations", "vpcLatticeConfigurations"):
        if params.get(key):
            config[key] = params[key]
    return config


def service_changes(
    params: dict[str, Any],
    current: dict[str, Any],
    *,
    account_id: str,
    task_definition_arn: str | None,
    default_security_group: str | None,
) -> dict[str, Any]:
    """What an UpdateService changes, shaped as `service_config` shapes CreateService."""
    changes: dict[str, Any] = {}
    if task_definition_arn is not None:
        changes["taskDefinition"] = task_definition_arn
    if params.get("desiredCount") is not None:
        changes["desiredCount"] = int(params["desiredCount"])
    if params.get("deploymentConfiguration") is not None:
        changes["deploymentConfiguration"] = deployment_configuration(
            params["deploymentConfiguration"], current.get("schedulingStrategy") == "DAEMON"
        )
    if params.get("capacityProviderStrategy"):
        # Moving from a launch type to a capacity provider strategy is an in-place change
        # (UpdateService API reference, capacityProviderStrategy: "Update the Amazon EC2 launch
        # type to a Fargate capacity provider", ...).
        changes["capacityProviderStrategy"] = strategy(params["capacityProviderStrategy"])
        changes["launchType"] = None
    elif params.get("capacityProviderStrategy") == [] and current.get("capacityProviderStrategy"):
        # "Update the Auto Scaling group or Fargate capacity provider back to the launch type.
        # Pass an empty list in the capacityProviderStrategy parameter." (same reference): the
        # launch type of the providers' kind.
        changes["capacityProviderStrategy"] = None
        changes["launchType"] = "FARGATE" if is_fargate(current) else "EC2"
    if params.get("networkConfiguration") is not None:
        changes["networkConfiguration"] = network_configuration(params["networkConfiguration"], default_security_group)
    if params.get("platformVersion") is not None:
        changes["platformVersion"] = params["platformVersion"]
    for key in (
        "placementConstraints",
        "placementStrategy",
        "loadBalancers",
        "serviceRegistries",
        "propagateTags",
        "enableECSManagedTags",
        "enableExecuteCommand",
        "healthCheckGracePeriodSeconds",
        "availabilityZoneRebalancing",
        "serviceConnectConfiguration",
        "volumeConfigurations",
        "vpcLatticeConfigurations",
        "deploymentController",
    ):
        if params.get(key) is not None:
            changes[key] = params[key]
    merged = {**current, **changes}
    if is_fargate(merged):
        merged.setdefault("platformVersion", "LATEST")
        changes.setdefault("platformVersion", merged["platformVersion"])
        changes["platformFamily"] = "Linux"
    return changes


# --- task definitions ---------------------------------------------------------------------------

_UNITS = re.compile(r"^\s*(\d*\.?\d+)\s*(vcpu|gb)\s*$", re.IGNORECASE)


def task_size(value: str | None) -> str | None:
    """Task cpu/memory given in vCPU or GB come back as integer strings ("1 vCPU" -> "1024",
    "2 GB" -> "2048"): RegisterTaskDefinition API reference, cpu/memory: "String values are
    converted to an integer indicating the CPU units/MiB when the task definition is registered"."""
    if value is None:
        return None
    match = _UNITS.match(str(value))
    if not match:
        return str(value)
    return str(int(float(match.group(1)) * 1024))


#: Log drivers ECS knows (ECS API reference, LogConfiguration.logDriver), and those Fargate
#: takes ("For tasks on Fargate, the supported log drivers are awslogs, splunk, and
#: awsfirelens", same reference).
LOG_DRIVERS = ("awslogs", "fluentd", "gelf", "journald", "json-file", "logentries", "splunk", "syslog", "awsfirelens")
FARGATE_LOG_DRIVERS = ("awslogs", "splunk", "awsfirelens")

#: Health check bounds (task definition parameters, healthCheck: interval "between 5 and 300
#: seconds", timeout "between 2 and 60 seconds", retries "between 1 and 10", startPeriod
#: "between 0 and 300 seconds").
HEALTH_CHECK_BOUNDS = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "startPeriod": (0, 300)}


def validate_task_definition(
    containers: list[dict[str, Any]],
    network_mode: str | None,
    memory: str | None,
    requires_compatibilities: list[str] | None,
    execution_role_arn: str | None,
) -> None:
    """What RegisterTaskDefinition refuses, with ECS's ClientException messages (FACTS.md 8).
    Messages marked unverified follow ECS's wording for a neighbouring check: ECS's own words
    for them were not found."""
    fargate = "FARGATE" in (requires_compatibilities or [])
    for c in containers:
        name = c.get("name")
        # "At least one of 'memory' or 'memoryReservation' must be specified." unless the task
        # sets memory (sil-org/ecs-deploy#59; moto's TaskDefinitionMemoryError has the words).
        if not memory and c.get("memory") is None and c.get("memoryReservation") is None:
            raise EcsClientException(f"Invalid setting for container '{name}'. At least one of 'memory' or 'memoryReservation' must be specified.")
        # memory >= memoryReservation (FACTS.md 8, "tool"; task definition parameters).
        if c.get("memory") is not None and c.get("memoryReservation") is not None and c["memoryReservation"] > c["memory"]:
            raise EcsClientException(f"Invalid setting for container '{name}'. 'memory' must be greater than or equal to 'memoryReservation'.")
        # awsvpc: host and container ports match (pulumi/pulumi-awsx#935, seen).
        if network_mode == "awsvpc":
            for mapping in c.get("portMappings") or []:
                if "hostPort" in mapping and "containerPort" in mapping and mapping["hostPort"] != mapping["containerPort"]:
                    raise EcsClientException("When networkMode=awsvpc, the host ports and container ports in port mappings must match.")
        # Health check ranges (documented); the message is unverified, shaped like ECS's
        # "Invalid 'containerPort' setting for container 'NAME'." (aws/aws-cdk#8762).
        for field, (low, high) in HEALTH_CHECK_BOUNDS.items():
            value = (c.get("healthCheck") or {}).get(field)
            if value is not None and not low <= value <= high:
                raise EcsClientException(f"Invalid 'healthCheck.{field}' setting for container '{name}'. It must be between {low} and {high}.")
        # Unknown log driver: "<driver> is not a valid log driver. Must be one of
        # [awslogs,splunk,awsfirelens]" (kayac/ecspresso#364, seen on Fargate; the EC2 list is
        # unverified).
        driver = (c.get("logConfiguration") or {}).get("logDriver")
        allowed = FARGATE_LOG_DRIVERS if fargate else LOG_DRIVERS
        if driver is not None and driver not in allowed:
            raise EcsClientException(f"{driver} is not a valid log driver. Must be one of [{','.join(allowed)}]")
        if fargate and c.get("privileged"):
            # Unverified words, shaped like "Tasks using the Fargate launch type do not support
            # ipcMode." (cn-terraform/terraform-aws-ecs-fargate#2); the rule is documented
            # (task definition parameters, privileged: "not supported ... on Fargate").
            raise EcsClientException("Tasks using the Fargate launch type do not support privileged containers.")
        if fargate and driver == "awslogs" and not execution_role_arn:
            # virtual-kubelet/virtual-kubelet#193 (seen).
            raise EcsClientException("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
    # eagletmt/hako PR #68 (seen); essential defaults to true.
    if containers and not any(c.get("essential", True) for c in containers):
        raise EcsClientException("Task definition doesn't have any essential container.")


def container_definition(container: dict[str, Any], network_mode: str | None) -> dict[str, Any]:
    """A container definition as DescribeTaskDefinition returns it."""
    c = copy.deepcopy(container)
    # cpu 0 and essential true when omitted; empty lists for what was left out (aws-cli
    # register-task-definition example output; terraform-provider-aws container_definitions_test.go).
    c.setdefault("cpu", 0)
    c.setdefault("essential", True)
    for key in ("portMappings", "environment", "mountPoints", "volumesFrom", "systemControls"):
        c.setdefault(key, [])
    for mapping in c["portMappings"]:
        mapping.setdefault("protocol", "tcp")
        # hostPort: = containerPort under awsvpc (and host), 0 (dynamic) in bridge mode
        # (terraform-provider-aws#3401; ECS API reference, PortMapping.hostPort).
        if "hostPort" not in mapping and "containerPort" in mapping:
            mapping["hostPort"] = mapping["containerPort"] if network_mode in ("awsvpc", "host") else 0
    if c.get("healthCheck"):
        # interval 30, timeout 5, retries 3 when omitted (HealthCheck API reference defaults;
        # eagletmt/hako#56 shows DescribeTaskDefinition returning interval=30).
        c["healthCheck"].setdefault("interval", 30)
        c["healthCheck"].setdefault("timeout", 5)
        c["healthCheck"].setdefault("retries", 3)
    capabilities = (c.get("linuxParameters") or {}).get("capabilities")
    if capabilities is not None:
        # Only `drop` given: `add: []` comes back (braintrustdata/terraform-aws-braintrust-data-plane#335).
        capabilities.setdefault("add", [])
        capabilities.setdefault("drop", [])
    # ECS does not keep the order of environment variables (terraform-provider-aws PR #11463:
    # "the ECS service reorders them arbitrarily"): a stable but different order here.
    c["environment"] = sorted(c["environment"], key=lambda e: hashlib.sha1(e.get("name", "").encode()).hexdigest())
    return c


def volumes(given: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Volumes: EFS rootDirectory "/" when omitted (CircleCI-Public/aws-ecs-orb#105) and
    configuredAtLaunch false (terraform-provider-aws PR #46132)."""
    result = copy.deepcopy(given or [])
    for volume in result:
        volume.setdefault("configuredAtLaunch", False)
        efs = volume.get("efsVolumeConfiguration")
        if efs is not None:
            efs.setdefault("rootDirectory", "/")
    return result


def requires_attributes(definition: dict[str, Any]) -> list[dict[str, str]]:
    """The capabilities a task definition needs, as ECS derives them (aws-cli
    register-task-definition output; ECS developer guide, "Container instance attributes")."""
    names: list[str] = []
    containers = definition.get("containerDefinitions") or []
    if definition.get("networkMode") == "awsvpc":
        names.append("ecs.capability.task-eni")
    if any(c.get("healthCheck") for c in containers):
        names.append("ecs.capability.container-health-check")
    if definition.get("executionRoleArn") and any(
        (c.get("logConfiguration") or {}).get("logDriver") == "awslogs" for c in containers
    ):
        names.append("ecs.capability.execution-role-awslogs")
    if any((c.get("logConfiguration") or {}).get("logDriver") == "awslogs" for c in containers):
        names.append("com.amazonaws.ecs.capability.logging-driver.awslogs")
    if any(c.get("secrets") for c in containers):
        names.append("ecs.capability.secrets.asm.environment-variables")
    names.append("com.amazonaws.ecs.capability.docker-remote-api.1.18")
    return [{"name": name} for name in dict.fromkeys(names)]
