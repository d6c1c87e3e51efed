"""Traffic options of a MeshedService: versions with weights, routes, outlier detection, pools."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery

from .options import RoutePolicy


@dataclass(frozen=True, kw_only=True)
class ServiceVersion:
    """A further version of a service, running beside the primary one behind the same name.

    Each version has its own task definition, ECS service, Cloud Map registration and (on App
    Mesh) virtual node; the service's router splits traffic between versions by weight.

    Attributes:
        name: A DNS label naming the version, e.g. ``"v2"``.
        image: The version's application image.
        weight: Its share of the traffic, 0 to 100, relative to the other versions' weights.
        desired_count: How many tasks it runs. Default: the service's ``desired_count``.
        environment: Its environment variables. Default: the service's ``environment``.
    """

    name: str
    image: ecs.ContainerImage
    weight: int
    desired_count: int | None = None
    environment: Mapping[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class RouteRule:
    """A route in front of a service that matches some requests and sends them to chosen versions.

    Rules are tried in the order given, before the service's default route (all of ``/``, split by
    the versions' weights). HTTP and HTTP/2 services only.

    Attributes:
        name: A DNS label naming the route, e.g. ``"beta-testers"``.
        path_prefix: Requests whose path starts with this; must start with "/". Default: "/".
        headers: Header values the request must carry exactly, e.g. ``{"x-canary": "true"}``.
            Default: none.
        weights: Version name -> weight for the requests this rule matches, e.g. ``{"v2": 100}``.
            Default: the versions' own weights.
        policy: Retries and timeouts of this route. Default: the service's ``route_policy``.
    """

    name: str
    path_prefix: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict)
    weights: Mapping[str, int] | None = None
    policy: RoutePolicy | None = None


@dataclass(frozen=True, kw_only=True)
class OutlierDetection:
    """Eject a task from callers' load balancing after consecutive server errors.

    Attributes:
        max_server_errors: Consecutive 5xx responses that eject a task. Default: 5.
        interval: How often ejection is evaluated. Default: 10 seconds.
        base_ejection_duration: How long a first ejection lasts. Default: 30 seconds.
        max_ejection_percent: The most tasks that may be ejected at once. Default: 50.
    """

    max_server_errors: int = 5
    interval: Duration = Duration.seconds(10)
    base_ejection_duration: Duration = Duration.seconds(30)
    max_ejection_percent: int = 50


@dataclass(frozen=True, kw_only=True)
class ConnectionPool:
    """Limits on what callers may have open against one task of the service.

    Attributes:
        max_connections: Open connections (HTTP and TCP). Default: 1024.
        max_pending_requests: Queued requests (HTTP). Default: 1024.
        max_requests: Concurrent requests (HTTP/2 and gRPC). Default: 1024.
    """

    max_connections: int = 1024
    max_pending_requests: int = 1024
    max_requests: int = 1024


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """One version of a service as deployed: its weight, task definition and ECS service.

    Attributes:
        version: The version's name.
        weight: Its share of the default route's traffic.
        primary: Whether this is the service's primary version (the one the service was created with).
        task_definition: Its task definition.
        app_container: Its application container.
        service: Its ECS service.
        cloud_map_service: The Cloud Map service its tasks register in (None on Service Connect).
        task_count: Its scalable task count, with the service's scaling policies; None when the
            service does not scale.
    """

    version: str
    weight: int
    primary: bool
    task_definition: ecs.FargateTaskDefinition
    app_container: ecs.ContainerDefinition
    service: ecs.FargateService
    cloud_map_service: servicediscovery.IService | None
    task_count: ecs.ScalableTaskCount | None = None
