"""The App Mesh data plane bound to one cluster: its mesh, and the parts it adds to services."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct
from typing_extensions import override

from .._cloud_map import cloud_map_options
from .._contract import (
    AWS_API_PORT,
    DataPlaneBinding,
    DeploymentOptions,
    Egress,
    IngressSite,
    IngressSpec,
    IngressTargets,
    Registration,
    ServiceMeshing,
    ServiceSpec,
    Workload,
)
from .._validate import ValidationProblems
from ..options import PATH_PROTOCOLS
from . import envoy
from .checks import check_unused_options
from .end_of_life import acknowledge_shutdown_warnings, warn_end_of_life
from .ingress import AppMeshIngress, check_gateway
from .observability import AppMeshObservability
from .service_meshing import AppMeshService
from .tls import MeshTls

# The parts of a MeshedCluster only App Mesh has, by attribute name.
CLUSTER_PARTS = frozenset({"mesh"})


class AppMeshPlane(DataPlaneBinding):
    """App Mesh for one cluster: the mesh (created with egress DROP_ALL, or imported)."""

    def __init__(
        self,
        scope: Construct,
        *,
        mesh: appmesh.IMesh | None,
        mesh_name: str | None,
        envoy_image_tag: str,
        envoy_image: ecs.ContainerImage | None,
        removal_policy: RemovalPolicy,
        tls: MeshTls | None = None,
        observability: AppMeshObservability,
    ) -> None:
        if mesh is None:
            mesh = appmesh.Mesh(scope, "Mesh", mesh_name=mesh_name, egress_filter=appmesh.MeshFilterType.DROP_ALL)
            mesh.apply_removal_policy(removal_policy)
        self.mesh: appmesh.IMesh = mesh
        self._envoy_image_tag = envoy_image_tag
        self._envoy_image = envoy_image
        self.tls = tls
        self.observability = observability
        acknowledge_shutdown_warnings(scope)
        warn_end_of_life(scope)

    @override
    def part(self, name: str) -> object:
        if name not in CLUSTER_PARTS:
            raise AttributeError(f"on DataPlane.app_mesh() the cluster has no {name!r}.")
        return getattr(self, name)

    @override
    def reserved_ports(self) -> frozenset[int]:
        return envoy.reserved_ports() | self.observability.reserved_ports()

    @override
    def check(self, problems: ValidationProblems, spec: ServiceSpec) -> None:
        if spec.domain != spec.namespace_name:
            problems.add(
                f"service_domain={spec.domain!r} differs from namespace {spec.namespace_name!r}: App Mesh "
                "virtual service names must resolve in DNS, so they live in the namespace. Drop service_domain, "
                "or use it with DataPlane.service_connect()."
            )
        check_unused_options(problems, spec)

    @override
    def probes_health_check_path(self, spec: ServiceSpec) -> bool:
        # The virtual node listener's health check of an HTTP or HTTP/2 service requests the path.
        return spec.protocol in PATH_PROTOCOLS

    @override
    def egress(self, spec: ServiceSpec) -> tuple[Egress, ...]:
        # Envoy streams its configuration from App Mesh's regional endpoint; tracing and metrics go to AWS APIs.
        return (Egress(port=AWS_API_PORT, reason="App Mesh control plane (Envoy configuration)"),)

    @override
    def proxy_configuration(self, spec: ServiceSpec) -> ecs.ProxyConfiguration:
        return envoy.proxy_configuration([spec.port])

    @override
    def registration(
        self, spec: ServiceSpec, version: str, task_definition: ecs.TaskDefinition, log_group: logs.ILogGroup
    ) -> Registration:
        # The version's virtual node discovers exactly the Cloud Map service these options create.
        name = spec.registration_name(version)
        # Fargate tasks always run in awsvpc mode: no need to ask jsii.
        fargate = isinstance(task_definition, ecs.FargateTaskDefinition)
        network_mode = ecs.NetworkMode.AWS_VPC if fargate else task_definition.network_mode
        return Registration(cloud_map_options=cloud_map_options(name, spec.namespace, network_mode))

    @override
    def deployment_options(self, spec: ServiceSpec) -> DeploymentOptions:
        return DeploymentOptions()  # a rolling update: _check_rollout refuses every other rollout

    def envoy_image(self, scope: Construct) -> ecs.ContainerImage:
        """The Envoy image of a task in ``scope``: the data plane's override, or AWS's in the stack's region."""
        return self._envoy_image or envoy.regional_envoy_image(scope, self._envoy_image_tag)

    @override
    def attach(self, workload: Workload) -> ServiceMeshing:
        scope = workload.spec.scope
        image = self.envoy_image(scope)
        return AppMeshService(
            scope,
            "AppMesh",
            mesh=self.mesh,
            workload=workload,
            envoy_image=image,
            tls=self.tls,
            observability=self.observability,
        )

    @override
    def check_ingress(self, problems: ValidationProblems, spec: IngressSpec) -> None:
        check_gateway(problems, spec)

    @override
    def add_ingress(self, site: IngressSite) -> IngressTargets:
        return AppMeshIngress(
            site,
            mesh=self.mesh,
            envoy_image=self.envoy_image(site.scope),
            observability=self.observability,
            tls=self.tls,
        )
