"""One service's App Mesh resources: a virtual node per version, the router, routes and service."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ecs as ecs
from constructs import Construct
from typing_extensions import override

from .._contract import ServiceMeshing, ServiceSpec, Workload
from .._durations import idle_timeout, longer, longest
from .._placement import stack_of
from ..observability import ServiceAlarms
from ..options import DEFAULT_IDLE_TIMEOUT, DEFAULT_TCP_IDLE_TIMEOUT, DiscoveryMode, ListenerProtocol, RoutePolicy
from ..traffic import Deployment, RouteRule
from . import envoy
from .end_of_life import acknowledge_shutdown_warnings
from .observability import AppMeshObservability, VersionTelemetry, access_log, add_alarms, add_telemetry
from .tls import MeshTls, ServiceTls

# Priorities of the service's routes: rules in the order given, then the default route.
RULE_PRIORITY_STEP = 10
DEFAULT_ROUTE_PRIORITY = 1000
# App Mesh's per-request timeout where none is set. A route may allow longer requests only when
# the listener of the virtual node it leads to does too; likewise for idle timeouts longer than
# the defaults (DEFAULT_IDLE_TIMEOUT, DEFAULT_TCP_IDLE_TIMEOUT).
LISTENER_DEFAULT_PER_REQUEST = Duration.seconds(15)
# The parts of a MeshedService only App Mesh has, by attribute name ("app_mesh": all of them).
SERVICE_PARTS = frozenset({"app_mesh", "virtual_node", "virtual_router", "virtual_service", "envoy_container"})


class AppMeshService(ServiceMeshing):
    """The App Mesh side of one MeshedService, and the Envoy sidecar of each version.

    Attributes:
        scope: The construct that holds the App Mesh resources, below the MeshedService.
        virtual_node: The primary version's node; discovers its ECS service's Cloud Map service.
        virtual_nodes: Every version's node, by version name.
        virtual_router: The router behind the virtual service.
        route: The default route: all requests, split by the versions' weights.
        routes: The routes of the service's route rules, by rule name.
        virtual_service: The name callers dial, ``<name>.<namespace>``.
        envoy_container: The Envoy sidecar of the primary version's task definition.
        envoy_containers: Every version's Envoy sidecar, by version name.
        tls: The service's TLS (listener, client policy, grants), when the mesh uses TLS.
        observability: What the data plane records about the service, with App Mesh's defaults.
        telemetry: Every version's observability sidecars, by version name.
        alarms: The service's alarms (5xx share, unhealthy tasks), without actions; None when off.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        mesh: appmesh.IMesh,
        workload: Workload,
        envoy_image: ecs.ContainerImage,
        tls: MeshTls | None = None,
        observability: AppMeshObservability,
    ) -> None:
        spec = workload.spec
        self.scope = Construct(scope, id)
        self._stack = stack_of(scope)
        self.tls: ServiceTls | None = tls._for_service(self.scope, spec.dns_name) if tls is not None else None
        self.observability = observability
        self.telemetry: dict[str, VersionTelemetry] = {}
        self.virtual_nodes: dict[str, appmesh.VirtualNode] = {}
        self.envoy_containers: dict[str, ecs.ContainerDefinition] = {}
        for deployment in workload.deployments:
            node, sidecar = self._add_version(mesh, spec, deployment, workload, envoy_image)
            self.virtual_nodes[deployment.version] = node
            self.envoy_containers[deployment.version] = sidecar
        self.virtual_node = self.virtual_nodes[spec.primary_version]
        self.envoy_container = self.envoy_containers[spec.primary_version]
        self.virtual_router = appmesh.VirtualRouter(
            self.scope, "VirtualRouter", mesh=mesh, listeners=[_router_listener(spec.protocol, spec.port)]
        )
        self.routes: dict[str, appmesh.Route] = {}
        for index, rule in enumerate(spec.routes):
            self.routes[rule.name] = self.virtual_router.add_route(
                f"Route-{rule.name}",
                route_spec=_rule_spec(spec, rule, self.virtual_nodes, priority=(index + 1) * RULE_PRIORITY_STEP),
            )
        self.route = self.virtual_router.add_route(
            "Route",
            route_spec=_route_spec(
                spec.protocol,
                spec.port,
                _targets(self.virtual_nodes, spec.weights),
                spec.route_policy,
                priority=DEFAULT_ROUTE_PRIORITY if spec.routes else None,
            ),
        )
        self.virtual_service = appmesh.VirtualService(
            self.scope,
            "VirtualService",
            virtual_service_name=spec.dns_name,
            virtual_service_provider=appmesh.VirtualServiceProvider.virtual_router(self.virtual_router),
        )
        self.alarms: ServiceAlarms | None = add_alarms(
            self.scope,
            self.observability,
            service_name=spec.dns_name,
            mesh=mesh,
            node_names=[virtual_node_name(spec, deployment.version) for deployment in workload.deployments],
            protocol=spec.protocol,
            port=spec.port,
        )
        acknowledge_shutdown_warnings(self.scope)

    def _add_version(
        self,
        mesh: appmesh.IMesh,
        spec: ServiceSpec,
        deployment: Deployment,
        workload: Workload,
        envoy_image: ecs.ContainerImage,
    ) -> tuple[appmesh.VirtualNode, ecs.ContainerDefinition]:
        suffix = "" if deployment.primary else f"-{deployment.version}"
        node = appmesh.VirtualNode(
            self.scope,
            f"VirtualNode{suffix}",
            mesh=mesh,
            virtual_node_name=virtual_node_name(spec, deployment.version),
            service_discovery=_service_discovery(spec, deployment),
            listeners=[_node_listener(spec, self.tls.listener if self.tls else None)],
            backend_defaults=appmesh.BackendDefaults(tls_client_policy=self.tls.client_policy) if self.tls else None,
            access_log=access_log(self.observability),
        )
        if self.tls is not None:
            self.tls.grant(deployment.task_definition.task_role)
        sidecar = envoy.add_envoy_sidecar(
            deployment.task_definition,
            image=envoy_image,
            virtual_node_arn=node.virtual_node_arn,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=f"envoy{suffix}", log_group=workload.log_group),
        )
        deployment.app_container.add_container_dependencies(
            ecs.ContainerDependency(container=sidecar, condition=ecs.ContainerDependencyCondition.HEALTHY)
        )
        _grant_envoy_access(self.scope, f"VirtualNodeByName{suffix}", mesh, spec, deployment)
        self.telemetry[deployment.version] = add_telemetry(
            self.observability,
            task_definition=deployment.task_definition,
            envoy=sidecar,
            log_group=workload.log_group,
            stream_suffix=suffix,
        )
        return node, sidecar

    @functools.cached_property
    def _backend(self) -> appmesh.Backend:
        """This service as a backend of its callers (configuration only: one for all of them)."""
        return appmesh.Backend.virtual_service(self.virtual_service)

    @override
    def part(self, name: str) -> object:
        if name == "app_mesh":
            return self
        if name not in SERVICE_PARTS:
            raise AttributeError(f"on DataPlane.app_mesh() the service has no {name!r}.")
        return getattr(self, name)

    @override
    def add_backend(self, callee: ServiceMeshing) -> None:
        if not isinstance(callee, AppMeshService):
            raise TypeError(f"callee={callee!r} is not on App Mesh; connect services of one cluster only.")
        backend = callee._backend
        # The backend is named literally; in one stack, still create the callee's service first.
        same_stack = self._stack is callee._stack
        for node in self.virtual_nodes.values():
            node.add_backend(backend)
            if same_stack:
                node.node.add_dependency(callee.virtual_service)


def virtual_node_name(spec: ServiceSpec, version: str) -> str:
    """A version's virtual node name: unique in a mesh shared by several clusters' namespaces."""
    return f"{spec.registration_name(version)}_{spec.namespace_name}"


def _grant_envoy_access(
    scope: Construct, id: str, mesh: appmesh.IMesh, spec: ServiceSpec, deployment: Deployment
) -> None:
    """Let the task's Envoy stream its configuration, for its own virtual node only.

    The grant goes through a by-name reference to the node: the task role's policy must not
    depend on the node resource, which depends on the Cloud Map service, which ECS makes depend
    on the task role — a reference cycle CloudFormation would refuse.
    """
    node = appmesh.VirtualNode.from_virtual_node_attributes(
        scope, id, mesh=mesh, virtual_node_name=virtual_node_name(spec, deployment.version)
    )
    node.grant_stream_aggregated_resources(deployment.task_definition.task_role)


def _service_discovery(spec: ServiceSpec, deployment: Deployment) -> appmesh.ServiceDiscovery:
    if spec.discovery._mode is DiscoveryMode.DNS:
        return appmesh.ServiceDiscovery.dns(f"{spec.registration_name(deployment.version)}.{spec.namespace_name}")
    if deployment.cloud_map_service is None:  # MeshedService always registers; this guards the contract
        raise RuntimeError("the ECS service has no Cloud Map service to discover")
    return appmesh.ServiceDiscovery.cloud_map(deployment.cloud_map_service)


def _node_listener(spec: ServiceSpec, tls: appmesh.ListenerTlsOptions | None) -> appmesh.VirtualNodeListener:
    port, path = spec.port, spec.health_check_path
    outlier = _outlier_detection(spec)
    pool = spec.connection_pool
    per_request, idle = _listener_timeouts(spec)
    match spec.protocol:
        case ListenerProtocol.HTTP:
            return appmesh.VirtualNodeListener.http(
                port=port,
                tls=tls,
                timeout=appmesh.HttpTimeout(per_request=per_request, idle=idle) if per_request is not None else None,
                health_check=_health_check(spec.protocol, path),
                outlier_detection=outlier,
                connection_pool=appmesh.HttpConnectionPool(
                    max_connections=pool.max_connections, max_pending_requests=pool.max_pending_requests
                )
                if pool
                else None,
            )
        case ListenerProtocol.HTTP2:
            return appmesh.VirtualNodeListener.http2(
                port=port,
                tls=tls,
                timeout=appmesh.HttpTimeout(per_request=per_request, idle=idle) if per_request is not None else None,
                health_check=_health_check(spec.protocol, path),
                outlier_detection=outlier,
                connection_pool=appmesh.Http2ConnectionPool(max_requests=pool.max_requests) if pool else None,
            )
        case ListenerProtocol.GRPC:
            return appmesh.VirtualNodeListener.grpc(
                port=port,
                tls=tls,
                timeout=appmesh.GrpcTimeout(per_request=per_request, idle=idle) if per_request is not None else None,
                health_check=_health_check(spec.protocol, path),
                outlier_detection=outlier,
                connection_pool=appmesh.GrpcConnectionPool(max_requests=pool.max_requests) if pool else None,
            )
        case ListenerProtocol.TCP:
            return appmesh.VirtualNodeListener.tcp(
                port=port,
                tls=tls,
                timeout=appmesh.TcpTimeout(idle=idle) if idle is not None else None,
                health_check=_health_check(spec.protocol, path),
                outlier_detection=outlier,
                connection_pool=appmesh.TcpConnectionPool(max_connections=pool.max_connections) if pool else None,
            )


def _listener_timeouts(spec: ServiceSpec) -> tuple[Duration | None, Duration | None]:
    """(per-request, idle) timeouts of the service's listeners; (None, None) where App Mesh's defaults do.

    The listener must allow at least what the longest of the service's routes allows, or App Mesh
    keeps its defaults. It is set only when a route exceeds them, so that the virtual node of a
    service whose routes stay within the defaults is unchanged; then both values are at least the
    defaults, so that setting one never shortens the other. TCP has no per-request timeout.
    """
    policies = [spec.route_policy, *(rule.policy or spec.route_policy for rule in spec.routes)]
    idle = longest(*(idle_timeout(policy, spec.protocol) for policy in policies))
    if spec.protocol is ListenerProtocol.TCP:
        return (None, idle) if longer(idle, DEFAULT_TCP_IDLE_TIMEOUT) else (None, None)
    per_request = longest(*(policy.request_timeout for policy in policies))
    if not (longer(per_request, LISTENER_DEFAULT_PER_REQUEST) or longer(idle, DEFAULT_IDLE_TIMEOUT)):
        return None, None
    return longest(per_request, LISTENER_DEFAULT_PER_REQUEST), longest(idle, DEFAULT_IDLE_TIMEOUT)


# Listener parts hold configuration only (their bind() renders it), so services share them:
# each one created is a jsii round trip.
@functools.cache
def _health_check(protocol: ListenerProtocol, path: str) -> appmesh.HealthCheck:
    match protocol:
        case ListenerProtocol.HTTP:
            return appmesh.HealthCheck.http(path=path)
        case ListenerProtocol.HTTP2:
            return appmesh.HealthCheck.http2(path=path)
        case ListenerProtocol.GRPC:
            return appmesh.HealthCheck.grpc()
        case ListenerProtocol.TCP:
            return appmesh.HealthCheck.tcp()


def _outlier_detection(spec: ServiceSpec) -> appmesh.OutlierDetection | None:
    detection = spec.outlier_detection
    if detection is None:
        return None
    return appmesh.OutlierDetection(
        max_server_errors=detection.max_server_errors,
        interval=detection.interval,
        base_ejection_duration=detection.base_ejection_duration,
        max_ejection_percent=detection.max_ejection_percent,
    )


@functools.cache
def _router_listener(protocol: ListenerProtocol, port: int) -> appmesh.VirtualRouterListener:
    match protocol:
        case ListenerProtocol.HTTP:
            return appmesh.VirtualRouterListener.http(port)
        case ListenerProtocol.HTTP2:
            return appmesh.VirtualRouterListener.http2(port)
        case ListenerProtocol.GRPC:
            return appmesh.VirtualRouterListener.grpc(port)
        case ListenerProtocol.TCP:
            return appmesh.VirtualRouterListener.tcp(port)


def _targets(nodes: dict[str, appmesh.VirtualNode], weights: Mapping[str, int]) -> list[appmesh.WeightedTarget]:
    return [appmesh.WeightedTarget(virtual_node=nodes[version], weight=weight) for version, weight in weights.items()]


def _rule_spec(
    spec: ServiceSpec, rule: RouteRule, nodes: dict[str, appmesh.VirtualNode], *, priority: int
) -> appmesh.RouteSpec:
    match = appmesh.HttpRouteMatch(
        path=appmesh.HttpRoutePathMatch.starts_with(rule.path_prefix),
        headers=[appmesh.HeaderMatch.value_is(name, value) for name, value in rule.headers.items()] or None,
    )
    weights = rule.weights if rule.weights is not None else spec.weights
    return _route_spec(
        spec.protocol,
        spec.port,
        _targets(nodes, weights),
        rule.policy or spec.route_policy,
        priority=priority,
        http_match=match,
    )


def _route_spec(
    protocol: ListenerProtocol,
    port: int,
    targets: list[appmesh.WeightedTarget],
    policy: RoutePolicy,
    *,
    priority: int | None = None,
    http_match: appmesh.HttpRouteMatch | None = None,
) -> appmesh.RouteSpec:
    attempts, per_try, timeout = policy.retry_attempts, policy.per_retry_timeout, policy.request_timeout
    idle = idle_timeout(policy, protocol)
    match protocol:
        case ListenerProtocol.HTTP:
            return appmesh.RouteSpec.http(
                weighted_targets=targets,
                match=http_match,
                priority=priority,
                retry_policy=_http_retry_policy(attempts, per_try),
                timeout=appmesh.HttpTimeout(per_request=timeout, idle=idle),
            )
        case ListenerProtocol.HTTP2:
            return appmesh.RouteSpec.http2(
                weighted_targets=targets,
                match=http_match,
                priority=priority,
                retry_policy=_http_retry_policy(attempts, per_try),
                timeout=appmesh.HttpTimeout(per_request=timeout, idle=idle),
            )
        case ListenerProtocol.GRPC:
            return appmesh.RouteSpec.grpc(
                weighted_targets=targets,
                match=appmesh.GrpcRouteMatch(port=port),  # every call on the service's port
                priority=priority,
                retry_policy=appmesh.GrpcRetryPolicy(
                    retry_attempts=attempts,
                    retry_timeout=per_try,
                    grpc_retry_events=[appmesh.GrpcRetryEvent.UNAVAILABLE],
                    http_retry_events=list(_HTTP_RETRY_EVENTS),
                    tcp_retry_events=[appmesh.TcpRetryEvent.CONNECTION_ERROR],
                ),
                timeout=appmesh.GrpcTimeout(per_request=timeout, idle=idle),
            )
        case ListenerProtocol.TCP:
            return appmesh.RouteSpec.tcp(
                weighted_targets=targets, priority=priority, timeout=appmesh.TcpTimeout(idle=idle)
            )


# AWS's App Mesh best practice: retry at least stream and gateway errors.
_HTTP_RETRY_EVENTS = (appmesh.HttpRetryEvent.STREAM_ERROR, appmesh.HttpRetryEvent.GATEWAY_ERROR)


def _http_retry_policy(attempts: int, per_try: Duration) -> appmesh.HttpRetryPolicy:
    return appmesh.HttpRetryPolicy(
        retry_attempts=attempts,
        retry_timeout=per_try,
        http_retry_events=list(_HTTP_RETRY_EVENTS),
        tcp_retry_events=[appmesh.TcpRetryEvent.CONNECTION_ERROR],
    )
