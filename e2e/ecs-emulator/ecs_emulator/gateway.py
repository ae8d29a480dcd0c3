"""The emulator's front door: a WSGI layer in front of moto.

For every ECS request it counts the call, applies the faults and the throttling configured
through the admin API, runs what the simulated control plane has due, and hands the request to
moto (whose ECS handlers `ecs_emulator.patch` extends). Requests for other AWS services pass
straight through to moto.

Admin API (JSON over HTTP, under `/_emulator/`):

- `GET  /_emulator/config`, `POST /_emulator/config {"speed": 20}`: the time scale.
- `POST /_emulator/throttling {"enabled": true, "accessKey": "AKID"}`: ECS's token buckets for
  one access key (or for every caller when `accessKey` is left out). Each access key is its own
  throttling account, so that a benchmark does not spend the budget of tests running beside it.
- `POST /_emulator/faults {...}` adds a fault rule (see `FaultRule`); `DELETE
  /_emulator/faults[?accessKey=AKID]` removes those of one access key, or all.
- `GET /_emulator/calls[?accessKey=AKID]`: calls received per operation (and how many were
  throttled or faulted); `POST /_emulator/calls/reset` zeroes them.
- `POST /_emulator/task-failures {"family": "web", "mode": "exit", "exitCode": 1}`: tasks of a
  task definition family fail (see `tasks.Failure`); `GET` lists them, `DELETE
  /_emulator/task-failures[?family=web]` clears one family's or all.
- `POST /_emulator/lifecycle-hooks {"hookTargetArn": ARN, "outcome": "FAILED"}`: what an
  AWS_LAMBDA lifecycle hook's function answers (SUCCEEDED, FAILED or IN_PROGRESS; without
  `hookTargetArn`, every function); SUCCEEDED when nothing is set. `GET` lists, `DELETE
  /_emulator/lifecycle-hooks[?hookTargetArn=ARN]` clears one or all.
- `POST /_emulator/capacity-provider-failures {"name": "ec2", "reason": "..."}`: the updates
  of a capacity provider end UPDATE_FAILED with that reason (and change nothing); `DELETE`
  clears them all.
- `POST /_emulator/container-instances {"cluster": "apps", "count": 2, "region": "us-east-1"}`:
  EC2 instances join a cluster (as an Auto Scaling group's would), so EC2 tasks can be placed.
- `POST /_emulator/scaling-activity {"cluster": "apps", "service": "web", "desiredCount": 4,
  "region": "us-east-1"}`: Application Auto Scaling scales a registered service within its
  target's range, as a policy or scheduled action would (see `autoscaling.scale`).
- `POST /_emulator/reset` (or moto's own `/moto-api/reset`): forget everything but the speed.
"""

from __future__ import annotations

import io
import json
import random
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import throttling
from .clock import Simulation
from .state import Emulator

#: The X-Amz-Target prefix of ECS's JSON protocol.
ECS_TARGET = "AmazonEC2ContainerServiceV20141113."
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: What a proxy in front of ECS answers when ECS is unreachable: not JSON, not AWS's shape.
HTML_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class FaultRule:
    """One fault: which calls it hits (`operation` "*" for all, `accessKey` None for every
    caller) and what happens to them. Rates are probabilities per call, drawn in this order:
    hang, reset, throttle, error; `latency` (wall seconds) is added to every call the rule hits."""

    operation: str = "*"
    access_key: str | None = None
    #: Wall seconds added before the call is answered.
    latency: float = 0.0
    #: The call never answers (until the rule is removed).
    hang: bool = False
    #: The connection is reset (TCP RST) before any answer.
    reset_rate: float = 0.0
    #: Answered with ThrottlingException, as ECS's own throttling does.
    throttle_rate: float = 0.0
    #: Answered with a 5xx.
    error_rate: float = 0.0
    #: 500 with ECS's JSON ServerException body, or 502 with an HTML page (a proxy in front of ECS).
    error_body: str = "json"

    #: Set when the rule is removed: what a hung call waits for.
    removed: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    FIELDS = {
        "operation",
        "accessKey",
        "latency",
        "hang",
        "resetRate",
        "throttleRate",
        "errorRate",
        "errorBody",
    }

    @staticmethod
    def parse(body: dict[str, Any]) -> FaultRule:
        unknown = sorted(set(body) - FaultRule.FIELDS)
        if unknown:
            raise ValueError(f"unknown fault fields {unknown}; known: {sorted(FaultRule.FIELDS)}")
        rule = FaultRule(
            operation=_string(body, "operation", "*"),
            access_key=body.get("accessKey"),
            latency=_number(body, "latency", 0.0, 0.0, 600.0),
            hang=_flag(body, "hang"),
            reset_rate=_number(body, "resetRate", 0.0, 0.0, 1.0),
            throttle_rate=_number(body, "throttleRate", 0.0, 0.0, 1.0),
            error_rate=_number(body, "errorRate", 0.0, 0.0, 1.0),
            error_body=_string(body, "errorBody", "json"),
        )
        if rule.error_body not in ("json", "html"):
            raise ValueError("errorBody is json or html")
        if rule.operation != "*" and rule.operation not in _ecs_operations():
            raise ValueError(f"operation {rule.operation!r} is not an ECS operation (or \"*\")")
        return rule

    def describe(self) -> dict[str, Any]:
        """The rule as the admin API takes it (camelCase)."""
        return {
            "operation": self.operation,
            "accessKey": self.access_key,
            "latency": self.latency,
            "hang": self.hang,
            "resetRate": self.reset_rate,
            "throttleRate": self.throttle_rate,
            "errorRate": self.error_rate,
            "errorBody": self.error_body,
        }

    def applies(self, operation: str, access_key: str | None) -> bool:
        return self.operation in ("*", operation) and self.access_key in (None, access_key)


@dataclass
class Calls:
    """Calls received per operation, per access key."""

    received: dict[str | None, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    throttled: dict[str | None, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    faulted: dict[str | None, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def report(self, access_key: str | None) -> dict[str, dict[str, int]]:
        def total(counters: dict[str | None, Counter[str]]) -> dict[str, int]:
            if access_key is not None:
                return dict(counters.get(access_key, Counter()))
            summed: Counter[str] = Counter()
            for counter in counters.values():
                summed.update(counter)
            return dict(summed)

        return {
            "calls": total(self.received),
            "throttled": total(self.throttled),
            "faulted": total(self.faulted),
        }


class Gateway:
    """WSGI middleware around moto's application (see the module doc)."""

    def __init__(self, moto_app: WsgiApp, emulator: Emulator) -> None:
        self._moto = moto_app
        self._emulator = emulator
        self._sim: Simulation = emulator.sim
        self._guard = threading.Lock()  # for the gateway's own bookkeeping only
        self._faults: list[FaultRule] = []
        self._calls = Calls()
        self._buckets = throttling.Buckets()
        self._throttled_scopes: set[str] = set()  # access keys, or "*" for every caller

    # --- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/"):
            return self._admin(environ, start_response)
        if path == "/moto-api/reset":
            # moto's own reset, and everything of the emulator's, at once under the lock.
            self.reset()
            return _json(start_response, 200, {"status": "ok"})
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(ECS_TARGET):
            return self._pass(environ, start_response)
        return self._ecs(target[len(ECS_TARGET) :], environ, start_response)

    def _pass(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self._sim.lock:
            self._sim.run_due()
            # moto's answer is built inside the call, so the lock covers every read of state.
            return list(self._moto(environ, start_response))

    def _ecs(self, operation: str, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        access_key, region = _caller(environ)
        if not operation.startswith(("Describe", "List", "Get")):
            _log_write(operation, access_key, environ)
        with self._guard:
            self._calls.received[access_key][operation] += 1
            rules = [r for r in self._faults if r.applies(operation, access_key)]
        for rule in rules:
            if rule.latency:
                time.sleep(rule.latency)
        for rule in rules:
            if rule.hang:
                # Answer only once the rule is gone (or never, as far as the client's patience goes).
                rule.removed.wait()
                break
            if random.random() < rule.reset_rate:
                self._count(self._calls.faulted, access_key, operation)
                return _reset(environ, start_response)
            if random.random() < rule.throttle_rate:
                self._count(self._calls.throttled, access_key, operation)
                return throttling.answer(start_response)
            if random.random() < rule.error_rate:
                self._count(self._calls.faulted, access_key, operation)
                return _server_error(start_response, rule.error_body)
        scope = self._throttle_scope(access_key)
        if scope is not None and not self._buckets.take(scope, region, operation):
            self._count(self._calls.throttled, access_key, operation)
            return throttling.answer(start_response)
        return self._pass(environ, start_response)

    def _count(self, counters: dict[str | None, Counter[str]], access_key: str | None, operation: str) -> None:
        with self._guard:
            counters[access_key][operation] += 1

    def _throttle_scope(self, access_key: str | None) -> str | None:
        if access_key is not None and access_key in self._throttled_scopes:
            return access_key
        if "*" in self._throttled_scopes:
            return "*"
        return None

    # --- admin ---------------------------------------------------------------------------------

    def _admin(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")[len("/_emulator/") :].rstrip("/")
        try:
            body = _json_body(environ)
            query = _query(environ)
            result = self._admin_route(method, path, body, query)
        except (ValueError, TypeError, KeyError) as error:
            return _json(start_response, 400, {"message": str(error)})
        except Exception as error:  # noqa: BLE001 - moto's errors (an unknown cluster, ...)
            return _json(start_response, 400, {"message": getattr(error, "message", None) or str(error)})
        if result is None:
            return _json(start_response, 404, {"message": f"no admin route {method} /_emulator/{path}"})
        return _json(start_response, 200, result)

    def _admin_route(
        self, method: str, path: str, body: dict[str, Any], query: dict[str, str]
    ) -> dict[str, Any] | None:
        if path == "config":
            if method == "POST":
                _only(body, {"speed"})
                if "speed" in body:
                    self._sim.speed = body["speed"]
            return {"speed": self._sim.speed, "throttling": sorted(self._throttled_scopes)}
        if path == "throttling" and method == "POST":
            _only(body, {"accessKey", "enabled"})
            scope = body.get("accessKey") or "*"
            with self._guard:
                if _flag(body, "enabled", True):
                    self._throttled_scopes.add(scope)
                else:
                    self._throttled_scopes.discard(scope)
                self._buckets.forget(scope)
            return {"throttling": sorted(self._throttled_scopes)}
        if path == "faults":
            with self._guard:
                if method == "POST":
                    self._faults.append(FaultRule.parse(body))
                elif method == "DELETE":
                    # Only the caller's rules when it names its access key: parallel tests keep theirs.
                    key = query.get("accessKey")
                    for rule in self._faults:
                        if key is None or rule.access_key == key:
                            rule.removed.set()
                    self._faults = [r for r in self._faults if not r.removed.is_set()]
                return {"faults": [rule.describe() for rule in self._faults]}
        if path == "calls" and method == "GET":
            with self._guard:
                return self._calls.report(query.get("accessKey"))
        if path == "calls/reset" and method == "POST":
            with self._guard:
                self._calls = Calls()
            return {}
        if path == "task-failures":
            with self._sim.lock:
                if method == "POST":
                    _only(body, {"family", "mode", "exitCode", "runSeconds"})
                    self._emulator.fail_family(body)
                elif method == "DELETE":
                    family = query.get("family")
                    if family is None:
                        self._emulator.family_failures.clear()
                    else:
                        self._emulator.family_failures.pop(family, None)
                return {"taskFailures": self._emulator.describe_family_failures()}
        if path == "lifecycle-hooks":
            with self._sim.lock:
                if method == "POST":
                    _only(body, {"hookTargetArn", "outcome"})
                    self._emulator.set_hook_outcome(body)
                elif method == "DELETE":
                    target = query.get("hookTargetArn")
                    if target is None:
                        self._emulator.hook_outcomes.clear()
                    else:
                        self._emulator.hook_outcomes.pop(target, None)
                return {"lifecycleHooks": self._emulator.describe_hook_outcomes()}
        if path == "capacity-provider-failures":
            with self._sim.lock:
                if method == "POST":
                    _only(body, {"name", "reason"})
                    self._emulator.update_failures[_string(body, "name", "")] = _string(
                        body, "reason", "The capacity provider update failed."
                    )
                elif method == "DELETE":
                    self._emulator.update_failures.clear()
                return {"capacityProviderFailures": dict(self._emulator.update_failures)}
        if path == "container-instances" and method == "POST":
            from moto.core import DEFAULT_ACCOUNT_ID
            from moto.ecs.models import ecs_backends

            _only(body, {"cluster", "count", "region", "account"})
            count = int(_number(body, "count", 1, 1, 100))
            backend = ecs_backends[body.get("account", DEFAULT_ACCOUNT_ID)][body.get("region", "us-east-1")]
            with self._sim.lock:
                arns = backend.add_container_instances(_string(body, "cluster", ""), count)
            return {"containerInstanceArns": arns}
        if path == "scaling-activity" and method == "POST":
            from moto.core import DEFAULT_ACCOUNT_ID

            from . import autoscaling

            _only(body, {"cluster", "service", "desiredCount", "region", "account"})
            count = int(_number(body, "desiredCount", 0, 0, 100000))
            with self._sim.lock:
                return autoscaling.scale(
                    body.get("account", DEFAULT_ACCOUNT_ID),
                    body.get("region", "us-east-1"),
                    _string(body, "cluster", ""),
                    _string(body, "service", ""),
                    count,
                )
        if path == "reset" and method == "POST":
            self.reset()
            return {}
        return None

    def reset(self) -> None:
        """Forgets everything but the speed: moto's state, the simulation, faults, throttling and
        counters."""
        from moto.core.base_backend import BackendDict

        with self._sim.lock:
            BackendDict.reset()
            self._emulator.reset()
        with self._guard:
            for rule in self._faults:
                rule.removed.set()
            self._faults.clear()
            self._calls = Calls()
            self._throttled_scopes.clear()
            self._buckets = throttling.Buckets()


def _log_write(operation: str, access_key: str | None, environ: dict[str, Any]) -> None:
    """One line per write request in the emulator's log (e2e/.state/logs/ecs-emulator.log): what
    a client changed, for whoever debugs a test. The body is read and put back for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    text = body.decode(errors="replace")
    print(f"ECS {operation} by {access_key}: {text[:2000]}", file=sys.stderr, flush=True)


def _ecs_operations() -> set[str]:
    """ECS's operation names, from botocore's model of the API."""
    import botocore.session

    return set(botocore.session.get_session().get_service_model("ecs").operation_names)


def _only(body: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValueError(f"unknown fields {unknown}; known: {sorted(known)}")


def _flag(body: dict[str, Any], key: str, default: bool = False) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} is true or false")
    return value


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{key} is a number from {low} to {high}")
    return float(value)


def _string(body: dict[str, Any], key: str, default: str) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is a non-empty string")
    return value


def _caller(environ: dict[str, Any]) -> tuple[str | None, str]:
    """The access key and region of a SigV4-signed request."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None, "us-east-1"
    return match.group(1), match.group(2)


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length <= 0:
        return {}
    value = json.loads(environ["wsgi.input"].read(length) or b"{}")
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


def _query(environ: dict[str, Any]) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(environ.get("QUERY_STRING", "")))


def _json(start_response: StartResponse, status: int, value: dict[str, Any]) -> list[bytes]:
    body = json.dumps(value).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _server_error(start_response: StartResponse, kind: str) -> list[bytes]:
    if kind == "html":
        start_response(
            "502 Bad Gateway",
            [("Content-Type", "text/html"), ("Content-Length", str(len(HTML_BAD_GATEWAY)))],
        )
        return [HTML_BAD_GATEWAY]
    # ECS's 500: the ServerException of the ECS API reference ("These errors are usually caused
    # by a server issue"), in the JSON protocol's error shape.
    body = json.dumps({"__type": "ServerException", "message": "Service Unavailable. Please try again later."}).encode()
    start_response(
        "500 Internal Server Error",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _reset(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    """Closes the client's connection with a TCP RST (SO_LINGER 0), answering nothing."""
    sock: socket.socket | None = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
    # werkzeug cannot write to the closed socket; what it logs about that is harmless.
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return [b""]
