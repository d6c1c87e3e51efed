"""The seam between the public constructs and a data plane.

MeshedService builds what every data plane needs and describes it as a ``Workload``; the
cluster's data plane then adds its own parts and returns a ``ServiceMeshing`` that can add
backends. Data-plane packages depend on this module, never on the public constructs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from .options import Discovery, ListenerProtocol, RoutePolicy


@dataclass(frozen=True, kw_only=True)
class Workload:
    """The parts of one service that exist whatever the data plane."""

    scope: Construct
    name: str
    namespace_name: str
    port: int
    protocol: ListenerProtocol
    health_check_path: str
    discovery: Discovery
    route_policy: RoutePolicy
    task_definition: ecs.FargateTaskDefinition
    app_container: ecs.ContainerDefinition
    service: ecs.FargateService
    log_group: logs.ILogGroup

    @property
    def dns_name(self) -> str:
        """The name callers dial: ``<name>.<namespace>``."""
        return f"{self.name}.{self.namespace_name}"


class ServiceMeshing(ABC):
    """The data plane's parts of one service."""

    @abstractmethod
    def add_backend(self, callee: ServiceMeshing) -> None:
        """Let this service call ``callee`` through the data plane."""


class DataPlaneBinding(ABC):
    """A data plane bound to one cluster: adds its parts to each service of the cluster."""

    @abstractmethod
    def reserved_ports(self) -> frozenset[int]:
        """Ports the data plane uses inside a task, which applications must not listen on."""

    @abstractmethod
    def proxy_configuration(self, app_port: int) -> ecs.ProxyConfiguration | None:
        """The task definition's proxy configuration, if the data plane intercepts traffic."""

    @abstractmethod
    def attach(self, workload: Workload) -> ServiceMeshing:
        """Add the data plane's parts to ``workload`` and return them."""
