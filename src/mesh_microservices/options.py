"""Option types shared by the public constructs: protocols, discovery, route policy and load balancers."""

from __future__ import annotations

import enum
import functools
import warnings
from dataclasses import dataclass
from typing import cast

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs

from ._validate import FactoryOnly, ValidationProblems, check_positive, check_type


class ListenerProtocol(enum.Enum):
    """The protocol a service listens with; it selects listener, health check and route kinds."""

    HTTP = "http"
    HTTP2 = "http2"
    GRPC = "grpc"
    TCP = "tcp"

    @property
    def ecs_app_protocol(self) -> ecs.AppProtocol | None:
        """The ECS port-mapping protocol hint (None for plain TCP)."""
        return _app_protocols().get(self)


@functools.cache
def _app_protocols() -> dict[ListenerProtocol, ecs.AppProtocol]:
    # Built once: each jsii class property read is a round trip. Type checkers read them as methods.
    return cast(
        "dict[ListenerProtocol, ecs.AppProtocol]",
        {
            ListenerProtocol.HTTP: ecs.AppProtocol.http,
            ListenerProtocol.HTTP2: ecs.AppProtocol.http2,
            ListenerProtocol.GRPC: ecs.AppProtocol.grpc,
        },
    )


# The protocols whose health checks request a path and whose routes match paths and headers.
PATH_PROTOCOLS = frozenset({ListenerProtocol.HTTP, ListenerProtocol.HTTP2})


class DiscoveryMode(enum.Enum):
    """How the data plane finds a service's tasks.

    Deprecated: an internal detail of ``Discovery``, no longer exported by ``mesh_microservices``
    and removed from this module in 2.0; choose with ``Discovery.cloud_map()`` or ``Discovery.dns()``.
    """

    CLOUD_MAP = "cloud_map"
    DNS = "dns"


class Discovery(FactoryOnly):
    """How callers' proxies find this service's tasks.

    Create one with a factory: ``Discovery.cloud_map()`` (the default) or ``Discovery.dns()``.
    Either way the ECS service registers its tasks in the cluster's Cloud Map namespace, so the
    name callers dial always resolves; the choice only changes what the virtual node points at.
    """

    _factories = ("cloud_map", "dns")
    _mode: DiscoveryMode

    @classmethod
    def cloud_map(cls) -> Discovery:
        """Discover tasks through the Cloud Map service the ECS service registers in (default)."""
        return _Discovery(DiscoveryMode.CLOUD_MAP)

    @classmethod
    def dns(cls) -> Discovery:
        """Discover tasks by resolving ``<name>.<namespace>`` in DNS (the Cloud Map A records)."""
        return _Discovery(DiscoveryMode.DNS)

    @property
    def mode(self) -> DiscoveryMode:
        """Deprecated (removed in 2.0): which factory made this discovery."""
        warnings.warn(
            "Discovery.mode is deprecated and will be removed in 2.0; keep the factory's result, or compare repr().",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._mode

    def __repr__(self) -> str:
        return f"Discovery.{self._mode.value}()"


class _Discovery(Discovery):
    def __init__(self, mode: DiscoveryMode) -> None:
        self._mode = mode


# AWS's idle timeouts when none is set (Service Connect's documented defaults; on App Mesh, Envoy's
# stream idle timeout and its TCP proxy's idle timeout).
DEFAULT_IDLE_TIMEOUT = Duration.minutes(5)
DEFAULT_TCP_IDLE_TIMEOUT = Duration.hours(1)


@dataclass(frozen=True, kw_only=True)
class RoutePolicy:
    """Retries and timeouts of the route in front of a service.

    The defaults follow AWS's App Mesh best practices: retry stream and gateway errors (and TCP
    connection errors) at least twice, and bound every request with a timeout.

    TCP carries no requests: a TCP service takes only ``idle_timeout``; its ``retry_attempts``,
    ``per_retry_timeout`` and ``request_timeout`` must keep their defaults (App Mesh TCP routes have
    no retry policy, and Service Connect no per-request timeout for TCP).

    Attributes:
        retry_attempts: How many times a failed request is retried (App Mesh only: Service Connect
            retries with its own fixed policy). Default: 2.
        per_retry_timeout: The time one attempt may take (App Mesh only). Default: 5 seconds.
        request_timeout: The time a whole request may take, retries included (HTTP, HTTP/2 and
            gRPC). Above 15 seconds, the App Mesh virtual node's listener is given at least as
            long a timeout, without which App Mesh would keep its own 15 seconds. Default: 15 seconds.
        idle_timeout: How long a connection (TCP) or a stream (HTTP, HTTP/2, gRPC) may stay idle
            before the proxy closes it. It may not be shorter than ``request_timeout``. Default:
            AWS's default for the protocol: 5 minutes for HTTP, HTTP/2 and gRPC (or
            ``request_timeout`` when that is longer), 1 hour for TCP.
    """

    retry_attempts: int = 2
    per_retry_timeout: Duration = Duration.seconds(5)
    request_timeout: Duration = Duration.seconds(15)
    idle_timeout: Duration | None = None

    def _check(self, problems: ValidationProblems, where: str, *, protocol: object = None) -> None:
        """Record what is wrong: retries from 0, literal durations, and only what ``protocol`` has."""
        retries_ok = check_positive(problems, f"{where}.retry_attempts", self.retry_attempts, minimum=0)
        durations = {
            "per_retry_timeout": self.per_retry_timeout,
            "request_timeout": self.request_timeout,
            **({"idle_timeout": self.idle_timeout} if self.idle_timeout is not None else {}),
        }
        durations_ok = True
        for field_name, value in durations.items():
            if not check_type(problems, f"{where}.{field_name}", value, Duration):
                durations_ok = False
            elif _unresolved(value):
                problems.add(
                    f"{where}.{field_name} must be a literal Duration, not a token: the listener and idle "
                    "timeouts are derived from it at synthesis. Pass e.g. Duration.seconds(15)."
                )
                durations_ok = False
        if not (retries_ok and durations_ok):
            return
        if protocol is ListenerProtocol.TCP:
            self._check_tcp(problems, where)
        elif self.idle_timeout is not None and _millis(self.idle_timeout) < _millis(self.request_timeout):
            idle, request = self.idle_timeout.to_human_string(), self.request_timeout.to_human_string()
            problems.add(
                f"{where}.idle_timeout={idle} is shorter than {where}.request_timeout={request}: the proxy "
                f"would close the connection when idle_timeout is reached, before the request may end. Make "
                f"idle_timeout at least {request}, or leave it out (default: 5 minutes, or request_timeout when "
                "that is longer)."
            )

    def _check_tcp(self, problems: ValidationProblems, where: str) -> None:
        """TCP carries no requests: only the idle timeout applies."""
        default = RoutePolicy()
        given = [
            f"{field_name}={_describe(value)}"
            for field_name, value, default_value in (
                ("retry_attempts", self.retry_attempts, default.retry_attempts),
                ("per_retry_timeout", self.per_retry_timeout, default.per_retry_timeout),
                ("request_timeout", self.request_timeout, default.request_timeout),
            )
            if _describe(value) != _describe(default_value)
        ]
        if given:
            problems.add(
                f"{where}: {', '.join(given)} cannot apply to protocol=TCP, which carries no requests: TCP routes "
                "have no retry policy and no per-request timeout. Leave retry_attempts, per_retry_timeout and "
                "request_timeout at their defaults, and bound idle connections with idle_timeout instead "
                "(default: 1 hour)."
            )

    def effective_idle_timeout(self, protocol: ListenerProtocol) -> Duration:
        """The idle timeout in force for ``protocol``: ``idle_timeout``, or AWS's default for it."""
        if self.idle_timeout is not None:
            return self.idle_timeout
        if protocol is ListenerProtocol.TCP:
            return DEFAULT_TCP_IDLE_TIMEOUT
        if self.request_timeout.to_milliseconds() > DEFAULT_IDLE_TIMEOUT.to_milliseconds():
            return self.request_timeout
        return DEFAULT_IDLE_TIMEOUT


@functools.cache
def _unresolved(duration: Duration) -> bool:
    """``duration.is_unresolved()``, asked of jsii once per Duration (every default policy shares its own)."""
    return duration.is_unresolved()


def _millis(duration: Duration) -> float:
    return duration.to_milliseconds()


def _describe(value: object) -> str:
    return value.to_human_string() if isinstance(value, Duration) else repr(value)


class IngressLoadBalancer(enum.Enum):
    """Which public load balancer fronts a MeshIngress.

    ``ALB`` (Application Load Balancer) speaks HTTP, and HTTPS with a certificate, redirecting
    HTTP to HTTPS; ``NLB`` (Network Load Balancer) passes TCP through, or terminates TLS with a
    certificate.
    """

    ALB = "application"
    NLB = "network"
