"""Answers shaped like real ECS's (shapes.py; FACTS.md 7 and /work/shared/ecs-facts.md)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import describe, fargate_definition, fargate_service, unique


def test_registered_task_definitions_come_back_as_ecs_stores_them(ecs: Any) -> None:
    """ecs-facts (task definitions) 1-13: container defaults and empty lists, hostPort per
    network mode, health check defaults, environment order not kept, role names as ARNs,
    cpu/memory units as integers, output-only fields, and no networkMode filled in."""
    family = unique("shape")
    environment = [{"name": n, "value": "1"} for n in ("A", "B", "C", "D", "E", "F")]
    answer = ecs.register_task_definition(
        family=family,
        taskRoleArn="app-role",
        executionRoleArn="ecsTaskExecutionRole",
        cpu="1 vCPU",
        memory="2 GB",
        containerDefinitions=[
            {
                "name": "web",
                "image": "nginx",
                "memory": 256,
                "portMappings": [{"containerPort": 8080}],
                "environment": environment,
                "healthCheck": {"command": ["CMD-SHELL", "true"]},
                "linuxParameters": {"capabilities": {"drop": ["NET_RAW"]}},
            }
        ],
        volumes=[{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}],
    )["taskDefinition"]
    described = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
    assert described == answer
    (web,) = described["containerDefinitions"]
    assert (web["cpu"], web["essential"]) == (0, True)
    assert web["portMappings"] == [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]
    assert (web["mountPoints"], web["volumesFrom"], web["systemControls"]) == ([], [], [])
    assert web["healthCheck"] == {"command": ["CMD-SHELL", "true"], "interval": 30, "timeout": 5, "retries": 3}
    assert sorted(e["name"] for e in web["environment"]) == [e["name"] for e in environment]
    assert [e["name"] for e in web["environment"]] != [e["name"] for e in environment]
    assert web["linuxParameters"]["capabilities"] == {"add": [], "drop": ["NET_RAW"]}
    assert described["taskRoleArn"] == "arn:aws:iam::123456789012:role/app-role"
    assert described["executionRoleArn"] == "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    assert (described["cpu"], described["memory"]) == ("1024", "2048")
    assert "networkMode" not in described
    assert described["volumes"][0]["efsVolumeConfiguration"]["rootDirectory"] == "/"
    assert described["volumes"][0]["configuredAtLaunch"] is False
    assert described["compatibilities"] == ["EC2"] and described["status"] == "ACTIVE"
    assert described["registeredBy"] == "arn:aws:iam::123456789012:root" and "registeredAt" in described
    assert {"name": "ecs.capability.container-health-check"} in described["requiresAttributes"]
    assert "tags" not in ecs.describe_task_definition(taskDefinition=family) or not ecs.describe_task_definition(taskDefinition=family)["tags"]


def test_awsvpc_host_ports_equal_container_ports(ecs: Any) -> None:
    """hostPort omitted = containerPort under awsvpc (terraform-provider-aws#3401)."""
    arn = fargate_definition(ecs, unique("vpc"))
    (web,) = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"]
    assert web["portMappings"] == [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]


def test_services_come_back_with_what_ecs_fills_in(ecs: Any, subnet: str) -> None:
    """FACTS.md 7.1/7.2: deploymentConfiguration 200/100 with the breaker off and strategy
    ROLLING, assignPublicIp DISABLED, the VPC's default security group when none is named
    (moto answered 500 here), LATEST kept on the service and resolved per deployment, the
    service-linked role, taskDefinition as an ARN, tags only with include TAGS."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("web")
    fargate_definition(ecs, family)
    ecs.create_service(
        cluster=cluster,
        serviceName="web",
        taskDefinition=family,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
        tags=[{"key": "team", "value": "a"}],
    )
    service = describe(ecs, cluster, "web")
    assert service["taskDefinition"] == f"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:1"
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "strategy": "ROLLING",
        "bakeTimeInMinutes": 0,
    }
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "DISABLED" and network["securityGroups"][0].startswith("sg-")
    assert (service["platformVersion"], service["platformFamily"]) == ("LATEST", "Linux")
    assert service["deployments"][0]["platformVersion"] == "1.4.0"
    assert (service["schedulingStrategy"], service["propagateTags"], service["deploymentController"]) == ("REPLICA", "NONE", {"type": "ECS"})
    assert (service["enableECSManagedTags"], service["enableExecuteCommand"]) == (False, False)
    assert service["availabilityZoneRebalancing"] == "ENABLED"
    assert (service["loadBalancers"], service["serviceRegistries"], service["placementConstraints"]) == ([], [], [])
    assert "tags" not in service or service["tags"] == []
    tagged = ecs.describe_services(cluster=cluster, services=["web"], include=["TAGS"])["services"][0]
    assert tagged["tags"] == [{"key": "team", "value": "a"}]


def test_the_service_linked_role_where_ecs_needs_it(ecs: Any, subnet: str) -> None:
    """aws-cli create-service examples: an EC2 bridge service without a load balancer has no
    roleArn, an awsvpc one AWSServiceRoleForECS; a role given comes back as its ARN."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("w")
    ecs.register_task_definition(family=family, containerDefinitions=[{"name": "w", "image": "busybox", "memory": 64}])
    ecs.create_service(cluster=cluster, serviceName="a", taskDefinition=family, desiredCount=0)
    ecs.create_service(cluster=cluster, serviceName="b", taskDefinition=family, desiredCount=0, role="ecsServiceRole")
    assert "roleArn" not in describe(ecs, cluster, "a")
    assert describe(ecs, cluster, "a")["launchType"] == "EC2"
    assert describe(ecs, cluster, "b")["roleArn"] == "arn:aws:iam::123456789012:role/ecsServiceRole"
    fargate_service(ecs, cluster, "c", fargate_definition(ecs, unique("f")), subnet, count=0)
    assert describe(ecs, cluster, "c")["roleArn"] == (
        "arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    )


def test_clusters_return_settings_only_when_asked(ecs: Any) -> None:
    """DescribeClusters returns settings and tags only with include (ecs-facts clusters 2)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster, settings=[{"name": "containerInsights", "value": "enhanced"}], tags=[{"key": "k", "value": "v"}])
    plain = ecs.describe_clusters(clusters=[cluster])["clusters"][0]
    assert "settings" not in plain and plain.get("tags", []) == []
    full = ecs.describe_clusters(clusters=[cluster], include=["SETTINGS", "TAGS"])["clusters"][0]
    assert full["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    assert full["tags"] == [{"key": "k", "value": "v"}]


def test_list_services_pages_by_ten(ecs: Any) -> None:
    """ListServices: "If maxResults isn't used, then ListServices returns up to 10 results and a
    nextToken value if applicable" (API reference)."""
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    family = unique("w")
    ecs.register_task_definition(family=family, containerDefinitions=[{"name": "w", "image": "busybox", "memory": 64}])
    for i in range(12):
        ecs.create_service(cluster=cluster, serviceName=f"s{i:02}", taskDefinition=family, desiredCount=0)
    first = ecs.list_services(cluster=cluster)
    assert len(first["serviceArns"]) == 10 and first["nextToken"]
    second = ecs.list_services(cluster=cluster, nextToken=first["nextToken"])
    assert len(second["serviceArns"]) == 2 and "nextToken" not in second


# --- RegisterTaskDefinition refuses what ECS refuses (FACTS.md 8) -------------------------------

EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "web", "image": "nginx", "memory": 256, **fields}


def fargate(*containers: dict[str, Any], **task: Any) -> dict[str, Any]:
    return {"networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512", "containerDefinitions": list(containers), **task}


def ec2(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"networkMode": "bridge", "requiresCompatibilities": ["EC2"], "containerDefinitions": list(containers)}


REFUSED = [
    (
        "awsvpc, hostPort 80 for containerPort 8080",
        fargate(container(portMappings=[{"containerPort": 8080, "hostPort": 80}])),
        "When networkMode=awsvpc, the host ports and container ports in port mappings must match.",
    ),
    (
        "no task memory, a container with neither memory nor memoryReservation",
        ec2(container(), {"name": "side", "image": "nginx"}),
        "Invalid setting for container 'side'. At least one of 'memory' or 'memoryReservation' must be specified.",
    ),
    (
        "memoryReservation above memory",
        ec2(container(memoryReservation=512)),
        "Invalid setting for container 'web'. 'memory' must be greater than or equal to 'memoryReservation'.",
    ),
    (
        "healthCheck interval 4",
        ec2(container(healthCheck={"command": ["CMD", "true"], "interval": 4})),
        "Invalid 'healthCheck.interval' setting for container 'web'. It must be between 5 and 300.",
    ),
    (
        "healthCheck timeout 61",
        ec2(container(healthCheck={"command": ["CMD", "true"], "timeout": 61})),
        "Invalid 'healthCheck.timeout' setting for container 'web'. It must be between 2 and 60.",
    ),
    (
        "healthCheck retries 0",
        ec2(container(healthCheck={"command": ["CMD", "true"], "retries": 0})),
        "Invalid 'healthCheck.retries' setting for container 'web'. It must be between 1 and 10.",
    ),
    (
        "healthCheck startPeriod 301",
        ec2(container(healthCheck={"command": ["CMD", "true"], "startPeriod": 301})),
        "Invalid 'healthCheck.startPeriod' setting for container 'web'. It must be between 0 and 300.",
    ),
    (
        "a log driver ECS does not know",
        ec2(container(logConfiguration={"logDriver": "loki"})),
        "loki is not a valid log driver. Must be one of [awslogs,fluentd,gelf,journald,json-file,logentries,splunk,syslog,awsfirelens]",
    ),
    (
        "a log driver Fargate does not take",
        fargate(container(logConfiguration={"logDriver": "fluentd"})),
        "fluentd is not a valid log driver. Must be one of [awslogs,splunk,awsfirelens]",
    ),
    (
        "privileged on Fargate",
        fargate(container(privileged=True)),
        "Tasks using the Fargate launch type do not support privileged containers.",
    ),
    (
        "awslogs on Fargate without executionRoleArn",
        fargate(container(logConfiguration={"logDriver": "awslogs"})),
        "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
    ),
    (
        "no essential container",
        ec2(container(essential=False), {"name": "side", "image": "nginx", "memory": 128, "essential": False}),
        "Task definition doesn't have any essential container.",
    ),
]


@pytest.mark.parametrize("definition, message", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_register_refuses_what_ecs_refuses(ecs: Any, definition: dict[str, Any], message: str) -> None:
    """Each with ECS's ClientException message (FACTS.md 8; the admission rules in
    src/api/task_definition.rs refuse the same before a request is made)."""
    with pytest.raises(ClientError) as refused:
        ecs.register_task_definition(family=unique("refused"), **definition)
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ClientException", message)


ACCEPTED = [
    ("awsvpc, hostPort equal to containerPort", fargate(container(portMappings=[{"containerPort": 8080, "hostPort": 8080}]))),
    ("bridge, hostPort 80 for containerPort 8080", ec2(container(portMappings=[{"containerPort": 8080, "hostPort": 80}]))),
    ("EC2, only memoryReservation (moto alone refuses it)", ec2({"name": "web", "image": "nginx", "memoryReservation": 128})),
    ("task memory, a container without memory", fargate({"name": "web", "image": "nginx"})),
    ("healthCheck at its bounds", ec2(container(healthCheck={"command": ["CMD", "true"], "interval": 300, "timeout": 2, "retries": 10, "startPeriod": 0}))),
    ("privileged on EC2", ec2(container(privileged=True))),
    ("awslogs on Fargate with executionRoleArn", fargate(container(logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "g", "awslogs-region": "us-east-1"}}), executionRoleArn=EXECUTION_ROLE)),
    ("one essential container of two", ec2(container(), {"name": "side", "image": "nginx", "memory": 128, "essential": False})),
]


@pytest.mark.parametrize("definition", [case[1] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED])
def test_register_accepts_what_ecs_accepts(ecs: Any, definition: dict[str, Any]) -> None:
    answer = ecs.register_task_definition(family=unique("accepted"), **definition)["taskDefinition"]
    assert answer["status"] == "ACTIVE"
