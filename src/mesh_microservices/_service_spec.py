"""What a MeshedService is given, checked into a spec before any of its constructs exist.

Every problem of a declaration is reported at once, the data plane's included; the service then
builds from the checked inputs only. What only the whole app can tell (whether something probes
the health-check path, whether a load balancer counts the requests) is checked at synthesis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct, IValidation

from ._contract import ServiceSpec
from ._deprecation import renamed
from ._placement import check_same_environment, stack_of
from ._traffic_checks import check_route_policy, check_traffic
from ._validate import (
    ValidationProblems,
    check_environment_names,
    check_path,
    check_port,
    check_positive,
    check_service_name,
    check_task_size,
    check_type,
    is_token,
    kind_of,
    with_article,
)
from .cluster import MeshedCluster
from .options import PATH_PROTOCOLS, Discovery, ListenerProtocol, RoutePolicy
from .rollout import Rollout, check_rollout
from .scaling import Scaling
from .security import ContainerSecurity, check_container_security
from .traffic import ConnectionPool, OutlierDetection, RouteRule, ServiceVersion

if TYPE_CHECKING:
    from .service import MeshedService

# The path probed when a service names none: the root, which every HTTP application serves.
DEFAULT_HEALTH_CHECK_PATH = "/"
# Task memory when none is given: the least Fargate offers with the default 256 CPU units.
DEFAULT_MEMORY_LIMIT_MIB = 512


@dataclass(frozen=True, kw_only=True)
class ServiceInputs:
    """The arguments of one MeshedService, as given (its defaults applied by the constructor).

    ``memory_limit_mib`` and its deprecated name ``memory_mib`` are None when not given: read
    ``task_memory_mib``.
    """

    cluster: MeshedCluster
    name: str
    image: ecs.ContainerImage
    port: int
    protocol: ListenerProtocol
    health_check_path: str | None
    container_health_check: ecs.HealthCheck | None
    cpu: int
    memory_limit_mib: int | None
    memory_mib: int | None
    desired_count: int
    environment: Mapping[str, str] | None
    secrets: Mapping[str, ecs.Secret] | None
    discovery: Discovery
    route_policy: RoutePolicy
    version: str
    weight: int
    versions: Sequence[ServiceVersion]
    routes: Sequence[RouteRule]
    rollout: Rollout
    outlier_detection: OutlierDetection | None
    connection_pool: ConnectionPool | None
    backends: Sequence[MeshedService | str]
    scaling: Scaling | None
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    container_security: ContainerSecurity
    allow_all_outbound: bool

    @property
    def task_memory_mib(self) -> int:
        """The task's memory in MiB, under whichever name it was given, or the default."""
        for given in (self.memory_limit_mib, self.memory_mib):
            if given is not None:
                return given
        return DEFAULT_MEMORY_LIMIT_MIB


def check_service(owner: Construct, id: str, scope: Construct, inputs: ServiceInputs) -> ServiceSpec:
    """The data plane's view of ``inputs``; raises with every problem of the declaration, the plane's included.

    Args:
        owner: The MeshedService being created (its constructs do not exist yet).
        id: Its construct id, for messages.
        scope: Its parent construct.
        inputs: What it was given.
    """
    problems = ValidationProblems(f"MeshedService {id!r}")
    _check_placement(problems, scope, inputs)
    _check_container(problems, inputs)
    check_type(problems, "discovery", inputs.discovery, Discovery)
    check_route_policy(problems, "route_policy", inputs.route_policy, inputs.protocol)
    resolve_backends(problems, inputs.backends, inputs.cluster)
    _check_scaling(problems, inputs.scaling, inputs.protocol, inputs.desired_count, inputs.versions)
    weights = check_traffic(
        problems,
        protocol=inputs.protocol,
        version=inputs.version,
        weight=inputs.weight,
        versions=inputs.versions,
        routes=inputs.routes,
        outlier_detection=inputs.outlier_detection,
        connection_pool=inputs.connection_pool,
    )
    check_rollout(problems, "rollout", inputs.rollout, protocol=inputs.protocol)
    check_type(problems, "log_retention", inputs.log_retention, logs.RetentionDays)
    check_type(problems, "removal_policy", inputs.removal_policy, RemovalPolicy)
    check_container_security(problems, "container_security", inputs.container_security)
    check_type(problems, "allow_all_outbound", inputs.allow_all_outbound, bool)
    problems.raise_if_any()
    spec = _spec(owner, inputs, weights)
    inputs.cluster._binding.check(problems, spec)
    problems.raise_if_any()
    return spec


def _spec(owner: Construct, inputs: ServiceInputs, weights: Mapping[str, int]) -> ServiceSpec:
    cluster = inputs.cluster
    path = inputs.health_check_path
    return ServiceSpec(
        scope=owner,
        name=inputs.name,
        namespace=cluster.namespace,
        namespace_name=cluster.namespace_name,
        domain=cluster.service_domain,
        port=inputs.port,
        protocol=inputs.protocol,
        health_check_path=path if path is not None else DEFAULT_HEALTH_CHECK_PATH,
        discovery=inputs.discovery,
        route_policy=inputs.route_policy,
        primary_version=inputs.version,
        weights=weights,
        routes=tuple(inputs.routes),
        outlier_detection=inputs.outlier_detection,
        connection_pool=inputs.connection_pool,
        rollout=inputs.rollout,
        scaling=inputs.scaling,
    )


@jsii.implements(IValidation)
class HealthCheckPathProbed:
    """Fails synthesis when a service's explicit health_check_path is probed by nothing.

    Only a load balancer probes the path when the data plane does not, and load balancers reach a
    service through ``expose_to`` (MeshIngress calls it too), which may come after the service.
    """

    def __init__(self, service: MeshedService) -> None:
        self._service = service

    def validate(self) -> list[str]:
        service = self._service
        if service.exposed_to:
            return []
        return [
            f"MeshedService {service.name!r}: health_check_path={service.health_check_path!r} is probed by "
            f"nothing. On {service.cluster.data_plane!r} only a load balancer's target group probes a path, and "
            "the service is exposed to no load balancer. Give the application container_health_check="
            "ecs.HealthCheck(...) instead, or route the service through a MeshIngress or expose_to() a load "
            "balancer whose target group probes the path; or drop health_check_path."
        ]


@jsii.implements(IValidation)
class RequestsCounted:
    """Fails synthesis when ``scaling.requests_per_target`` is set and no ALB target group forwards to the service.

    A MeshIngress attaches its target group after the service exists, so this is checked at synthesis.
    """

    def __init__(self, service: MeshedService) -> None:
        self._service = service

    def validate(self) -> list[str]:
        service = self._service
        if service.load_balancer_target_groups:
            return []
        assert service.scaling is not None
        return [
            f"MeshedService {service.name!r}: scaling.requests_per_target={service.scaling.requests_per_target} "
            "counts the requests an Application Load Balancer forwards to the service's tasks, and no ALB target "
            "group forwards to them. Route the service through a MeshIngress with load_balancer="
            "IngressLoadBalancer.ALB (the default), or scale on cpu_percent or memory_percent instead."
        ]


def _check_placement(problems: ValidationProblems, scope: Construct, inputs: ServiceInputs) -> None:
    """A cluster of the same environment, a name unique in it, a port its data plane leaves free."""
    cluster, name = inputs.cluster, inputs.name
    if not check_type(problems, "cluster", cluster, MeshedCluster):
        return
    check_service_name(problems, "name", name)
    taken = cluster.service_named(name) if isinstance(name, str) else None
    if taken is not None:
        problems.add(
            f"name={name!r} is already a service of cluster {cluster.node.path!r} "
            f"(construct {taken.node.path!r}); give each service its own name."
        )
    check_port(problems, "port", inputs.port, reserved=cluster._binding.reserved_ports())
    check_same_environment(
        problems, "scope", stack_of(scope), stack_of(cluster), what=lambda: f"cluster {cluster.node.path!r}"
    )


def _check_container(problems: ValidationProblems, inputs: ServiceInputs) -> None:
    """The application container and its task: image, protocol, health checks, size, count, variables."""
    check_type(problems, "image", inputs.image, ecs.ContainerImage)
    check_type(problems, "protocol", inputs.protocol, ListenerProtocol)
    _check_health_check_path(problems, inputs.health_check_path, inputs.protocol)
    if inputs.container_health_check is not None:
        check_type(problems, "container_health_check", inputs.container_health_check, ecs.HealthCheck)
    memory_parameter, _ = renamed(
        problems,
        old="memory_mib",
        old_value=inputs.memory_mib,
        new="memory_limit_mib",
        new_value=inputs.memory_limit_mib,
    )
    check_task_size(problems, inputs.cpu, inputs.task_memory_mib, memory_parameter=memory_parameter)
    check_positive(problems, "desired_count", inputs.desired_count, minimum=0)
    _check_environment(problems, inputs.environment, inputs.secrets, inputs.versions)


def _check_health_check_path(problems: ValidationProblems, path: object, protocol: object) -> None:
    if path is None:
        return
    check_path(problems, "health_check_path", path)
    if isinstance(protocol, ListenerProtocol) and protocol not in PATH_PROTOCOLS:
        problems.add(
            f"health_check_path={path!r} is not used by protocol=ListenerProtocol.{protocol.name}: gRPC and TCP "
            "health checks have no path (App Mesh probes gRPC with the gRPC health protocol and TCP by "
            "connecting). Drop health_check_path; to probe the application from inside its task, pass "
            "container_health_check=ecs.HealthCheck(...)."
        )


def _check_scaling(
    problems: ValidationProblems,
    scaling: object,
    protocol: object,
    desired_count: object,
    versions: object,
) -> None:
    """A Scaling (its fields checked itself), whose bounds hold every version's starting count."""
    if scaling is None or not check_type(problems, "scaling", scaling, Scaling):
        return
    assert isinstance(scaling, Scaling)
    counts: list[tuple[str, object]] = [("desired_count", desired_count)]
    if isinstance(versions, Sequence):
        counts += [
            (f"versions[{index}].desired_count", extra.desired_count)
            for index, extra in enumerate(versions)
            if isinstance(extra, ServiceVersion) and extra.desired_count is not None
        ]
    for parameter, count in counts:
        problem = scaling._bounds_problem(parameter, count)
        if problem is not None:
            problems.add(problem)
    http = not isinstance(protocol, ListenerProtocol) or protocol is ListenerProtocol.HTTP
    if scaling.requests_per_target is not None and not http:
        assert isinstance(protocol, ListenerProtocol)
        problems.add(
            f"scaling.requests_per_target={scaling.requests_per_target} with protocol=ListenerProtocol."
            f"{protocol.name}: requests per task are counted by an Application Load Balancer, and a MeshIngress "
            "routes HTTP services only. Scale on cpu_percent or memory_percent instead."
        )


def _check_environment(problems: ValidationProblems, environment: object, secrets: object, versions: object) -> None:
    """Plain and secret variables: well typed, not reserved by ECS, each name in one of the two."""
    _check_string_map(problems, "environment", environment)
    _check_string_map(problems, "secrets", secrets, value_type=ecs.Secret)
    plain = environment if isinstance(environment, Mapping) else {}
    secret = secrets if isinstance(secrets, Mapping) else {}
    check_environment_names(problems, "environment", plain)
    check_environment_names(problems, "secrets", secret)
    for index, version in enumerate(versions if isinstance(versions, (list, tuple)) else ()):
        if isinstance(version, ServiceVersion) and version.environment is not None:
            where = f"versions[{index}].environment"
            _check_string_map(problems, where, version.environment)
            if isinstance(version.environment, Mapping):
                check_environment_names(problems, where, version.environment)
                _check_disjoint(problems, where, version.environment, secret)
    _check_disjoint(problems, "environment", plain, secret)


def _check_disjoint(
    problems: ValidationProblems, parameter: str, plain: Mapping[Any, object], secret: Mapping[Any, object]
) -> None:
    both = sorted(name for name in plain if isinstance(name, str) and not is_token(name) and name in secret)
    if both:
        names = ", ".join(map(repr, both))
        problems.add(
            f"{parameter} and secrets both set {names}; a container takes one value per name. Keep each name in "
            "one of them: in secrets if its value is sensitive, in environment otherwise."
        )


def _check_string_map(problems: ValidationProblems, parameter: str, values: object, value_type: type = str) -> None:
    if values is None:
        return
    wanted = f"dict of str to {value_type.__name__}"
    if not isinstance(values, Mapping):
        problems.add(
            f"{parameter}={values!r} is {kind_of(values)}; pass {with_article(wanted)}.",
            kind=TypeError,
        )
        return
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, value_type):
            problems.add(f"{parameter}[{key!r}]={value!r}: pass {with_article(wanted)}.", kind=TypeError)


def resolve_backends(
    problems: ValidationProblems, backends: object, cluster: object, *, parameter: str = "backends"
) -> list[MeshedService]:
    """The services ``backends`` names (objects or names in ``cluster``); records what is wrong."""
    from .service import MeshedService  # the construct's module imports this one

    if isinstance(backends, (str, bytes)) or not isinstance(backends, Sequence):
        problems.add(f"{parameter}={backends!r} is not a list; pass a list of MeshedService or names.", kind=TypeError)
        return []
    resolved: list[MeshedService] = []

    def cluster_path() -> str:  # for messages only: reading a path is a jsii round trip
        return cluster.node.path if isinstance(cluster, MeshedCluster) else repr(cluster)

    for backend in backends:
        if isinstance(backend, str) and isinstance(cluster, MeshedCluster):
            found = cluster.service_named(backend)
            if found is None:
                names = ", ".join(sorted(service.name for service in cluster.services)) or "none yet"
                problems.add(
                    f"{parameter}: no service is named {backend!r} in cluster {cluster_path()!r} (its services: "
                    f"{names}); check the name, or declare the callee before its callers."
                )
            else:
                resolved.append(found)
        elif not isinstance(backend, MeshedService):
            problems.add(
                f"{parameter} holds {backend!r}, {kind_of(backend)}; pass MeshedService objects or names.",
                kind=TypeError,
            )
        elif backend.cluster is not cluster:
            problems.add(
                f"{parameter}: {backend.name!r} runs in cluster {backend.cluster.node.path!r}, not in "
                f"{cluster_path()!r}; services connect within one cluster — move one of them, or expose "
                "the callee through an ingress."
            )
        else:
            resolved.append(backend)
    return resolved
