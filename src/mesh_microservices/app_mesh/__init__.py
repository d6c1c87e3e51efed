"""App Mesh data plane: Envoy sidecars, virtual nodes, routers, routes and virtual services.

Its modules are imported where an App Mesh cluster is built (``DataPlane.app_mesh()``), so that an
app on Service Connect, the default, does not load them.
"""

from .envoy import ENVOY_IMAGE_TAG

__all__ = ["ENVOY_IMAGE_TAG"]
