"""One service's App Mesh resources: virtual node, virtual router, route and virtual service."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from .._contract import ServiceMeshing, ServiceSpec, Workload
from ..options import DiscoveryMode, ListenerProtocol, RoutePolicy
from . import envoy
from .end_of_life import acknowledge_shutdown_warnings


class AppMeshService(ServiceMeshing):
    """The App Mesh side of one MeshedService, and its Envoy sidecar.

    Attributes:
        scope: The construct that holds the App Mesh resources, below the MeshedService.
        virtual_node: The node Envoy serves; discovers the ECS service's own Cloud Map service.
        virtual_router: The router behind the virtual service.
        route: The default route, with the service's retries and timeouts.
        virtual_service: The name callers dial, ``<name>.<namespace>``.
        envoy_container: The Envoy sidecar in the service's task definition.
    """

    def __init__(
        self, scope: Construct, id: str, *, mesh: appmesh.IMesh, workload: Workload, envoy_image: ecs.ContainerImage
    ) -> None:
        spec = workload.spec
        self.scope = Construct(scope, id)
        self.virtual_node = appmesh.VirtualNode(
            self.scope,
            "VirtualNode",
            mesh=mesh,
            virtual_node_name=virtual_node_name(spec),
            service_discovery=_service_discovery(workload),
            listeners=[_node_listener(spec)],
        )
        self.virtual_router = appmesh.VirtualRouter(
            self.scope, "VirtualRouter", mesh=mesh, listeners=[_router_listener(spec.protocol, spec.port)]
        )
        self.route = self.virtual_router.add_route(
            "Route", route_spec=_route_spec(spec.protocol, spec.port, self.virtual_node, spec.route_policy)
        )
        self.virtual_service = appmesh.VirtualService(
            self.scope,
            "VirtualService",
            virtual_service_name=spec.dns_name,
            virtual_service_provider=appmesh.VirtualServiceProvider.virtual_router(self.virtual_router),
        )
        self.envoy_container = envoy.add_envoy_sidecar(
            workload.task_definition,
            image=envoy_image,
            virtual_node_arn=self.virtual_node.virtual_node_arn,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="envoy", log_group=workload.log_group),
        )
        workload.app_container.add_container_dependencies(
            ecs.ContainerDependency(container=self.envoy_container, condition=ecs.ContainerDependencyCondition.HEALTHY)
        )
        _grant_envoy_access(self.scope, mesh, workload)
        acknowledge_shutdown_warnings(self.scope)

    def add_backend(self, callee: ServiceMeshing) -> None:
        if not isinstance(callee, AppMeshService):
            raise TypeError(f"callee={callee!r} is not on App Mesh; connect services of one cluster only.")
        self.virtual_node.add_backend(appmesh.Backend.virtual_service(callee.virtual_service))
        # The backend is named literally; in one stack, still create the callee's service first.
        if Stack.of(self.scope) is Stack.of(callee.scope):
            self.virtual_node.node.add_dependency(callee.virtual_service)


def virtual_node_name(spec: ServiceSpec) -> str:
    """The virtual node's name: unique in a mesh shared by several clusters' namespaces."""
    return f"{spec.name}_{spec.namespace_name}"


def _grant_envoy_access(scope: Construct, mesh: appmesh.IMesh, workload: Workload) -> None:
    """Let the task's Envoy stream its configuration, for this service's virtual node only.

    The grant goes through a by-name reference to the node: the task role's policy must not
    depend on the node resource, which depends on the Cloud Map service, which ECS makes depend
    on the task role — a reference cycle CloudFormation would refuse.
    """
    node = appmesh.VirtualNode.from_virtual_node_attributes(
        scope, "VirtualNodeByName", mesh=mesh, virtual_node_name=virtual_node_name(workload.spec)
    )
    node.grant_stream_aggregated_resources(workload.task_definition.task_role)


def _service_discovery(workload: Workload) -> appmesh.ServiceDiscovery:
    if workload.spec.discovery.mode is DiscoveryMode.DNS:
        return appmesh.ServiceDiscovery.dns(workload.spec.dns_name)
    cloud_map_service = workload.service.cloud_map_service
    if cloud_map_service is None:  # MeshedService always registers; this guards the contract
        raise RuntimeError("the ECS service has no Cloud Map service to discover")
    return appmesh.ServiceDiscovery.cloud_map(cloud_map_service)


def _node_listener(spec: ServiceSpec) -> appmesh.VirtualNodeListener:
    port, path = spec.port, spec.health_check_path
    match spec.protocol:
        case ListenerProtocol.HTTP:
            return appmesh.VirtualNodeListener.http(port=port, health_check=appmesh.HealthCheck.http(path=path))
        case ListenerProtocol.HTTP2:
            return appmesh.VirtualNodeListener.http2(port=port, health_check=appmesh.HealthCheck.http2(path=path))
        case ListenerProtocol.GRPC:
            return appmesh.VirtualNodeListener.grpc(port=port, health_check=appmesh.HealthCheck.grpc())
        case ListenerProtocol.TCP:
            return appmesh.VirtualNodeListener.tcp(port=port, health_check=appmesh.HealthCheck.tcp())


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


def _route_spec(
    protocol: ListenerProtocol, port: int, node: appmesh.IVirtualNode, policy: RoutePolicy
) -> appmesh.RouteSpec:
    targets = [appmesh.WeightedTarget(virtual_node=node, weight=1)]
    attempts, per_try, timeout = policy.retry_attempts, policy.per_retry_timeout, policy.request_timeout
    match protocol:
        case ListenerProtocol.HTTP:
            return appmesh.RouteSpec.http(
                weighted_targets=targets,
                retry_policy=_http_retry_policy(attempts, per_try),
                timeout=appmesh.HttpTimeout(per_request=timeout, idle=timeout),
            )
        case ListenerProtocol.HTTP2:
            return appmesh.RouteSpec.http2(
                weighted_targets=targets,
                retry_policy=_http_retry_policy(attempts, per_try),
                timeout=appmesh.HttpTimeout(per_request=timeout, idle=timeout),
            )
        case ListenerProtocol.GRPC:
            return appmesh.RouteSpec.grpc(
                weighted_targets=targets,
                match=appmesh.GrpcRouteMatch(port=port),  # every call on the service's port
                retry_policy=appmesh.GrpcRetryPolicy(
                    retry_attempts=attempts,
                    retry_timeout=per_try,
                    grpc_retry_events=[appmesh.GrpcRetryEvent.UNAVAILABLE],
                    http_retry_events=list(_HTTP_RETRY_EVENTS),
                    tcp_retry_events=[appmesh.TcpRetryEvent.CONNECTION_ERROR],
                ),
                timeout=appmesh.GrpcTimeout(per_request=timeout, idle=timeout),
            )
        case ListenerProtocol.TCP:
            return appmesh.RouteSpec.tcp(weighted_targets=targets, timeout=appmesh.TcpTimeout(idle=timeout))


# AWS's App Mesh best practice: retry at least stream and gateway errors.
_HTTP_RETRY_EVENTS = (appmesh.HttpRetryEvent.STREAM_ERROR, appmesh.HttpRetryEvent.GATEWAY_ERROR)


def _http_retry_policy(attempts: int, per_try: Duration) -> appmesh.HttpRetryPolicy:
    return appmesh.HttpRetryPolicy(
        retry_attempts=attempts,
        retry_timeout=per_try,
        http_retry_events=list(_HTTP_RETRY_EVENTS),
        tcp_retry_events=[appmesh.TcpRetryEvent.CONNECTION_ERROR],
    )
