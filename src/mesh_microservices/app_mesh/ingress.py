"""The App Mesh side of a MeshIngress: the virtual gateway's Envoy, a Fargate service behind the load balancer.

The load balancer forwards to the gateway's Envoy, which runs as its own ECS service in private
subnets, without a public IP, and streams the virtual gateway's configuration only. The gateway's
security group admits the load balancer only (its listener, and for an ALB Envoy's readiness
page); the gateway reaches only the services it routes to, and the AWS APIs it needs on 443.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from typing_extensions import override

from .._acknowledgments import acknowledge_task_findings
from .._contract import (
    AWS_API_PORT,
    TARGET_CHECK_INTERVAL_SECONDS,
    TARGET_CHECK_THRESHOLD,
    TARGET_CHECK_TIMEOUT_SECONDS,
    IngressProxyOptions,
    IngressRouteSpec,
    IngressSite,
    IngressSpec,
    IngressTargets,
)
from .._fargate import TASK_DEFINITION_ID, fargate_service, fargate_task_definition
from .._log_groups import new_log_group
from .._placement import depends_on, deploy_after, stack_of
from .._validate import ValidationProblems, check_port, check_positive, check_task_size, check_type
from ..options import IngressLoadBalancer
from . import envoy
from .gateway import AppMeshGateway, GatewayRouteTarget
from .observability import AppMeshObservability
from .service_meshing import AppMeshService
from .tls import MeshTls

# The gateway's defaults, when the application gives none.
GATEWAY_PORT = 8080
GATEWAY_CPU = 256
GATEWAY_MEMORY_MIB = 512
GATEWAY_DESIRED_COUNT = 2
GATEWAY_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
GATEWAY_REMOVAL_POLICY = RemovalPolicy.RETAIN
# App Mesh's own default: a gateway route replaces the matched prefix with "/".
STRIP_PREFIX = True
# AWS APIs the gateway's task calls through its own network interface on Fargate: App Mesh's
# configuration stream, ECR image pulls and CloudWatch Logs.
# Long enough for Envoy to start, stream its configuration and turn LIVE before the load
# balancer's verdict counts.
HEALTH_CHECK_GRACE_PERIOD = Duration.seconds(60)
# The parts of a MeshIngress only App Mesh has, by attribute name.
GATEWAY_PARTS = frozenset(
    {
        "port",
        "gateway",
        "virtual_gateway",
        "gateway_routes",
        "envoy_container",
        "task_definition",
        "service",
        "security_group",
        "target_group",
        "log_group",
    }
)


@dataclass(frozen=True, kw_only=True)
class GatewayOptions:
    """The gateway's proxy options: the application's, or the defaults."""

    port: int
    cpu: int
    memory_limit_mib: int
    desired_count: int
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy

    @classmethod
    def of(cls, proxy: IngressProxyOptions) -> GatewayOptions:
        """``proxy`` with each option it leaves out set to its default."""
        return cls(
            port=proxy.port if proxy.port is not None else GATEWAY_PORT,
            cpu=proxy.cpu if proxy.cpu is not None else GATEWAY_CPU,
            memory_limit_mib=proxy.memory_limit_mib if proxy.memory_limit_mib is not None else GATEWAY_MEMORY_MIB,
            desired_count=proxy.desired_count if proxy.desired_count is not None else GATEWAY_DESIRED_COUNT,
            log_retention=proxy.log_retention if proxy.log_retention is not None else GATEWAY_LOG_RETENTION,
            removal_policy=proxy.removal_policy if proxy.removal_policy is not None else GATEWAY_REMOVAL_POLICY,
        )


def check_gateway(problems: ValidationProblems, spec: IngressSpec) -> None:
    """Record what is wrong with the gateway's options, and with where the routed services live."""
    options = GatewayOptions.of(spec.proxy)
    check_port(problems, "port", options.port, reserved=envoy.reserved_ports())
    check_task_size(problems, options.cpu, options.memory_limit_mib, memory_parameter="memory_limit_mib")
    check_positive(problems, "desired_count", options.desired_count)
    check_type(problems, "log_retention", options.log_retention, logs.RetentionDays)
    check_type(problems, "removal_policy", options.removal_policy, RemovalPolicy)
    for route in spec.routes:
        service_stack = route.service.stack
        if service_stack is not spec.stack and depends_on(service_stack, spec.stack):
            problems.add(
                f"{route.where}.service {route.service.name!r} lives in stack {service_stack.stack_name!r}, which "
                f"deploys after the ingress's stack {spec.stack.stack_name!r}; the gateway routes need the service "
                "first. Put the ingress in a stack that deploys after its services."
            )


class AppMeshIngress(IngressTargets):
    """The virtual gateway, its Envoy as a Fargate service, and the target group the load balancer forwards to.

    Every construct is created in the MeshIngress, with the ids it always had.

    Attributes:
        port: The port of the gateway's listener.
        log_group: The log group of the gateway's Envoy (its output and access log).
        security_group: The gateway's security group: only the load balancer may reach it.
        task_definition: The gateway's Fargate task definition: Envoy and the observability
            sidecars the data plane asks for, no proxy configuration.
        gateway: The App Mesh side: virtual gateway, gateway routes, Envoy and its telemetry.
        virtual_gateway: The App Mesh virtual gateway.
        gateway_routes: Its gateway routes, by route name.
        envoy_container: The gateway's Envoy container.
        service: The gateway's ECS Fargate service.
        target_group: The target group of the gateway's tasks.
    """

    def __init__(
        self,
        site: IngressSite,
        *,
        mesh: appmesh.IMesh,
        envoy_image: ecs.ContainerImage,
        observability: AppMeshObservability,
        tls: MeshTls | None,
    ) -> None:
        scope, spec = site.scope, site.spec
        options = GatewayOptions.of(spec.proxy)
        stack = stack_of(scope)
        for routed in spec.services:
            deploy_after(stack, routed.stack)  # checked: never a loop
        self.port = options.port
        self.log_group = new_log_group(
            scope,
            "Logs",
            retention=options.log_retention,
            removal_policy=options.removal_policy,
            encryption_key=site.log_encryption_key,
        )
        self.security_group = _gateway_security_group(site)
        self._connections = ec2.Connections(security_groups=[self.security_group])
        self.task_definition = fargate_task_definition(
            scope, cpu=options.cpu, memory_limit_mib=options.memory_limit_mib
        )
        self.gateway = AppMeshGateway(
            scope,
            "AppMesh",
            mesh=mesh,
            port=options.port,
            routes=[_gateway_route(route) for route in spec.routes],
            task_definition=self.task_definition,
            envoy_image=envoy_image,
            log_group=self.log_group,
            observability=observability,
            tls=tls,
        )
        self.virtual_gateway: appmesh.VirtualGateway = self.gateway.virtual_gateway
        self.gateway_routes: dict[str, appmesh.GatewayRoute] = self.gateway.gateway_routes
        self.envoy_container: ecs.ContainerDefinition = self.gateway.envoy_container
        acknowledge_task_findings(self.task_definition, stack=stack, parent=scope, path=TASK_DEFINITION_ID)
        self.service = fargate_service(
            scope,
            "Service",
            cluster=site.cluster,
            task_definition=self.task_definition,
            desired_count=options.desired_count,
            security_group=self.security_group,
            health_check_grace_period=HEALTH_CHECK_GRACE_PERIOD,
        )
        self.target_group: elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup
        if spec.load_balancer is IngressLoadBalancer.ALB:
            self.target_group = self._behind_application_load_balancer(site)
        else:
            self.target_group = self._behind_network_load_balancer(site)

    @property
    @override
    def connections(self) -> ec2.Connections:
        return self._connections

    @property
    @override
    def peer_description(self) -> str:
        return "gateway"

    @override
    def part(self, name: str) -> object:
        if name not in GATEWAY_PARTS:
            raise AttributeError(
                f"on DataPlane.app_mesh() the ingress has no {name!r}: its load balancer forwards every request "
                "to the App Mesh gateway's one target group (target_group), and gateway routes pick the service "
                "(gateway_routes)."
            )
        return getattr(self, name)

    def _gateway_target(self) -> ecs.IEcsLoadBalancerTarget:
        return self.service.load_balancer_target(container_name=envoy.ENVOY_CONTAINER_NAME, container_port=self.port)

    def _behind_application_load_balancer(self, site: IngressSite) -> elbv2.ApplicationTargetGroup:
        # Envoy's readiness page: LIVE once its configuration arrived, whatever the routed services'
        # health (probing the listener would mark the gateway down when a service behind it is).
        target_group = elbv2.ApplicationTargetGroup(
            site.scope,
            "TargetGroup",
            vpc=site.vpc,
            port=self.port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            targets=[self._gateway_target()],
            health_check=elbv2.HealthCheck(
                port=str(envoy.ENVOY_ADMIN_PORT),
                path=envoy.ENVOY_READINESS_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(TARGET_CHECK_INTERVAL_SECONDS),
                timeout=Duration.seconds(TARGET_CHECK_TIMEOUT_SECONDS),
                healthy_threshold_count=TARGET_CHECK_THRESHOLD,
                unhealthy_threshold_count=TARGET_CHECK_THRESHOLD,
            ),
        )
        listener = cast(elbv2.ApplicationListener, site.listener)
        listener.add_action("Default", action=elbv2.ListenerAction.forward([target_group]))
        self.security_group.connections.allow_from(
            site.load_balancer,
            ec2.Port.tcp(envoy.ENVOY_ADMIN_PORT),
            "load balancer health checks of Envoy readiness",  # EC2 refuses apostrophes here
        )
        return target_group

    def _behind_network_load_balancer(self, site: IngressSite) -> elbv2.NetworkTargetGroup:
        # A TCP connection to the listener succeeds once Envoy received its configuration.
        target_group = elbv2.NetworkTargetGroup(
            site.scope,
            "TargetGroup",
            vpc=site.vpc,
            port=self.port,
            protocol=elbv2.Protocol.TCP,
            target_type=elbv2.TargetType.IP,
            targets=[self._gateway_target()],
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.TCP,
                interval=Duration.seconds(TARGET_CHECK_INTERVAL_SECONDS),
                healthy_threshold_count=TARGET_CHECK_THRESHOLD,
                unhealthy_threshold_count=TARGET_CHECK_THRESHOLD,
            ),
        )
        listener = cast(elbv2.NetworkListener, site.listener)
        listener.add_action("Default", action=elbv2.NetworkListenerAction.forward([target_group]))
        self.security_group.connections.allow_from(
            site.load_balancer, ec2.Port.tcp(self.port), "load balancer to the gateway"
        )
        return target_group


def _gateway_security_group(site: IngressSite) -> ec2.SecurityGroup:
    """The gateway's group: no rule in yet (the load balancer's comes with it), out to the AWS APIs only."""
    scope = site.scope
    group = ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=site.vpc,
        description=f"{scope.node.path}: the gateway, reachable from its load balancer only",
        allow_all_outbound=False,
    )
    group.add_egress_rule(
        ec2.Peer.any_ipv4(),
        ec2.Port.tcp(AWS_API_PORT),
        "AWS APIs: App Mesh configuration, image pulls, logs, metrics and traces",
    )
    return group


def _gateway_route(route: IngressRouteSpec) -> GatewayRouteTarget:
    """The gateway route of an ingress route: to the routed service's virtual service."""
    return GatewayRouteTarget(
        name=route.name,
        path_prefix=route.path_prefix,
        hostname=route.hostname,
        strip_prefix=STRIP_PREFIX if route.strip_prefix is None else route.strip_prefix,
        virtual_service_name=route.service.dns_name,
        virtual_service=cast(AppMeshService, route.service.meshing).virtual_service,
    )
