"""The seam between the public constructs and a data plane.

MeshedService describes what was declared as a ``ServiceSpec``, asks the cluster's data plane
how ECS should register the tasks, builds what every data plane needs and hands it over as a
``Workload``; the data plane adds its own parts and returns a ``ServiceMeshing`` that can add
backends, and the service's alarms. The plane also decides how the ECS service releases a new
revision (``deployment_options``, from the declared ``Rollout``), and wires what of the rollout
needs the service and its alarms when it attaches. Data-plane packages depend on this module,
never on the public constructs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from ._validate import ValidationProblems
from .observability import ServiceAlarms
from .options import Discovery, ListenerProtocol, RoutePolicy
from .rollout import Rollout
from .traffic import ConnectionPool, Deployment, OutlierDetection, RouteRule


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


class DataPlaneBinding(ABC):
    """A data plane bound to one cluster: adds its parts to each service of the cluster."""

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
