"""MeshIngress: the mesh's front door, a public load balancer in front of the data plane's targets.

Only the load balancer is open to the internet; what stands behind it is the data plane's. On
App Mesh, an App Mesh virtual gateway: its Envoy runs as its own ECS service in private subnets
and reaches only the services it routes to, through gateway routes that match a path prefix and,
optionally, a host name. On Service Connect, the routed services themselves: the load balancer
forwards to each service's own target group, picked by listener rules that match the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._acknowledgments import (
    acknowledge_access_log_bucket,
    acknowledge_plain_http_listener,
    acknowledge_public_load_balancer,
)
from ._contract import IngressProxyOptions, IngressRouteSpec, IngressSite, IngressSpec, IngressTargets, RoutedService
from ._placement import begin_round, check_same_environment, depends_on, deploy_after, stack_of
from ._validate import (
    ValidationProblems,
    check_host_name,
    check_interface,
    check_path,
    check_service_name,
    check_type,
)
from .cluster import MeshedCluster
from .options import IngressLoadBalancer, ListenerProtocol
from .service import APP_CONTAINER_NAME, MeshedService

if TYPE_CHECKING:
    from aws_cdk import aws_appmesh as appmesh
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_ecs as ecs
    from aws_cdk import aws_s3 as s3

__all__ = ["HTTPS_PORT", "HTTP_PORT", "IngressLoadBalancer", "IngressRoute", "MeshIngress"]

HTTP_PORT = 80
HTTPS_PORT = 443
# How long the ingress's own access-log bucket keeps a log, and a replaced or deleted version of one.
ACCESS_LOGS_EXPIRATION = Duration.days(365)
ACCESS_LOGS_NONCURRENT_EXPIRATION = Duration.days(30)


@dataclass(frozen=True, kw_only=True)
class IngressRoute:
    """Requests the ingress sends to one service: a path prefix and, optionally, a host name.

    Routes are tried in the order given; the first that matches takes the request. On App Mesh
    the gateway rewrites the request's host name to the service's name (``web.shop.local``).

    Attributes:
        service: The MeshedService that receives the requests (HTTP, in the ingress's cluster).
        path_prefix: Requests whose path starts with this; must start with "/". Default: "/".
        hostname: Requests for exactly this host name, e.g. ``"shop.example.com"``.
            Default: any host name.
        strip_prefix: Whether the service sees the path with the matched prefix replaced by
            "/" (``/api/orders`` -> ``/orders`` for prefix ``/api/``) or unchanged. Default: the
            data plane's: True on App Mesh (App Mesh's own default); False on Service Connect,
            whose load balancer cannot rewrite paths and refuses True.
        name: A DNS label naming the route; it names the route's resources. Default: the
            service's name.
    """

    service: MeshedService
    path_prefix: str = "/"
    hostname: str | None = None
    strip_prefix: bool | None = None
    name: str | None = None

    @property
    def route_name(self) -> str:
        """The route's name: ``name``, or the service's name."""
        return self.name if self.name is not None else self.service.name

    def describe(self) -> str:
        """What the route matches, e.g. ``shop.example.com/api``."""
        return f"{self.hostname or ''}{self.path_prefix}"

    def _check(self, problems: ValidationProblems, where: str) -> bool:
        """Record what is wrong with the fields but ``service`` (the ingress checks it); return whether all are."""
        ordered = "the ingress matches it, in the order given, e.g. '/api/'"
        exact = "the ingress matches it exactly, e.g. 'shop.example.com'"
        host = self.hostname
        checks = [
            check_path(problems, f"{where}.path_prefix", self.path_prefix, prefix=True, literal=ordered),
            host is None
            or check_host_name(
                problems, f"{where}.hostname", host, example="shop.example.com", literal=exact, public=True
            ),
            self.strip_prefix is None or check_type(problems, f"{where}.strip_prefix", self.strip_prefix, bool),
        ]
        if self.name is not None:
            check_service_name(problems, f"{where}.name", self.name)
        return all(checks)


@jsii.implements(ec2.IConnectable)
class MeshIngress(Construct):
    """The public entry to a mesh: an internet-facing load balancer and, behind it, the data plane's targets.

    The load balancer (in public subnets, the only thing open to the internet) reaches only what
    the data plane puts behind it, on those ports only:

    - **App Mesh**: an App Mesh virtual gateway with a gateway route per route. The gateway's
      Envoy runs as its own Fargate service in private subnets, without a public IP, streams its
      configuration for the virtual gateway only and follows the cluster's ``Observability``
      like every other Envoy of the mesh; it reaches only the services it routes to, and the
      AWS APIs it needs on port 443.
    - **Service Connect**: no gateway. Each routed service's tasks are IP targets of a target
      group of its own, probed at the service's ``health_check_path``; an ALB picks the target
      group with a listener rule per route (priorities 10, 20, ... in the order given) and
      answers 404 to requests no route matches; an NLB takes exactly one route ("/", any host)
      and passes every connection to it. The load balancer's security group reaches only the
      routed services' ports. The services' ECS services reference the target groups, so the
      ingress deploys before them (in their stack, or in a stack that deploys first). A routed
      service whose rollout has a test phase (canary, linear, blue/green) needs a ``test_header``
      and an ALB: its route gets an alternate target group and, just before its rule, a test rule
      for the requests carrying the header; ECS shifts the route's traffic between the two
      groups with a role of the ingress's that may change only those groups and rules.

    Without a certificate the load balancer would serve plain HTTP (an NLB plain TCP): that takes
    ``allow_plain_http=True``. The routed services show the ingress among the peers they are
    exposed to (``exposed_to``), so the mesh's topology diagram draws it in front of them.

    Attributes available on both data planes:
        cluster: The MeshedCluster whose services the ingress routes to.
        routes: The routes, in the order they are tried.
        load_balancer_type: Which kind of load balancer fronts the ingress.
        load_balancer: The public load balancer.
        load_balancer_security_group: The load balancer's security group, open to the internet
            on the listener ports; its only egress is to what stands behind it.
        public_ports: The ports the load balancer listens on for the internet.
        listener: The listener that forwards requests (HTTP 80, HTTPS 443, TCP 80 or TLS 443).
        redirect_listener: The ALB's HTTP listener that redirects to HTTPS, when a certificate is given.
        access_logs_bucket: The bucket the load balancer writes its access logs to.
        dns_name: The load balancer's public DNS name.
        connections: What reaches the routed services: the gateway's security group on App
            Mesh, the load balancer's on Service Connect.

    Attributes of App Mesh only (reading one on Service Connect raises AttributeError):
        port, virtual_gateway, gateway_routes, gateway, task_definition, envoy_container,
        service, security_group, target_group, log_group: see each property.

    Attributes of Service Connect only (reading one on App Mesh raises AttributeError):
        target_groups, listener_rules, alternate_target_groups, test_listener_rules: see each
        property.
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
        allow_plain_http: bool = False,
        port: int | None = None,
        cpu: int | None = None,
        memory_mib: int | None = None,
        desired_count: int | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        access_logs_expiration: Duration | None = None,
        log_retention: logs.RetentionDays | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        """Create the ingress.

        Args:
            scope: The parent construct.
            id: The construct id.
            cluster: The MeshedCluster to route into, on either data plane.
            routes: Where requests go, tried in order, e.g.
                ``[IngressRoute(service=api, path_prefix="/api/"), IngressRoute(service=web)]``.
            load_balancer: ``IngressLoadBalancer.ALB`` or ``IngressLoadBalancer.NLB``. Default: ALB.
                On Service Connect an NLB takes exactly one route, with path "/" and no host name.
            certificate: An ACM certificate for the public host names. With one, an ALB serves
                HTTPS on 443 and redirects HTTP on 80 to it, and an NLB terminates TLS on 443.
                Default: none, which takes ``allow_plain_http=True``.
            allow_plain_http: Serve plain HTTP (ALB) or plain TCP (NLB) on port 80 without a
                certificate, on purpose. Default: False: without a certificate the ingress is refused.
            port: App Mesh only: the port of the gateway's listener, inside the VPC. Default: 8080.
            cpu: App Mesh only: gateway task CPU units. Default: 256.
            memory_mib: App Mesh only: gateway task memory in MiB; must suit ``cpu`` on Fargate.
                Default: 512.
            desired_count: App Mesh only: how many gateway tasks run. Default: 2.
            access_logs_bucket: An existing bucket for the load balancer's access logs (SSE-S3
                encrypted, as load balancers require). Default: a new encrypted, private,
                SSL-only, versioned bucket, retained when it leaves the stack, whose lifecycle rule
                expires access logs after ``access_logs_expiration`` and replaced or deleted
                versions after ``ACCESS_LOGS_NONCURRENT_EXPIRATION`` (30 days).
            access_logs_expiration: How long the new access-log bucket keeps each access log, in
                whole days (not with ``access_logs_bucket``, whose lifecycle is its owner's).
                Default: ``ACCESS_LOGS_EXPIRATION``, 365 days.
            log_retention: App Mesh only: how long the gateway's Envoy logs are kept.
                Default: one month.
            removal_policy: App Mesh only: what happens to the Envoy log group when it leaves the
                stack. Default: RETAIN.

        Raises:
            ValueError: An input is invalid, or the cluster's data plane cannot do what it asks
                (each gateway option on Service Connect, for one); every problem is listed.
            TypeError: An input has the wrong type.
        """
        begin_round()  # the application may have added stack dependencies since the last decision
        stack = stack_of(scope)
        proxy = IngressProxyOptions(
            port=port,
            cpu=cpu,
            memory_mib=memory_mib,
            desired_count=desired_count,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        spec, checked_routes = _checked(
            id,
            stack,
            cluster,
            routes,
            load_balancer,
            certificate,
            allow_plain_http,
            (access_logs_bucket, access_logs_expiration),
            proxy,
        )

        super().__init__(scope, id)
        self.cluster = cluster
        self.routes: tuple[IngressRoute, ...] = checked_routes
        self.load_balancer_type = load_balancer
        deploy_after(stack, stack_of(cluster))  # checked: never a loop
        self._build_load_balancer(certificate, access_logs_bucket, access_logs_expiration or ACCESS_LOGS_EXPIRATION)
        self._targets: IngressTargets = cluster._plane.add_ingress(
            IngressSite(
                scope=self,
                spec=spec,
                vpc=cluster.vpc,
                cluster=cluster.cluster,
                load_balancer=self.load_balancer,
                security_group=self.load_balancer_security_group,
                listener=self.listener,
                log_encryption_key=cluster.log_encryption_key,
            )
        )
        for service in dict.fromkeys(route.service for route in self.routes):
            service.expose_to(self, f"{self.node.id} {self._targets.peer_description}")

    @property
    def connections(self) -> ec2.Connections:
        """What reaches the routed services: the gateway's group (App Mesh), the load balancer's (Service Connect)."""
        return self._targets.connections

    @property
    def dns_name(self) -> str:
        """The load balancer's public DNS name, for a CNAME or alias record."""
        return self.load_balancer.load_balancer_dns_name

    # The data plane's own parts.

    @property
    def port(self) -> int:
        """App Mesh only: the port of the gateway's listener."""
        return cast(int, self._part("port"))

    @property
    def gateway(self) -> Any:
        """App Mesh only: the App Mesh side (virtual gateway, gateway routes, Envoy and its telemetry)."""
        return self._part("gateway")

    @property
    def virtual_gateway(self) -> appmesh.VirtualGateway:
        """App Mesh only: the App Mesh virtual gateway."""
        return cast("appmesh.VirtualGateway", self._part("virtual_gateway"))

    @property
    def gateway_routes(self) -> dict[str, appmesh.GatewayRoute]:
        """App Mesh only: the gateway routes, by route name."""
        return cast("dict[str, appmesh.GatewayRoute]", self._part("gateway_routes"))

    @property
    def task_definition(self) -> ecs.FargateTaskDefinition:
        """App Mesh only: the gateway's Fargate task definition (Envoy and its observability sidecars)."""
        return cast("ecs.FargateTaskDefinition", self._part("task_definition"))

    @property
    def envoy_container(self) -> ecs.ContainerDefinition:
        """App Mesh only: the gateway's Envoy container."""
        return cast("ecs.ContainerDefinition", self._part("envoy_container"))

    @property
    def service(self) -> ecs.FargateService:
        """App Mesh only: the gateway's ECS Fargate service."""
        return cast("ecs.FargateService", self._part("service"))

    @property
    def security_group(self) -> ec2.SecurityGroup:
        """App Mesh only: the gateway's security group; only the load balancer may reach it."""
        return cast("ec2.SecurityGroup", self._part("security_group"))

    @property
    def target_group(self) -> elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup:
        """App Mesh only: the target group of the gateway's tasks."""
        return cast("elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup", self._part("target_group"))

    @property
    def log_group(self) -> logs.LogGroup:
        """App Mesh only: the log group of the gateway's Envoy (its output and access log)."""
        return cast("logs.LogGroup", self._part("log_group"))

    @property
    def target_groups(self) -> dict[str, elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup]:
        """Service Connect only: the target group each route forwards to, by route name.

        Routes to the same service share its target group: the service's tasks as IP targets on
        its port, probed at its ``health_check_path``.
        """
        return cast("dict[str, elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup]", self._part("target_groups"))

    @property
    def listener_rules(self) -> dict[str, elbv2.ApplicationListenerRule]:
        """Service Connect only: the ALB's listener rules, by route name, in the order tried (none behind an NLB)."""
        return cast("dict[str, elbv2.ApplicationListenerRule]", self._part("listener_rules"))

    @property
    def alternate_target_groups(self) -> dict[str, elbv2.ApplicationTargetGroup]:
        """Service Connect only: the target group ECS registers a new revision in, by route name.

        Only routes to a service whose rollout has a test phase (canary, linear, blue/green)
        behind an ALB have one; ECS shifts the route's traffic between it and ``target_groups``.
        """
        return cast("dict[str, elbv2.ApplicationTargetGroup]", self._part("alternate_target_groups"))

    @property
    def test_listener_rules(self) -> dict[str, elbv2.ApplicationListenerRule]:
        """Service Connect only: the rule that sends a route's requests carrying the test header to the new revision.

        By route name, for the routes of ``alternate_target_groups``; each is tried just before
        the route's own rule (priority 9 before 10, 19 before 20, ...).
        """
        return cast("dict[str, elbv2.ApplicationListenerRule]", self._part("test_listener_rules"))

    def _part(self, name: str) -> object:
        try:
            return self._targets.part(name)
        except AttributeError as error:
            raise AttributeError(f"MeshIngress {self.node.id!r}: {error}") from None

    def _build_load_balancer(
        self, certificate: acm.ICertificate | None, access_logs_bucket: s3.IBucket | None, expiration: Duration
    ) -> None:
        """The public load balancer, its security group, access-log bucket and listeners."""
        self.load_balancer_security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=self.cluster.vpc,
            description=f"{self.node.path}: the public load balancer, open on its listener ports",
            allow_all_outbound=False,
        )
        self.access_logs_bucket: s3.IBucket = access_logs_bucket or self._access_logs_bucket(expiration)
        self.redirect_listener: elbv2.ApplicationListener | None = None
        self.load_balancer: elbv2.ApplicationLoadBalancer | elbv2.NetworkLoadBalancer
        self.listener: elbv2.ApplicationListener | elbv2.NetworkListener
        if self.load_balancer_type is IngressLoadBalancer.ALB:
            public_ports = self._application_load_balancer(certificate)
        else:
            public_ports = self._network_load_balancer(certificate)
        self.public_ports: tuple[int, ...] = tuple(public_ports)
        acknowledge_public_load_balancer(self.load_balancer_security_group, ports=public_ports)
        if certificate is None:  # allow_plain_http=True: checked
            acknowledge_plain_http_listener(self.listener)

    def _access_logs_bucket(self, expiration: Duration) -> s3.Bucket:
        # Imported when used: every aws_cdk module loaded delays each synth's start.
        from aws_cdk import aws_s3 as s3

        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption ALB access logs support
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,  # access logs are records to keep
            versioned=True,  # a deleted or overwritten log stays recoverable until its version expires
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=expiration,
                    noncurrent_version_expiration=ACCESS_LOGS_NONCURRENT_EXPIRATION,
                )
            ],
        )
        acknowledge_access_log_bucket(bucket)
        return bucket

    def _application_load_balancer(self, certificate: acm.ICertificate | None) -> list[int]:
        """The ALB and its listener, without a default action: the data plane gives it one."""
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.cluster.vpc,
            internet_facing=True,
            security_group=self.load_balancer_security_group,
            drop_invalid_header_fields=True,
        )
        alb.log_access_logs(self.access_logs_bucket)
        self.load_balancer = alb
        if certificate is None:
            self.listener = alb.add_listener("Http", port=HTTP_PORT, protocol=elbv2.ApplicationProtocol.HTTP, open=True)
            return [HTTP_PORT]
        self.listener = alb.add_listener(
            "Https",
            port=HTTPS_PORT,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=True,
        )
        self.redirect_listener = alb.add_redirect(source_port=HTTP_PORT, target_port=HTTPS_PORT, open=True)
        return [HTTP_PORT, HTTPS_PORT]

    def _network_load_balancer(self, certificate: acm.ICertificate | None) -> list[int]:
        """The NLB and its listener, without a default action: the data plane gives it one."""
        nlb = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.cluster.vpc,
            internet_facing=True,
            security_groups=[self.load_balancer_security_group],
        )
        nlb.log_access_logs(self.access_logs_bucket)
        self.load_balancer = nlb
        if certificate is None:
            listener_port = HTTP_PORT
            self.listener = nlb.add_listener("Tcp", port=listener_port, protocol=elbv2.Protocol.TCP)
        else:
            listener_port = HTTPS_PORT
            self.listener = nlb.add_listener(
                "Tls",
                port=listener_port,
                protocol=elbv2.Protocol.TLS,
                certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            )
        self.load_balancer_security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(listener_port), f"the internet to the public listener on {listener_port}"
        )
        return [listener_port]


def _checked(
    id: str,
    stack: Stack,
    cluster: object,
    routes: object,
    load_balancer: object,
    certificate: object,
    allow_plain_http: object,
    access_logs: tuple[object, object],
    proxy: IngressProxyOptions,
) -> tuple[IngressSpec, tuple[IngressRoute, ...]]:
    """The checked declaration and routes; raises with every problem, the data plane's included."""
    problems = ValidationProblems(f"MeshIngress {id!r}")
    cluster_ok = check_type(problems, "cluster", cluster, MeshedCluster)
    checked_routes = _check_routes(problems, routes, cluster)
    check_type(problems, "load_balancer", load_balancer, IngressLoadBalancer)
    _check_region(problems, stack)
    _check_certificate(problems, certificate, allow_plain_http, load_balancer)
    _check_access_logs(problems, *access_logs)
    spec = IngressSpec(
        name=id,
        stack=stack,
        cluster_stack=stack_of(cluster) if isinstance(cluster, MeshedCluster) else stack,
        routes=tuple(_route_spec(index, route) for index, route in checked_routes),
        load_balancer=load_balancer if isinstance(load_balancer, IngressLoadBalancer) else IngressLoadBalancer.ALB,
        proxy=proxy,
    )
    if cluster_ok:  # an invalid load_balancer is reported above; the data plane checks the routes as an ALB's
        assert isinstance(cluster, MeshedCluster)
        _check_cluster_stack(problems, cluster, stack)
        cluster._plane.check_ingress(problems, spec)
    problems.raise_if_any()
    return spec, tuple(route for _, route in checked_routes)


def _check_access_logs(problems: ValidationProblems, bucket: object, expiration: object) -> None:
    if bucket is not None:
        # Imported when used: every aws_cdk module loaded delays each synth's start.
        from aws_cdk import aws_s3 as s3

        check_interface(problems, "access_logs_bucket", bucket, s3.IBucket)
    if expiration is None or not check_type(problems, "access_logs_expiration", expiration, Duration):
        return
    assert isinstance(expiration, Duration)
    if bucket is not None:
        problems.add(
            f"access_logs_expiration={expiration.to_human_string()} is given with access_logs_bucket: the "
            "lifecycle of a bucket you pass is yours to set, and the ingress would ignore it. Remove "
            "access_logs_expiration, or set the expiration on your bucket's lifecycle rules."
        )
    elif not expiration.is_unresolved() and _not_whole_days(expiration.to_hours(integral=False)):
        problems.add(
            f"access_logs_expiration={expiration.to_human_string()} is not a whole number of days: S3 "
            "lifecycle rules expire objects after whole days. Pass e.g. Duration.days(365)."
        )


def _not_whole_days(hours: float) -> bool:
    return hours < 24 or hours % 24 != 0


def _route_spec(index: int, route: IngressRoute) -> IngressRouteSpec:
    """The data plane's view of a checked route."""
    service = route.service
    return IngressRouteSpec(
        where=f"routes[{index}]",
        name=route.route_name,
        path_prefix=route.path_prefix,
        hostname=route.hostname,
        strip_prefix=route.strip_prefix,
        service=RoutedService(
            name=service.name,
            dns_name=service.dns_name,
            port=service.port,
            health_check_path=service.health_check_path,
            stack=stack_of(service),
            service=service.service,
            container_name=APP_CONTAINER_NAME,
            meshing=service.meshing,
            add_target_group=service._add_target_group,
            rollout=service.rollout,
        ),
    )


def _check_certificate(
    problems: ValidationProblems, certificate: object, allow_plain_http: object, load_balancer: object
) -> None:
    """A certificate, or plain HTTP on purpose: the ingress fails closed."""
    if certificate is not None:
        # Imported when used: every aws_cdk module loaded delays each synth's start.
        from aws_cdk import aws_certificatemanager as acm

        check_interface(problems, "certificate", certificate, acm.ICertificate)
    if not check_type(problems, "allow_plain_http", allow_plain_http, bool):
        return
    network = load_balancer is IngressLoadBalancer.NLB
    if certificate is None and not allow_plain_http:
        served = "plain TCP on port 80" if network else "plain HTTP on port 80"
        secure = "terminate TLS on 443" if network else "serve HTTPS on 443 and redirect HTTP on 80 to it"
        problems.add(
            f"no certificate is given, so the load balancer would serve {served}. Pass certificate=<an ACM "
            f"certificate for your host names> to {secure}, or allow_plain_http=True to serve {served} on purpose."
        )
    elif certificate is not None and allow_plain_http:
        problems.add(
            "allow_plain_http=True is given with a certificate, which serves HTTPS (an NLB: TLS) on 443 and "
            "no plain HTTP (an ALB redirects it to HTTPS); drop allow_plain_http, or the certificate."
        )


def _check_cluster_stack(problems: ValidationProblems, cluster: MeshedCluster, stack: Stack) -> None:
    cluster_stack = stack_of(cluster)
    check_same_environment(problems, "scope", stack, cluster_stack, what=f"cluster {cluster.node.path!r}")
    if cluster_stack is not stack and depends_on(cluster_stack, stack):
        problems.add(
            f"cluster={cluster.node.path!r} lives in stack {cluster_stack.stack_name!r}, which deploys after the "
            f"ingress's stack {stack.stack_name!r}; the ingress needs the cluster's VPC first. Create the ingress "
            f"in stack {cluster_stack.stack_name!r} or in a stack that deploys after it."
        )


def _check_region(problems: ValidationProblems, stack: Stack) -> None:
    if Token.is_unresolved(stack.region):
        problems.add(
            f"stack {stack.node.path!r} has no region: the load balancer's access logs are delivered "
            "by its region's Elastic Load Balancing account, which must be known at synthesis. Give the "
            "stack a region, e.g. cdk.Stack(app, 'Edge', env=cdk.Environment(region='eu-west-1'))."
        )


def _check_routes(problems: ValidationProblems, routes: object, cluster: object) -> list[tuple[int, IngressRoute]]:
    """The valid routes with their positions; records what is wrong with each, and with the list."""
    if isinstance(routes, (str, bytes)) or not isinstance(routes, Sequence):
        problems.add(f"routes={routes!r} is not a list; pass a list of IngressRoute.", kind=TypeError)
        return []
    if not routes:
        problems.add(
            "routes is empty: an ingress that routes nowhere serves only 404s. Pass at least one, "
            "e.g. [IngressRoute(service=web)]."
        )
    valid: list[tuple[int, IngressRoute]] = []
    names: dict[str, int] = {}
    for index, route in enumerate(routes):
        where = f"routes[{index}]"
        if not check_type(problems, where, route, IngressRoute):
            continue
        assert isinstance(route, IngressRoute)
        checks = [_check_route_service(problems, where, route.service, cluster), route._check(problems, where)]
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
        valid.append((index, route))
    _check_reachable(problems, valid)
    return valid


def _check_route_service(problems: ValidationProblems, where: str, service: object, cluster: object) -> bool:
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
            f"{where}.service {service.name!r} listens with {service.protocol.value}; the ingress routes "
            "HTTP requests to HTTP services only. Give that service a load balancer of its own "
            "(service.expose_to(load_balancer))."
        )
        return False
    return True


def _check_reachable(problems: ValidationProblems, valid: list[tuple[int, IngressRoute]]) -> None:
    """A route that an earlier one matches entirely would never receive a request."""
    for later_index, (later_position, later) in enumerate(valid):
        for earlier_position, earlier in valid[:later_index]:
            same_hosts = earlier.hostname is None or earlier.hostname == later.hostname
            if same_hosts and later.path_prefix.startswith(earlier.path_prefix):
                problems.add(
                    f"routes[{later_position}] ({later.describe()}) is never reached: "
                    f"routes[{earlier_position}] ({earlier.describe()}) comes first and matches all its "
                    "requests. List the more specific route first."
                )
                break
