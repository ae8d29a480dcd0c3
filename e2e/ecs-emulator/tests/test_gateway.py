"""Throttling, faults and call counters (the admin API). Each test names its ECS source."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from conftest import client, unique


def test_throttling_uses_ecs_buckets_and_answers_as_ecs_does(endpoint: str, admin: Any) -> None:
    """Request throttling for the Amazon ECS API: DescribeServices is in the service read bucket
    (100 burst, 20/s); a throttled call is HTTP 400 ThrottlingException "Rate exceeded"
    (FACTS.md 6). Throttling applies to the access key it is enabled for only."""
    key = unique("throttled")
    ecs = client(endpoint, "ecs", access_key=key)
    other = client(endpoint, "ecs", access_key=unique("free"))
    cluster = unique("c")
    ecs.create_cluster(clusterName=cluster)
    admin("POST", "throttling", {"accessKey": key, "enabled": True})
    try:
        def call(_: int) -> str:
            try:
                ecs.describe_services(cluster=cluster, services=["x"])
                return "ok"
            except ClientError as error:
                assert error.response["Error"]["Message"] == "Rate exceeded"
                assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
                return error.response["Error"]["Code"]

        start = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(call, range(300)))
        elapsed = time.monotonic() - start
        allowed = outcomes.count("ok")
        # The burst at once, then what refilled at 20 per second while the calls ran.
        assert 100 <= allowed <= 100 + 20 * elapsed + 1
        assert outcomes.count("ThrottlingException") == 300 - allowed > 0
        for _ in range(150):
            other.describe_services(cluster=cluster, services=["x"])
        counted = admin("GET", f"calls?accessKey={key}")
        assert counted["calls"]["DescribeServices"] == 300
        assert counted["throttled"]["DescribeServices"] == 300 - allowed
        # UpdateService's bucket (service modify, 50/5) is not DescribeServices'.
        with pytest.raises(ClientError) as missing:
            ecs.update_service(cluster=cluster, service="nope", desiredCount=1)
        assert missing.value.response["Error"]["Code"] == "ServiceNotFoundException"
    finally:
        admin("POST", "throttling", {"accessKey": key, "enabled": False})


def test_faults_answer_5xx_with_ecs_json_or_a_proxy_html_page(endpoint: str, admin: Any) -> None:
    """ServerException is HTTP 500 "Service Unavailable. Please try again later." (FACTS.md 6.2);
    a proxy in front of ECS answers 502 with HTML."""
    key = unique("faulty")
    ecs = client(endpoint, "ecs", access_key=key)
    admin("POST", "faults", {"accessKey": key, "operation": "ListClusters", "errorRate": 1.0})
    try:
        with pytest.raises(ClientError) as json_error:
            ecs.list_clusters()
        assert json_error.value.response["Error"] == {
            "Code": "ServerException",
            "Message": "Service Unavailable. Please try again later.",
        }
        assert json_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        ecs.describe_clusters(clusters=["x"])  # other operations are untouched
        admin("DELETE", "faults")
        admin("POST", "faults", {"accessKey": key, "operation": "ListClusters", "errorRate": 1.0, "errorBody": "html"})
        with pytest.raises(ClientError) as html_error:
            ecs.list_clusters()
        assert html_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        assert admin("GET", f"calls?accessKey={key}")["faulted"]["ListClusters"] == 2
    finally:
        admin("DELETE", "faults")


def test_faults_add_latency_reset_connections_and_hang(endpoint: str, admin: Any) -> None:
    key = unique("slow")
    ecs = client(endpoint, "ecs", access_key=key)
    admin("POST", "faults", {"accessKey": key, "operation": "ListClusters", "latency": 0.5})
    try:
        start = time.monotonic()
        ecs.list_clusters()
        assert time.monotonic() - start >= 0.5
        admin("DELETE", "faults")

        admin("POST", "faults", {"accessKey": key, "operation": "ListClusters", "resetRate": 1.0})
        with pytest.raises((ConnectionClosedError, EndpointConnectionError, ConnectionResetError)):
            ecs.list_clusters()
        admin("DELETE", "faults")

        admin("POST", "faults", {"accessKey": key, "operation": "ListClusters", "hang": True})
        answered = threading.Event()
        caller = threading.Thread(target=lambda: (ecs.list_clusters(), answered.set()), daemon=True)
        caller.start()
        assert not answered.wait(1.0), "a hanging call answered"
        admin("DELETE", "faults")
        assert answered.wait(5.0), "the call did not answer once the fault was removed"
    finally:
        admin("DELETE", "faults")


def test_calls_are_counted_per_operation_and_reset(endpoint: str, admin: Any) -> None:
    key = unique("counted")
    ecs = client(endpoint, "ecs", access_key=key)
    ecs.list_clusters()
    ecs.list_clusters()
    ecs.describe_clusters(clusters=["x"])
    assert admin("GET", f"calls?accessKey={key}")["calls"] == {"ListClusters": 2, "DescribeClusters": 1}
    admin("POST", "calls/reset")
    assert admin("GET", f"calls?accessKey={key}")["calls"] == {}


def test_bad_admin_requests_get_a_message(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/_emulator/faults", data=b'{"errorBody": "xml"}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 400 and b"errorBody is json or html" in refused.value.read()


def test_admin_requests_are_checked(endpoint: str) -> None:
    """Unknown fields, rates outside [0, 1], a negative latency, a speed that is not a sensible
    number: refused with a message, nothing half-applied."""
    def refused(path: str, body: bytes) -> str:
        request = urllib.request.Request(f"{endpoint}/_emulator/{path}", data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request)
        assert error.value.code == 400
        return error.value.read().decode()

    assert "unknown fault fields ['error_rate']" in refused("faults", b'{"error_rate": 1}')
    assert "errorRate is a number from 0.0 to 1.0" in refused("faults", b'{"errorRate": 2}')
    assert "latency" in refused("faults", b'{"latency": -1}')
    assert "hang is true or false" in refused("faults", b'{"hang": "false"}')
    assert "speed must be a number" in refused("config", b'{"speed": 0}')
    assert "speed must be a number" in refused("config", b'{"speed": 1e9}')
    assert "Cluster not found" in refused("container-instances", b'{"cluster": "nope"}')
    assert "is not an ECS operation" in refused("faults", b'{"operation": "DescribeServicez"}')


def test_removing_one_callers_faults_leaves_anothers_hang(endpoint: str, admin: Any) -> None:
    """A hung call answers when its own rule goes, not when another caller's does."""
    mine, theirs = unique("mine"), unique("theirs")
    ecs = client(endpoint, "ecs", access_key=mine)
    admin("POST", "faults", {"accessKey": mine, "operation": "ListClusters", "hang": True})
    admin("POST", "faults", {"accessKey": theirs, "operation": "ListClusters", "errorRate": 1.0})
    answered = threading.Event()
    threading.Thread(target=lambda: (ecs.list_clusters(), answered.set()), daemon=True).start()
    try:
        admin("DELETE", f"faults?accessKey={theirs}")
        assert not answered.wait(0.5), "another caller's DELETE released the hang"
    finally:
        admin("DELETE", f"faults?accessKey={mine}")
    assert answered.wait(5.0)
