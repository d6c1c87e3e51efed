"""The App Mesh side of a public ingress: a virtual gateway, its gateway routes and its own Envoy.

A virtual gateway is an Envoy that runs alone, in its own ECS service, and lets traffic from
outside the mesh in through gateway routes to virtual services (App Mesh user guide, "Virtual
gateways", "Gateway routes"). Unlike a sidecar it has no proxy configuration and no user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..options import ListenerProtocol
from . import envoy
from .end_of_life import acknowledge_shutdown_warnings
from .observability import AppMeshObservability, VersionTelemetry, access_log, add_telemetry
from .tls import MeshTls

GATEWAY_PORT_MAPPING_NAME = "gateway"
# Gateway routes are tried in the order given: priority 10, 20, ... (App Mesh: 0 is tried first).
GATEWAY_ROUTE_PRIORITY_STEP = 10


@dataclass(frozen=True, kw_only=True)
class GatewayRouteTarget:
    """One gateway route: the requests it matches and the virtual service they go to.

    Attributes:
        name: Names the route's constructs; unique within the gateway.
        path_prefix: Requests whose path starts with this.
        hostname: Requests for exactly this host name, or any host when None.
        strip_prefix: Whether the matched prefix is rewritten to "/" (App Mesh's default) or the
            path is passed on unchanged.
        virtual_service_name: The name of the virtual service the route sends to. The route names
            it literally, so that a gateway in another stack imports nothing from the service's.
        virtual_service: That virtual service's construct, which the route is created after.
    """

    name: str
    path_prefix: str
    hostname: str | None
    strip_prefix: bool
    virtual_service_name: str
    virtual_service: Construct


class AppMeshGateway:
    """A virtual gateway with an HTTP listener, its gateway routes and the Envoy serving it.

    When the mesh uses TLS, the gateway validates the routed services' certificates like any caller.

    Attributes:
        scope: The construct that holds the App Mesh resources.
        virtual_gateway: The virtual gateway; its Envoy streams its configuration.
        gateway_routes: The gateway routes, by route name, in the order they are tried.
        envoy_container: The Envoy container of the gateway's task definition.
        telemetry: The gateway's observability sidecars, as the data plane's ``Observability`` asks.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        mesh: appmesh.IMesh,
        port: int,
        routes: Sequence[GatewayRouteTarget],
        task_definition: ecs.TaskDefinition,
        envoy_image: ecs.ContainerImage,
        log_group: logs.ILogGroup,
        observability: AppMeshObservability,
        tls: MeshTls | None = None,
    ) -> None:
        self.scope = Construct(scope, id)
        client_tls = tls._for_client() if tls is not None else None
        self.virtual_gateway = appmesh.VirtualGateway(
            self.scope,
            "VirtualGateway",
            mesh=mesh,
            listeners=[appmesh.VirtualGatewayListener.http(port=port, health_check=appmesh.HealthCheck.http())],
            access_log=access_log(observability),
            backend_defaults=appmesh.BackendDefaults(tls_client_policy=client_tls.client_policy)
            if client_tls
            else None,
        )
        if client_tls is not None:
            client_tls.grant(task_definition.task_role)
        self.gateway_routes: dict[str, appmesh.GatewayRoute] = {}
        for index, route in enumerate(routes):
            self.gateway_routes[route.name] = self._add_route(route, priority=(index + 1) * GATEWAY_ROUTE_PRIORITY_STEP)
        self.envoy_container = envoy.add_envoy_container(
            task_definition,
            image=envoy_image,
            resource_arn=self.virtual_gateway.virtual_gateway_arn,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="envoy", log_group=log_group),
            sidecar=False,
            resource_description="the ARN of the virtual gateway whose configuration Envoy streams",
            port_mappings=[
                ecs.PortMapping(
                    container_port=port,
                    name=GATEWAY_PORT_MAPPING_NAME,
                    app_protocol=ListenerProtocol.HTTP.ecs_app_protocol,
                )
            ],
        )
        # No reference cycle here: the gateway depends on the mesh only, never on the ECS service.
        self.virtual_gateway.grant_stream_aggregated_resources(task_definition.task_role)
        # The front door's Envoy is traced and measured like every other Envoy of the mesh.
        self.telemetry: VersionTelemetry = add_telemetry(
            observability,
            task_definition=task_definition,
            envoy=self.envoy_container,
            log_group=log_group,
            stream_suffix="",
        )
        acknowledge_shutdown_warnings(self.scope)

    def _add_route(self, route: GatewayRouteTarget, *, priority: int) -> appmesh.GatewayRoute:
        target = appmesh.VirtualService.from_virtual_service_attributes(
            self.scope,
            f"Target-{route.name}",
            mesh=self.virtual_gateway.mesh,
            virtual_service_name=route.virtual_service_name,
        )
        gateway_route = self.virtual_gateway.add_gateway_route(
            f"Route-{route.name}",
            route_spec=appmesh.GatewayRouteSpec.http(
                route_target=target,
                priority=priority,
                match=appmesh.HttpGatewayRouteMatch(
                    path=appmesh.HttpGatewayRoutePathMatch.starts_with(
                        route.path_prefix,
                        None if route.strip_prefix else "",  # "" disables the rewrite
                    ),
                    hostname=appmesh.GatewayRouteHostnameMatch.exactly(route.hostname) if route.hostname else None,
                ),
            ),
        )
        # Named literally, the target gives CloudFormation no order: in one stack, create it first.
        # (Across stacks, the gateway's stack deploys after the service's.)
        if Stack.of(self.scope) is Stack.of(route.virtual_service):
            gateway_route.node.add_dependency(route.virtual_service)
        return gateway_route
