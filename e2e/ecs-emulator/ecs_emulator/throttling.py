"""ECS's request throttling: token buckets per account, region and API category.

Source: "Request throttling for the Amazon ECS API" (ECS API Reference, request-throttling.html):
ECS "uses the token bucket algorithm"; "the bucket maximum capacity represents the burst rate,
and the bucket refill rate represents the sustained rate"; a throttled call gets the error code
ThrottlingException with the message "Rate exceeded" (HTTP 400, as the page's Java SDK example
shows: "Rate exceeded (Service: AmazonECS; Status Code: 400; Error Code: ThrottlingException").
The categories and their numbers are the page's table (FACTS.md, 6.1).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Category:
    name: str
    #: Bucket maximum capacity: the burst.
    burst: int
    #: Tokens added per second: the sustained rate.
    refill: float
    operations: tuple[str, ...]


#: The table of the ECS documentation page named in the module doc (FACTS.md, 6.1).
CATEGORIES: tuple[Category, ...] = (
    Category(
        "cluster modify",
        20,
        1,
        ("CreateCluster", "DeleteCluster", "PutClusterCapacityProviders", "UpdateCluster", "UpdateClusterSettings"),
    ),
    Category("cluster read", 50, 20, ("DescribeClusters", "ListClusters")),
    Category("task definition modify", 20, 1, ("DeregisterTaskDefinition", "RegisterTaskDefinition")),
    Category("task definition read", 50, 20, ("DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies")),
    Category("task definition deletion", 5, 1, ("DeleteTaskDefinitions",)),
    Category("capacity provider modify", 10, 1, ("CreateCapacityProvider", "DeleteCapacityProvider", "UpdateCapacityProvider")),
    Category("capacity provider read", 50, 20, ("DescribeCapacityProviders",)),
    Category("tag modify", 20, 10, ("TagResource", "UntagResource")),
    Category("tag read", 50, 20, ("ListTagsForResource",)),
    Category("setting modify", 10, 1, ("DeleteAccountSetting", "PutAccountSetting", "PutAccountSettingDefault")),
    Category("setting read", 50, 20, ("ListAccountSettings",)),
    Category(
        "cluster resource modify",
        100,
        40,
        (
            "DeleteAttributes",
            "DeregisterContainerInstance",
            "ExecuteCommand",
            "PutAttributes",
            "RunTask",
            "StartTask",
            "StopTask",
            "UpdateContainerAgent",
            "UpdateContainerInstancesState",
        ),
    ),
    Category(
        "cluster resource read",
        100,
        20,
        ("DescribeContainerInstances", "DescribeTasks", "ListAttributes", "ListContainerInstances", "ListTasks"),
    ),
    Category(
        "agent modify",
        200,
        120,
        ("RegisterContainerInstance", "SubmitAttachmentStateChanges", "SubmitContainerStateChange", "SubmitTaskStateChange"),
    ),
    Category("service modify", 50, 5, ("CreateService", "DeleteService", "UpdateService")),
    Category("service read", 100, 20, ("DescribeServices", "ListServices")),
    Category("service deployment", 50, 20, ("DescribeServiceDeployments", "ListServiceDeployments")),
    Category("service revision", 50, 20, ("DescribeServiceRevisions",)),
    Category("task protection", 200, 80, ("UpdateTaskProtection", "GetTaskProtection")),
    Category("cluster service resource read", 10, 1, ("ListServicesByNamespace",)),
)

_BY_OPERATION = {operation: category for category in CATEGORIES for operation in category.operations}
#: Operations the table does not name (StopServiceDeployment, the task set actions) share one
#: bucket like the service modify one (their real bucket is not documented).
_OTHER = Category("undocumented", 50, 5, ())


def category_of(operation: str) -> Category:
    return _BY_OPERATION.get(operation, _OTHER)


class Buckets:
    """Token buckets keyed by (scope, region, category); each starts full."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], tuple[float, float]] = {}  # tokens, last refill

    def take(self, scope: str, region: str, operation: str) -> bool:
        """Takes one token for `operation`; False when the bucket is empty (throttled)."""
        category = category_of(operation)
        key = (scope, region, category.name)
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(category.burst), now))
            tokens = min(float(category.burst), tokens + (now - last) * category.refill)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True

    def forget(self, scope: str) -> None:
        with self._lock:
            for key in [k for k in self._buckets if k[0] == scope]:
                del self._buckets[key]


def answer(start_response: Callable[..., Any]) -> Iterable[bytes]:
    """ECS's answer to a throttled call."""
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]
