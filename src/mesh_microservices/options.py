"""Option types shared by the public constructs: protocols, discovery, route policy and load balancers."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import cast

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs


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
    """How the data plane finds a service's tasks."""

    CLOUD_MAP = "cloud_map"
    DNS = "dns"


class Discovery:
    """How callers' proxies find this service's tasks.

    Either way the ECS service registers its tasks in the cluster's Cloud Map namespace, so the
    name callers dial always resolves; the choice only changes what the virtual node points at.
    """

    def __init__(self, mode: DiscoveryMode) -> None:
        self.mode = mode

    @classmethod
    def cloud_map(cls) -> Discovery:
        """Discover tasks through the Cloud Map service the ECS service registers in (default)."""
        return cls(DiscoveryMode.CLOUD_MAP)

    @classmethod
    def dns(cls) -> Discovery:
        """Discover tasks by resolving ``<name>.<namespace>`` in DNS (the Cloud Map A records)."""
        return cls(DiscoveryMode.DNS)

    def __repr__(self) -> str:
        return f"Discovery.{self.mode.value}()"


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

    def effective_idle_timeout(self, protocol: ListenerProtocol) -> Duration:
        """The idle timeout in force for ``protocol``: ``idle_timeout``, or AWS's default for it."""
        if self.idle_timeout is not None:
            return self.idle_timeout
        if protocol is ListenerProtocol.TCP:
            return DEFAULT_TCP_IDLE_TIMEOUT
        if self.request_timeout.to_milliseconds() > DEFAULT_IDLE_TIMEOUT.to_milliseconds():
            return self.request_timeout
        return DEFAULT_IDLE_TIMEOUT


class IngressLoadBalancer(enum.Enum):
    """Which public load balancer fronts a MeshIngress.

    ``ALB`` (Application Load Balancer) speaks HTTP, and HTTPS with a certificate, redirecting
    HTTP to HTTPS; ``NLB`` (Network Load Balancer) passes TCP through, or terminates TLS with a
    certificate.
    """

    ALB = "application"
    NLB = "network"
