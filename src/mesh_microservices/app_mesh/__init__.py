"""App Mesh data plane: Envoy sidecars, virtual nodes, routers, routes and virtual services."""

from .envoy import ENVOY_IMAGE_TAG
from .plane import AppMeshPlane
from .service_meshing import AppMeshService

__all__ = ["ENVOY_IMAGE_TAG", "AppMeshPlane", "AppMeshService"]
