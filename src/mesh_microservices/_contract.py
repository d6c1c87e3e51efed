"""The seam between the public constructs and a data plane.

MeshedService describes what was declared as a ``ServiceSpec``, asks the cluster's data plane
how ECS should register the tasks, builds what every data plane needs and hands it over as a
``Workload``; the data plane adds its own parts and returns a ``ServiceMeshing`` that can add
backends, and the service's alarms. The plane also decides how the ECS service releases a new
revision (``deployment_options``, from the declared ``Rollout``), and wires what of the rollout
needs the service and its alarms when it attaches.

MeshIngress works the same way: it describes its routes as an ``IngressSpec`` that the data plane
checks, builds the public load balancer and its listener (an ``IngressSite``), and asks the data
plane for what stands behind them (``IngressTargets``). Data-plane packages depend on this module,
never on the public constructs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from ._validate import ValidationProblems
from .observability import ServiceAlarms
from .options import Discovery, IngressLoadBalancer, ListenerProtocol, RoutePolicy
from .rollout import Rollout
from .scaling import Scaling
from .traffic import ConnectionPool, Deployment, OutlierDetection, RouteRule

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """What a MeshedService declares, before any of its resources exist."""

    scope: Construct
    name: str
    namespace: servicediscovery.INamespace
    namespace_name: str
    domain: str
    port: int
    protocol: ListenerProtocol
    health_check_path: str  # the path probed: the one given, or the default
    discovery: Discovery
    route_policy: RoutePolicy
    primary_version: str
    weights: Mapping[str, int]  # version name -> weight, the primary version first
    routes: tuple[RouteRule, ...] = ()
    outlier_detection: OutlierDetection | None = None
    connection_pool: ConnectionPool | None = None
    rollout: Rollout = field(default_factory=Rollout.rolling)
    scaling: Scaling | None = None

    @property
    def has_versions(self) -> bool:
        """Whether more than the primary version runs."""
        return len(self.weights) > 1

    def registration_name(self, version: str) -> str:
        """The name a version registers under: the service's own for the primary version."""
        return self.name if version == self.primary_version else f"{self.name}-{version}"

    @property
    def dns_name(self) -> str:
        """The name callers dial: ``<name>.<domain>``."""
        return f"{self.name}.{self.domain}"


# HTTPS: the AWS APIs a task calls (ECR, CloudWatch Logs, Secrets Manager, ...) and the data
# planes' control planes. Without VPC endpoints their addresses are public and change: 0.0.0.0/0.
AWS_API_PORT = 443


@dataclass(frozen=True, kw_only=True)
class Egress:
    """A port on any IPv4 address that every task of a service must reach, and why.

    Attributes:
        port: The TCP port.
        reason: Why, for the security-group rule's description: at most 255 characters in all, of
            those EC2 allows (letters, digits, spaces and ``._-:/()#,@[]+=&;{}!$*``: no apostrophe).
    """

    port: int
    reason: str


# What every task needs whatever the data plane: pulling its images, shipping its logs, reading its secrets.
AWS_API_EGRESS = Egress(port=AWS_API_PORT, reason="AWS APIs: ECR image pulls, logs, secrets")

# How a public load balancer checks its targets on either plane: every 10 seconds, a 5-second
# answer (HTTP), two results in a row to change a target's state.
TARGET_CHECK_INTERVAL_SECONDS = 10
TARGET_CHECK_TIMEOUT_SECONDS = 5
TARGET_CHECK_THRESHOLD = 2


@dataclass(frozen=True, kw_only=True)
class Registration:
    """How the ECS service makes its tasks known: Cloud Map options or Service Connect."""

    cloud_map_options: ecs.CloudMapOptions | None = None
    service_connect: ecs.ServiceConnectProps | None = None


@dataclass(frozen=True, kw_only=True)
class DeploymentOptions:
    """How the primary version's ECS service releases a new revision: ``FargateService`` arguments.

    None (or empty) leaves aws-cdk-lib's and ECS's default, a rolling update.
    """

    deployment_strategy: ecs.DeploymentStrategy | None = None
    canary_configuration: ecs.TrafficShiftConfig | None = None
    linear_configuration: ecs.TrafficShiftConfig | None = None
    bake_time: Duration | None = None
    deployment_alarms: ecs.DeploymentAlarmConfig | None = None
    lifecycle_hooks: tuple[ecs.IDeploymentLifecycleHookTarget, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Workload:
    """The parts of one service that exist whatever the data plane: one deployment per version."""

    spec: ServiceSpec
    deployments: tuple[Deployment, ...]  # the primary version first
    log_group: logs.ILogGroup


class ServiceMeshing(ABC):
    """The data plane's parts of one service.

    Attributes:
        alarms: The service's alarms, without actions; None when the plane makes none for it.
    """

    alarms: ServiceAlarms | None = None

    @abstractmethod
    def add_backend(self, callee: ServiceMeshing) -> None:
        """Let this service call ``callee`` through the data plane."""

    @abstractmethod
    def part(self, name: str) -> object:
        """A part of the service only this data plane has, by the MeshedService attribute name.

        Raises:
            AttributeError: The data plane has no such part; the message names the data plane.
        """


@dataclass(frozen=True, kw_only=True)
class RoutedService:
    """A service an ingress routes to, as a data plane sees it.

    Attributes:
        name: The service's name.
        dns_name: The name callers dial, ``<name>.<service_domain>``.
        port: The port the application listens on.
        health_check_path: The HTTP path that answers whether a task is healthy.
        stack: The stack that holds the service.
        service: The ECS service of the primary version.
        container_name: The name of the application's container, which listens on ``port``.
        meshing: The data plane's parts of the service.
        add_target_group: Tells the service that an Application Load Balancer's target group,
            already attached to its listener, routes to it (it may then scale on the group's
            request count). A data plane whose load balancer forwards to the service's own tasks
            calls it once per such target group.
        rollout: How ECS releases a new revision of the service; a load balancer in front of
            it may take part (an alternate target group, a test listener rule).
    """

    name: str
    dns_name: str
    port: int
    health_check_path: str
    stack: Stack
    service: ecs.FargateService
    container_name: str
    meshing: ServiceMeshing
    add_target_group: Callable[[elbv2.ApplicationTargetGroup], None]
    rollout: Rollout = field(default_factory=Rollout.rolling)


@dataclass(frozen=True, kw_only=True)
class IngressRouteSpec:
    """One checked route of an ingress: the requests it matches and the service they go to.

    Attributes:
        where: How messages name the route, e.g. ``routes[1]``.
        name: A DNS label naming the route's resources; unique within the ingress.
        path_prefix: Requests whose path starts with this.
        hostname: Requests for exactly this host name, or any host when None.
        strip_prefix: Whether the service sees the path with the prefix replaced by "/", or
            unchanged; None leaves it to the data plane's default.
        service: The service the requests go to.
    """

    where: str
    name: str
    path_prefix: str
    hostname: str | None
    strip_prefix: bool | None
    service: RoutedService

    def describe(self) -> str:
        """What the route matches, e.g. ``shop.example.com/api``."""
        return f"{self.hostname or ''}{self.path_prefix}"


@dataclass(frozen=True, kw_only=True)
class IngressProxyOptions:
    """The options of a proxy a data plane may run between the load balancer and the services.

    Each is None when the application did not give it; the data plane applies its defaults, or
    refuses what it has no proxy for.
    """

    port: int | None = None
    cpu: int | None = None
    memory_limit_mib: int | None = None
    desired_count: int | None = None
    log_retention: logs.RetentionDays | None = None
    removal_policy: RemovalPolicy | None = None

    def given(self) -> dict[str, object]:
        """The options the application gave, by parameter name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True, kw_only=True)
class IngressSpec:
    """What a MeshIngress declares, checked, before any of its resources exist.

    Attributes:
        name: The ingress's construct id, for messages.
        stack: The stack the ingress is created in.
        cluster_stack: The stack of the cluster, which the ingress's stack deploys after.
        routes: The routes, in the order they are tried.
        load_balancer: Which kind of public load balancer fronts the ingress.
        proxy: The proxy options the application gave.
    """

    name: str
    stack: Stack
    cluster_stack: Stack
    routes: tuple[IngressRouteSpec, ...]
    load_balancer: IngressLoadBalancer
    proxy: IngressProxyOptions

    @property
    def services(self) -> tuple[RoutedService, ...]:
        """The routed services, each once, in the order of their first route."""
        return tuple({route.service.name: route.service for route in self.routes}.values())


@dataclass(frozen=True, kw_only=True)
class IngressSite:
    """The parts of an ingress that exist whatever the data plane, which its targets stand behind.

    Attributes:
        scope: The MeshIngress: the data plane creates its constructs in it.
        spec: The checked declaration.
        vpc: The cluster's VPC.
        cluster: The cluster's ECS cluster.
        load_balancer: The public load balancer (an ALB or an NLB, as ``spec.load_balancer`` says).
        security_group: The load balancer's security group.
        listener: The listener that forwards requests (HTTP or HTTPS; TCP or TLS), still without
            a default action: the data plane gives it one.
        log_encryption_key: The cluster's key for the log groups the data plane creates, if any.
    """

    scope: Construct
    spec: IngressSpec
    vpc: ec2.IVpc
    cluster: ecs.ICluster
    load_balancer: elbv2.ApplicationLoadBalancer | elbv2.NetworkLoadBalancer
    security_group: ec2.SecurityGroup
    listener: elbv2.ApplicationListener | elbv2.NetworkListener
    log_encryption_key: kms.IKey | None = None


class IngressTargets(ABC):
    """A data plane's side of one ingress: what its load balancer forwards to."""

    @property
    @abstractmethod
    def connections(self) -> ec2.Connections:
        """The security groups that reach the routed services' ports."""

    @property
    @abstractmethod
    def peer_description(self) -> str:
        """What reaches the routed services, for their security-group rules, e.g. ``"gateway"``."""

    @abstractmethod
    def part(self, name: str) -> object:
        """A part of the ingress only this data plane has, by the MeshIngress attribute name.

        Raises:
            AttributeError: The data plane has no such part; the message names the data plane.
        """


class DataPlaneBinding(ABC):
    """A data plane bound to one cluster: adds its parts to each service of the cluster."""

    @abstractmethod
    def part(self, name: str) -> object:
        """A part of the cluster only this data plane has, by the MeshedCluster attribute name.

        Raises:
            AttributeError: The data plane has no such part; the message names the data plane.
        """

    @abstractmethod
    def reserved_ports(self) -> frozenset[int]:
        """Ports the data plane uses inside a task, which applications must not listen on."""

    @abstractmethod
    def check(self, problems: ValidationProblems, spec: ServiceSpec) -> None:
        """Record what in ``spec`` this data plane cannot do, with what to do instead."""

    @abstractmethod
    def probes_health_check_path(self, spec: ServiceSpec) -> bool:
        """Whether the data plane itself probes ``spec.health_check_path`` (else only a load balancer may)."""

    @abstractmethod
    def egress(self, spec: ServiceSpec) -> tuple[Egress, ...]:
        """What the data plane's proxy must reach from the tasks of ``spec`` besides the callees' ports."""

    @abstractmethod
    def proxy_configuration(self, spec: ServiceSpec) -> ecs.ProxyConfiguration | None:
        """The task definition's proxy configuration, if the data plane intercepts traffic."""

    @abstractmethod
    def registration(
        self, spec: ServiceSpec, version: str, task_definition: ecs.TaskDefinition, log_group: logs.ILogGroup
    ) -> Registration:
        """How the ECS service of ``version`` registers its tasks for this data plane."""

    @abstractmethod
    def deployment_options(self, spec: ServiceSpec) -> DeploymentOptions:
        """How the primary version's ECS service releases a new revision, from ``spec.rollout``.

        Called before the ECS service exists; what the rollout watches (the service's alarms) is
        created here when it needs to be.
        """

    @abstractmethod
    def attach(self, workload: Workload) -> ServiceMeshing:
        """Add the data plane's parts to ``workload`` and return them."""

    @abstractmethod
    def check_ingress(self, problems: ValidationProblems, spec: IngressSpec) -> None:
        """Record what in ``spec`` this data plane cannot do, with what to do instead."""

    @abstractmethod
    def add_ingress(self, site: IngressSite) -> IngressTargets:
        """Put this data plane's targets behind ``site``'s load balancer, and give its listener a default action."""
