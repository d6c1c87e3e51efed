"""MeshIngress: the mesh's front door, a public load balancer in front of the data plane's targets.

Only the load balancer is open to the internet; what stands behind it is the data plane's. On
App Mesh, an App Mesh virtual gateway: its Envoy runs as its own ECS service in private subnets
and reaches only the services it routes to, through gateway routes that match a path prefix and,
optionally, a host name. On Service Connect, the routed services themselves: the load balancer
forwards to each service's own target group, picked by listener rules that match the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._contract import IngressProxyOptions, IngressSite, IngressSpec, IngressTargets
from ._ingress_spec import IngressRoute, check_ingress
from ._placement import begin_round, deploy_after, stack_of
from ._public_load_balancer import (
    ACCESS_LOGS_EXPIRATION,
    ACCESS_LOGS_NONCURRENT_EXPIRATION,
    HTTP_PORT,
    HTTPS_PORT,
    PublicLoadBalancer,
    add_public_load_balancer,
)
from .cluster import MeshedCluster
from .options import IngressLoadBalancer

if TYPE_CHECKING:
    from aws_cdk import aws_appmesh as appmesh
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_ecs as ecs
    from aws_cdk import aws_s3 as s3

__all__ = [
    "ACCESS_LOGS_EXPIRATION",
    "ACCESS_LOGS_NONCURRENT_EXPIRATION",
    "HTTPS_PORT",
    "HTTP_PORT",
    "IngressLoadBalancer",
    "IngressRoute",
    "MeshIngress",
]


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
        memory_limit_mib: int | None = None,
        desired_count: int | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        access_logs_expiration: Duration | None = None,
        log_retention: logs.RetentionDays | None = None,
        removal_policy: RemovalPolicy | None = None,
        memory_mib: int | None = None,
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
            memory_limit_mib: App Mesh only: gateway task memory in MiB, as aws-cdk-lib's
                ``FargateTaskDefinition`` names it; must suit ``cpu`` on Fargate. Default: 512.
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
            memory_mib: Deprecated: use ``memory_limit_mib``; removed in 2.0. Passing both is refused.

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
            memory_limit_mib=memory_limit_mib,
            desired_count=desired_count,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        spec, checked_routes = check_ingress(
            id,
            stack,
            cluster,
            routes,
            load_balancer,
            certificate,
            allow_plain_http,
            (access_logs_bucket, access_logs_expiration),
            proxy,
            memory_mib=memory_mib,
        )

        super().__init__(scope, id)
        self.cluster = cluster
        self.routes: tuple[IngressRoute, ...] = checked_routes
        self.load_balancer_type = load_balancer
        deploy_after(stack, stack_of(cluster))  # checked: never a loop
        self._keep_public(
            add_public_load_balancer(
                self,
                vpc=cluster.vpc,
                kind=load_balancer,
                certificate=certificate,
                access_logs_bucket=access_logs_bucket,
                expiration=access_logs_expiration or ACCESS_LOGS_EXPIRATION,
            )
        )
        self._targets: IngressTargets = cluster._binding.add_ingress(self._site(spec))
        for service in dict.fromkeys(route.service for route in self.routes):
            service.expose_to(self, f"{self.node.id} {self._targets.peer_description}")

    def _keep_public(self, public: PublicLoadBalancer) -> None:
        """The public load balancer's parts, as attributes."""
        self.load_balancer_security_group: ec2.SecurityGroup = public.load_balancer_security_group
        self.access_logs_bucket: s3.IBucket = public.access_logs_bucket
        self.load_balancer: elbv2.ApplicationLoadBalancer | elbv2.NetworkLoadBalancer = public.load_balancer
        self.listener: elbv2.ApplicationListener | elbv2.NetworkListener = public.listener
        self.redirect_listener: elbv2.ApplicationListener | None = public.redirect_listener
        self.public_ports: tuple[int, ...] = public.public_ports

    def _site(self, spec: IngressSpec) -> IngressSite:
        """What the data plane's targets stand behind."""
        return IngressSite(
            scope=self,
            spec=spec,
            vpc=self.cluster.vpc,
            cluster=self.cluster.cluster,
            load_balancer=self.load_balancer,
            security_group=self.load_balancer_security_group,
            listener=self.listener,
            log_encryption_key=self.cluster.log_encryption_key,
        )

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
