"""The App Mesh data plane bound to one cluster: its mesh, and the parts it adds to services."""

from __future__ import annotations

from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from .._contract import DataPlaneBinding, ServiceMeshing, Workload
from . import envoy
from .end_of_life import acknowledge_shutdown_warnings, warn_end_of_life
from .service_meshing import AppMeshService


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
    ) -> None:
        self.mesh: appmesh.IMesh = mesh or appmesh.Mesh(
            scope, "Mesh", mesh_name=mesh_name, egress_filter=appmesh.MeshFilterType.DROP_ALL
        )
        self._envoy_image_tag = envoy_image_tag
        self._envoy_image = envoy_image
        acknowledge_shutdown_warnings(scope)
        warn_end_of_life(scope)

    def reserved_ports(self) -> frozenset[int]:
        return envoy.reserved_ports()

    def proxy_configuration(self, app_port: int) -> ecs.ProxyConfiguration:
        return envoy.proxy_configuration([app_port])

    def attach(self, workload: Workload) -> ServiceMeshing:
        image = self._envoy_image or envoy.regional_envoy_image(workload.scope, self._envoy_image_tag)
        return AppMeshService(workload.scope, "AppMesh", mesh=self.mesh, workload=workload, envoy_image=image)
