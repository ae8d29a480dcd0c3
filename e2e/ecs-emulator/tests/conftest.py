"""Runs one emulator in this process, on a free loopback port, for every test.

Tests talk to it through boto3 over HTTP, as any client would, and isolate themselves with
unique cluster names. Time runs 50 times faster than ECS's.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import pytest
from werkzeug.serving import make_server

SPEED = 50.0
T = TypeVar("T")
_names = itertools.count()


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    from ecs_emulator.gateway import Gateway
    from ecs_emulator.patch import install

    emulator = install(SPEED)
    app = Gateway(DomainDispatcherApplication(create_backend_app), emulator)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def client(endpoint: str, service: str, access_key: str = "testing", retries: int = 0) -> Any:
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": retries + 1, "mode": "standard"}),
    )


@pytest.fixture
def ecs(endpoint: str) -> Any:
    return client(endpoint, "ecs")


@pytest.fixture
def ec2(endpoint: str) -> Any:
    return client(endpoint, "ec2")


@pytest.fixture
def subnet(ec2: Any) -> str:
    return ec2.describe_subnets()["Subnets"][0]["SubnetId"]


@pytest.fixture
def admin(endpoint: str) -> Callable[..., dict[str, Any]]:
    def call(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{endpoint}/_emulator/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read() or b"{}")

    return call


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{int(time.time() * 1000) % 100000}"


def wait_until(check: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Polls `check` until it returns something truthy (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def fargate_definition(ecs: Any, family: str, image: str = "nginx:1.27", environment: list[dict[str, str]] | None = None) -> str:
    container: dict[str, Any] = {"name": "web", "image": image, "portMappings": [{"containerPort": 80}]}
    if environment:
        container["environment"] = environment
    return ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[container],
    )["taskDefinition"]["taskDefinitionArn"]


def fargate_service(ecs: Any, cluster: str, name: str, task_definition: str, subnet: str, count: int = 2, **extra: Any) -> dict[str, Any]:
    return ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=task_definition,
        desiredCount=count,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
        **extra,
    )["service"]


def describe(ecs: Any, cluster: str, name: str) -> dict[str, Any]:
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def messages(service: dict[str, Any]) -> list[str]:
    return [e["message"] for e in service["events"]]


def completed(ecs: Any, cluster: str, name: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        service = describe(ecs, cluster, name)
        deployments = service["deployments"]
        if len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED":
            return service
        return None

    return check
