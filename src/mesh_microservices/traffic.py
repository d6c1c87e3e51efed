"""Traffic options of a MeshedService: versions with weights, routes, outlier detection, pools."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery

from ._validate import (
    ValidationProblems,
    check_header,
    check_option,
    check_path,
    check_positive,
    check_service_name,
    check_type,
    refuse_token,
)
from .options import RoutePolicy

MAX_WEIGHT = 100  # App Mesh's largest weighted-target weight


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

    def _check(self, problems: ValidationProblems, where: str) -> None:
        """Record what is wrong with the fields (the environment is checked with the service's)."""
        check_service_name(problems, f"{where}.name", self.name)
        check_type(problems, f"{where}.image", self.image, ecs.ContainerImage)
        check_weight(problems, f"{where}.weight", self.weight)
        if self.desired_count is not None:
            check_positive(problems, f"{where}.desired_count", self.desired_count, minimum=0)


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

    def _check(self, problems: ValidationProblems, where: str, *, protocol: object = None) -> None:
        """Record what is wrong with the fields; which versions ``weights`` may name is the service's check."""
        check_service_name(problems, f"{where}.name", self.name)
        check_path(
            problems, f"{where}.path_prefix", self.path_prefix, prefix=True, literal="routes are matched in order"
        )
        headers: object = self.headers
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            problems.add(f"{where}.headers={headers!r}: pass a dict of header name to exact value.", kind=TypeError)
        else:
            assert isinstance(headers, Mapping)
            for name, value in headers.items():
                check_header(problems, f"{where}.headers[{name!r}]", name, value)
        weights: object = self.weights
        if weights is not None and not isinstance(weights, Mapping):
            problems.add(f"{where}.weights={weights!r}: pass a dict of version name to weight.", kind=TypeError)
        elif isinstance(weights, Mapping):
            for target, weight in weights.items():
                check_weight(problems, f"{where}.weights[{target!r}]", weight)
        if self.policy is not None:
            check_option(problems, f"{where}.policy", self.policy, RoutePolicy, protocol=protocol)


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

    def _check(self, problems: ValidationProblems, where: str) -> None:
        """Record what is wrong with the fields."""
        check_positive(problems, f"{where}.max_server_errors", self.max_server_errors)
        check_type(problems, f"{where}.interval", self.interval, Duration)
        check_type(problems, f"{where}.base_ejection_duration", self.base_ejection_duration, Duration)
        percent = self.max_ejection_percent
        if check_type(problems, f"{where}.max_ejection_percent", percent, int) and not 0 <= percent <= 100:
            problems.add(
                f"{where}.max_ejection_percent={percent} is not from 0 to 100; pass a share of the tasks, e.g. 50."
            )


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

    def _check(self, problems: ValidationProblems, where: str) -> None:
        """Record what is wrong with the fields."""
        for field_name in ("max_connections", "max_pending_requests", "max_requests"):
            check_positive(problems, f"{where}.{field_name}", getattr(self, field_name))


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


def is_weight(weight: object) -> bool:
    """Whether ``weight`` is a literal weight from 0 to ``MAX_WEIGHT``."""
    return isinstance(weight, int) and not isinstance(weight, bool) and 0 <= weight <= MAX_WEIGHT


def check_weight(problems: ValidationProblems, parameter: str, weight: object) -> bool:
    """A version's share of the traffic: a literal integer from 0 to ``MAX_WEIGHT``; return whether it is one."""
    if not check_type(problems, parameter, weight, int):
        return False
    if refuse_token(problems, parameter, weight, "the versions' shares of traffic are checked and split at synthesis"):
        return False
    if not is_weight(weight):
        problems.add(f"{parameter}={weight} is not from 0 to {MAX_WEIGHT}; pass a share of the traffic, e.g. 10.")
        return False
    return True
