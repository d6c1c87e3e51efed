"""MeshIngress: the mesh's front door, a public load balancer in front of an App Mesh virtual gateway.

Only the load balancer is open to the internet. Its security group reaches only the gateway's
Envoy, which runs as its own ECS service in private subnets; the gateway reaches only the
services it routes to, through gateway routes that match a path prefix and, optionally, a host name.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._acknowledgments import (
    acknowledge_access_log_bucket,
    acknowledge_public_load_balancer,
    acknowledge_task_findings,
)
from ._deployment import MIN_HEALTHY_PERCENT, max_healthy_percent
from ._placement import depends_on, deploy_after
from ._validate import (
    ValidationProblems,
    check_interface,
    check_port,
    check_positive,
    check_service_name,
    check_task_size,
    check_type,
    is_token,
)
from .app_mesh import AppMeshPlane, envoy
from .app_mesh.gateway import AppMeshGateway, GatewayRouteTarget
from .cluster import MeshedCluster
from .options import ListenerProtocol
from .service import MeshedService

if TYPE_CHECKING:
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_s3 as s3

HTTP_PORT = 80
HTTPS_PORT = 443
# AWS APIs the gateway's task calls through its own network interface on Fargate: App Mesh's
# configuration stream, ECR image pulls and CloudWatch Logs.
AWS_API_PORT = 443
# Long enough for Envoy to start, stream its configuration and turn LIVE before the load
# balancer's verdict counts.
HEALTH_CHECK_GRACE_PERIOD = Duration.seconds(60)
# A public host name: dot-separated lower-case DNS labels, two or more.
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")
_PATH_PREFIX = re.compile(r"^/[^\s?#]*$")


class IngressLoadBalancer(enum.Enum):
    """Which public load balancer fronts the gateway.

    ``ALB`` (Application Load Balancer) speaks HTTP, and HTTPS with a certificate, redirecting
    HTTP to HTTPS; ``NLB`` (Network Load Balancer) passes TCP through, or terminates TLS with a
    certificate.
    """

    ALB = "application"
    NLB = "network"


@dataclass(frozen=True, kw_only=True)
class IngressRoute:
    """Requests the ingress sends to one service: a path prefix and, optionally, a host name.

    Routes are tried in the order given; the first that matches takes the request. The gateway
    rewrites the request's host name to the service's name (``web.shop.local``).

    Attributes:
        service: The MeshedService that receives the requests (HTTP, in the ingress's cluster).
        path_prefix: Requests whose path starts with this; must start with "/". Default: "/".
        hostname: Requests for exactly this host name, e.g. ``"shop.example.com"``.
            Default: any host name.
        strip_prefix: Whether the service sees the path with the matched prefix replaced by
            "/" (``/api/orders`` -> ``/orders`` for prefix ``/api/``) or unchanged. Default: True,
            App Mesh's own default.
        name: A DNS label naming the route; it names the route's resources. Default: the
            service's name.
    """

    service: MeshedService
    path_prefix: str = "/"
    hostname: str | None = None
    strip_prefix: bool = True
    name: str | None = None

    @property
    def route_name(self) -> str:
        """The route's name: ``name``, or the service's name."""
        return self.name if self.name is not None else self.service.name

    def describe(self) -> str:
        """What the route matches, e.g. ``shop.example.com/api``."""
        return f"{self.hostname or ''}{self.path_prefix}"


@jsii.implements(ec2.IConnectable)
class MeshIngress(Construct):
    """The public entry to a mesh: a load balancer, an App Mesh virtual gateway and its gateway routes.

    The gateway's Envoy runs as its own Fargate service in private subnets, without a public IP,
    and streams its configuration for the virtual gateway only. The load balancer (internet
    facing, in public subnets) is the only thing open to the internet: it reaches only the
    gateway's listener (and, for an ALB's health checks, Envoy's readiness page); the gateway
    reaches only the services it routes to, and the AWS APIs it needs on port 443.

    The gateway's Envoy follows the cluster's ``Observability`` like every other Envoy of the mesh
    (access log, tracing, statistics). The routed services show the ingress among the peers they
    are exposed to (``exposed_to``), so the mesh's topology diagram draws it in front of them.

    Attributes:
        cluster: The MeshedCluster whose services the ingress routes to.
        routes: The routes, in the order they are tried.
        port: The port of the gateway's listener.
        load_balancer_type: Which kind of load balancer fronts the gateway.
        virtual_gateway: The App Mesh virtual gateway.
        gateway_routes: Its gateway routes, by route name.
        gateway: The App Mesh side: virtual gateway, gateway routes, Envoy and its telemetry.
        task_definition: The gateway's Fargate task definition: Envoy and the observability
            sidecars the data plane asks for, no proxy configuration.
        envoy_container: The gateway's Envoy container.
        service: The gateway's ECS Fargate service.
        security_group: The gateway's security group: only the load balancer may reach it.
        load_balancer: The public load balancer.
        load_balancer_security_group: The load balancer's security group, open to the internet
            on the listener ports.
        public_ports: The ports the load balancer listens on for the internet.
        listener: The listener that forwards to the gateway (HTTP 80, HTTPS 443, TCP 80 or TLS 443).
        redirect_listener: The ALB's HTTP listener that redirects to HTTPS, when a certificate is given.
        target_group: The target group of the gateway's tasks.
        access_logs_bucket: The bucket the load balancer writes its access logs to.
        log_group: The log group of the gateway's Envoy (its output and access log).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: MeshedCluster,
        routes: Sequence[IngressRoute],
        load_balancer: IngressLoadBalancer = IngressLoadBalancer.ALB,
        certificate: acm.ICertificate | None = None,
        port: int = 8080,
        cpu: int = 256,
        memory_mib: int = 512,
        desired_count: int = 2,
        access_logs_bucket: s3.IBucket | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """Create the ingress.

        Args:
            scope: The parent construct.
            id: The construct id.
            cluster: The MeshedCluster to route into; its data plane must be App Mesh.
            routes: Where requests go, tried in order, e.g.
                ``[IngressRoute(service=api, path_prefix="/api/"), IngressRoute(service=web)]``.
            load_balancer: ``IngressLoadBalancer.ALB`` or ``IngressLoadBalancer.NLB``. Default: ALB.
            certificate: An ACM certificate for the public host names. With one, an ALB serves
                HTTPS on 443 and redirects HTTP on 80 to it, and an NLB terminates TLS on 443.
                Default: none; HTTP (ALB) or TCP (NLB) on port 80.
            port: The port of the gateway's listener, inside the VPC. Default: 8080.
            cpu: Gateway task CPU units. Default: 256.
            memory_mib: Gateway task memory in MiB; must suit ``cpu`` on Fargate. Default: 512.
            desired_count: How many gateway tasks run. Default: 2.
            access_logs_bucket: An existing bucket for the load balancer's access logs (SSE-S3
                encrypted, as load balancers require). Default: a new encrypted, private,
                SSL-only bucket, retained when it leaves the stack.
            log_retention: How long the gateway's Envoy logs are kept. Default: one month.
            removal_policy: What happens to the Envoy log group when it leaves the stack.
                Default: RETAIN.
        """
        problems = ValidationProblems(f"MeshIngress {id!r}")
        plane = _check_cluster(problems, cluster)
        checked_routes = _check_routes(problems, routes, cluster, Stack.of(scope))
        check_type(problems, "load_balancer", load_balancer, IngressLoadBalancer)
        _check_region(problems, scope)
        if certificate is not None:
            # Imported when used: every aws_cdk module loaded delays each synth's start.
            from aws_cdk import aws_certificatemanager as acm

            check_interface(problems, "certificate", certificate, acm.ICertificate)
        check_port(problems, "port", port, reserved=envoy.reserved_ports())
        check_task_size(problems, cpu, memory_mib)
        check_positive(problems, "desired_count", desired_count)
        if access_logs_bucket is not None:
            # Imported when used: every aws_cdk module loaded delays each synth's start.
            from aws_cdk import aws_s3 as s3

            check_interface(problems, "access_logs_bucket", access_logs_bucket, s3.IBucket)
        check_type(problems, "log_retention", log_retention, logs.RetentionDays)
        check_type(problems, "removal_policy", removal_policy, RemovalPolicy)
        problems.raise_if_any()
        assert plane is not None

        super().__init__(scope, id)
        self.cluster = cluster
        self.routes: tuple[IngressRoute, ...] = tuple(checked_routes)
        self.port = port
        self.load_balancer_type = load_balancer
        stack = Stack.of(self)
        for depended in (cluster, *(route.service for route in self.routes)):
            deploy_after(stack, Stack.of(depended))  # checked above: never a loop

        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=cluster.vpc,
            description=f"{self.node.path}: the gateway, reachable from its load balancer only",
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(AWS_API_PORT),
            "AWS APIs: App Mesh configuration, image pulls, logs, metrics and traces",
        )
        self._connections = ec2.Connections(security_groups=[self.security_group])

        self.task_definition = ecs.FargateTaskDefinition(self, "TaskDefinition", cpu=cpu, memory_limit_mib=memory_mib)
        self.gateway = AppMeshGateway(
            self,
            "AppMesh",
            mesh=plane.mesh,
            port=port,
            routes=[
                GatewayRouteTarget(
                    name=route.route_name,
                    path_prefix=route.path_prefix,
                    hostname=route.hostname,
                    strip_prefix=route.strip_prefix,
                    virtual_service_name=route.service.dns_name,
                    virtual_service=route.service.virtual_service,
                )
                for route in self.routes
            ],
            task_definition=self.task_definition,
            envoy_image=plane.envoy_image(self),
            log_group=self.log_group,
            observability=plane.observability,
            tls=plane.tls,
        )
        self.virtual_gateway: appmesh.VirtualGateway = self.gateway.virtual_gateway
        self.gateway_routes: dict[str, appmesh.GatewayRoute] = self.gateway.gateway_routes
        self.envoy_container: ecs.ContainerDefinition = self.gateway.envoy_container
        acknowledge_task_findings(self.task_definition, stack=stack, parent=self, path="TaskDefinition")

        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster.cluster,
            task_definition=self.task_definition,
            desired_count=desired_count,
            assign_public_ip=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.security_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=MIN_HEALTHY_PERCENT,
            max_healthy_percent=max_healthy_percent(desired_count),
            health_check_grace_period=HEALTH_CHECK_GRACE_PERIOD,
        )

        self.load_balancer_security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=cluster.vpc,
            description=f"{self.node.path}: the public load balancer, open on its listener ports",
            allow_all_outbound=False,
        )
        self.access_logs_bucket: s3.IBucket = access_logs_bucket or self._access_logs_bucket()
        self.redirect_listener: elbv2.ApplicationListener | None = None
        self.load_balancer: elbv2.ApplicationLoadBalancer | elbv2.NetworkLoadBalancer
        self.target_group: elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup
        self.listener: elbv2.ApplicationListener | elbv2.NetworkListener
        if load_balancer is IngressLoadBalancer.ALB:
            public_ports = self._application_load_balancer(certificate)
        else:
            public_ports = self._network_load_balancer(certificate)
        self.public_ports: tuple[int, ...] = tuple(public_ports)
        acknowledge_public_load_balancer(
            self.load_balancer_security_group, ports=", ".join(str(p) for p in public_ports)
        )

        for service in dict.fromkeys(route.service for route in self.routes):
            service.expose_to(self, f"{self.node.id} gateway")

    @property
    def connections(self) -> ec2.Connections:
        """The gateway's network connections (its security group)."""
        return self._connections

    @property
    def dns_name(self) -> str:
        """The load balancer's public DNS name, for a CNAME or alias record."""
        return self.load_balancer.load_balancer_dns_name

    def _access_logs_bucket(self) -> s3.Bucket:
        # Imported when used: every aws_cdk module loaded delays each synth's start.
        from aws_cdk import aws_s3 as s3

        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption ALB access logs support
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,  # access logs are records to keep
        )
        acknowledge_access_log_bucket(bucket)
        return bucket

    def _application_load_balancer(self, certificate: acm.ICertificate | None) -> list[int]:
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.cluster.vpc,
            internet_facing=True,
            security_group=self.load_balancer_security_group,
            drop_invalid_header_fields=True,
        )
        alb.log_access_logs(self.access_logs_bucket)
        # Envoy's readiness page: LIVE once its configuration arrived, whatever the routed services'
        # health (probing the listener would mark the gateway down when a service behind it is).
        target_group = elbv2.ApplicationTargetGroup(
            self,
            "TargetGroup",
            vpc=self.cluster.vpc,
            port=self.port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            targets=[
                self.service.load_balancer_target(container_name=envoy.ENVOY_CONTAINER_NAME, container_port=self.port)
            ],
            health_check=elbv2.HealthCheck(
                port=str(envoy.ENVOY_ADMIN_PORT),
                path=envoy.ENVOY_READINESS_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(10),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=2,
            ),
        )
        if certificate is None:
            self.listener = alb.add_listener(
                "Http",
                port=HTTP_PORT,
                protocol=elbv2.ApplicationProtocol.HTTP,
                open=True,
                default_target_groups=[target_group],
            )
            public_ports = [HTTP_PORT]
        else:
            self.listener = alb.add_listener(
                "Https",
                port=HTTPS_PORT,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                open=True,
                default_target_groups=[target_group],
            )
            self.redirect_listener = alb.add_redirect(source_port=HTTP_PORT, target_port=HTTPS_PORT, open=True)
            public_ports = [HTTP_PORT, HTTPS_PORT]
        self.security_group.connections.allow_from(
            alb, ec2.Port.tcp(envoy.ENVOY_ADMIN_PORT), "load balancer health checks of Envoy's readiness"
        )
        self.load_balancer, self.target_group = alb, target_group
        return public_ports

    def _network_load_balancer(self, certificate: acm.ICertificate | None) -> list[int]:
        nlb = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.cluster.vpc,
            internet_facing=True,
            security_groups=[self.load_balancer_security_group],
        )
        nlb.log_access_logs(self.access_logs_bucket)
        # A TCP connection to the listener succeeds once Envoy received its configuration.
        target_group = elbv2.NetworkTargetGroup(
            self,
            "TargetGroup",
            vpc=self.cluster.vpc,
            port=self.port,
            protocol=elbv2.Protocol.TCP,
            target_type=elbv2.TargetType.IP,
            targets=[
                self.service.load_balancer_target(container_name=envoy.ENVOY_CONTAINER_NAME, container_port=self.port)
            ],
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.TCP,
                interval=Duration.seconds(10),
                healthy_threshold_count=2,
                unhealthy_threshold_count=2,
            ),
        )
        if certificate is None:
            listener_port = HTTP_PORT
            self.listener = nlb.add_listener(
                "Tcp", port=listener_port, protocol=elbv2.Protocol.TCP, default_target_groups=[target_group]
            )
        else:
            listener_port = HTTPS_PORT
            self.listener = nlb.add_listener(
                "Tls",
                port=listener_port,
                protocol=elbv2.Protocol.TLS,
                certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                default_target_groups=[target_group],
            )
        self.load_balancer_security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(listener_port), f"the internet to the public listener on {listener_port}"
        )
        self.security_group.connections.allow_from(nlb, ec2.Port.tcp(self.port), "load balancer to the gateway")
        self.load_balancer, self.target_group = nlb, target_group
        return [listener_port]


def _check_cluster(problems: ValidationProblems, cluster: object) -> AppMeshPlane | None:
    """The cluster's App Mesh data plane, or None after recording why the cluster cannot have an ingress."""
    if not check_type(problems, "cluster", cluster, MeshedCluster):
        return None
    assert isinstance(cluster, MeshedCluster)
    plane = cluster._plane
    if not isinstance(plane, AppMeshPlane):
        problems.add(
            f"cluster={cluster.node.path!r} uses {cluster.data_plane!r}, and gateway routes are an App Mesh "
            "feature. On Service Connect, put an elbv2.ApplicationLoadBalancer in front of the service: "
            "service.expose_to(load_balancer), then listener.add_targets(..., targets=[service.service."
            "load_balancer_target(container_name='app', container_port=service.port)]), as examples/migration does."
        )
        return None
    return plane


def _check_region(problems: ValidationProblems, scope: Construct) -> None:
    if Token.is_unresolved(Stack.of(scope).region):
        problems.add(
            f"stack {Stack.of(scope).node.path!r} has no region: the load balancer's access logs are delivered "
            "by its region's Elastic Load Balancing account, which must be known at synthesis. Give the "
            "stack a region, e.g. cdk.Stack(app, 'Edge', env=cdk.Environment(region='eu-west-1'))."
        )


def _check_routes(
    problems: ValidationProblems, routes: object, cluster: object, ingress_stack: Stack
) -> list[IngressRoute]:
    """The valid routes; records what is wrong with each, and with the list."""
    if isinstance(routes, (str, bytes)) or not isinstance(routes, Sequence):
        problems.add(f"routes={routes!r} is not a list; pass a list of IngressRoute.", kind=TypeError)
        return []
    if not routes:
        problems.add(
            "routes is empty: an ingress that routes nowhere serves only 404s. Pass at least one, "
            "e.g. [IngressRoute(service=web)]."
        )
    valid: list[IngressRoute] = []
    names: dict[str, int] = {}
    for index, route in enumerate(routes):
        where = f"routes[{index}]"
        if not check_type(problems, where, route, IngressRoute):
            continue
        assert isinstance(route, IngressRoute)
        checks = [
            _check_route_service(problems, where, route.service, cluster, ingress_stack),
            _check_path_prefix(problems, f"{where}.path_prefix", route.path_prefix),
            route.hostname is None or _check_hostname(problems, f"{where}.hostname", route.hostname),
            check_type(problems, f"{where}.strip_prefix", route.strip_prefix, bool),
        ]
        if route.name is not None:
            check_service_name(problems, f"{where}.name", route.name)
        if not all(checks):
            continue
        name = route.route_name
        if name in names:
            problems.add(
                f"{where} is named {name!r} like routes[{names[name]}]; give each route its own name "
                f"(IngressRoute(name=...)), e.g. {f'{name}-{index}'!r}."
            )
            continue
        names[name] = index
        valid.append(route)
    _check_reachable(problems, routes, valid)
    return valid


def _check_route_service(
    problems: ValidationProblems, where: str, service: object, cluster: object, ingress_stack: Stack
) -> bool:
    if not isinstance(service, MeshedService):
        problems.add(
            f"{where}.service={service!r} is a {type(service).__name__}; pass a MeshedService of the cluster.",
            kind=TypeError,
        )
        return False
    if isinstance(cluster, MeshedCluster) and service.cluster is not cluster:
        problems.add(
            f"{where}.service {service.name!r} runs in cluster {service.cluster.node.path!r}, not in "
            f"{cluster.node.path!r}; an ingress routes into its own cluster's mesh only. Pass "
            f"cluster={service.cluster.node.path!r}'s MeshedCluster, or give that cluster an ingress of its own."
        )
        return False
    if service.protocol is not ListenerProtocol.HTTP:
        problems.add(
            f"{where}.service {service.name!r} listens with {service.protocol.value}; the gateway routes "
            "HTTP requests to HTTP services only. Give that service a load balancer of its own "
            "(service.expose_to(load_balancer))."
        )
        return False
    service_stack = Stack.of(service)
    if service_stack is not ingress_stack and depends_on(service_stack, ingress_stack):
        problems.add(
            f"{where}.service {service.name!r} lives in stack {service_stack.stack_name!r}, which deploys after "
            f"the ingress's stack {ingress_stack.stack_name!r}; the gateway routes need the service first. "
            "Put the ingress in a stack that deploys after its services."
        )
        return False
    return True


def _check_path_prefix(problems: ValidationProblems, parameter: str, prefix: object) -> bool:
    if not check_type(problems, parameter, prefix, str):
        return False
    assert isinstance(prefix, str)
    if is_token(prefix):
        problems.add(f"{parameter} must be a literal string: the gateway route matches it, in the order given.")
        return False
    if not _PATH_PREFIX.match(prefix):
        problems.add(f"{parameter}={prefix!r} must start with '/' and hold no spaces, '?' or '#', e.g. '/api/'.")
        return False
    return True


def _check_hostname(problems: ValidationProblems, parameter: str, hostname: object) -> bool:
    if not check_type(problems, parameter, hostname, str):
        return False
    assert isinstance(hostname, str)
    if is_token(hostname):
        problems.add(f"{parameter} must be a literal string: the gateway route matches it exactly.")
        return False
    if not _HOSTNAME.match(hostname):
        problems.add(
            f"{parameter}={hostname!r} is not a host name; use lower-case DNS labels separated by dots, "
            "e.g. 'shop.example.com'."
        )
        return False
    return True


def _check_reachable(problems: ValidationProblems, routes: Sequence[object], valid: list[IngressRoute]) -> None:
    """A route that an earlier one matches entirely would never receive a request."""
    position = {id(route): index for index, route in enumerate(routes)}
    for later_index, later in enumerate(valid):
        for earlier in valid[:later_index]:
            same_hosts = earlier.hostname is None or earlier.hostname == later.hostname
            if same_hosts and later.path_prefix.startswith(earlier.path_prefix):
                problems.add(
                    f"routes[{position[id(later)]}] ({later.describe()}) is never reached: "
                    f"routes[{position[id(earlier)]}] ({earlier.describe()}) comes first and matches all its "
                    "requests. List the more specific route first."
                )
                break
