"""mesh-microservices: ECS Fargate services on Cloud Map and a service mesh, wired correctly.

Public API: ``MeshedCluster``, ``MeshedService``, ``ServiceRepository``, the public ingress
``MeshIngress`` (with ``IngressRoute`` and ``IngressLoadBalancer``), the data-plane choice
``DataPlane`` and the option types ``ListenerProtocol``, ``Discovery``, ``RoutePolicy``, ``Rollout``,
``Scaling`` and ``ContainerSecurity``.
"""

from .app_mesh import ENVOY_IMAGE_TAG
from .app_mesh.tls import MeshTls
from .cluster import MeshedCluster
from .data_plane import DataPlane
from .estate import ServiceStacks
from .ingress import IngressLoadBalancer, IngressRoute, MeshIngress
from .observability import Observability, ServiceAlarms
from .options import Discovery, ListenerProtocol, RoutePolicy
from .repository import ServiceRepository
from .rollout import Rollout, TrafficShift
from .scaling import Scaling
from .security import ContainerSecurity
from .service import MeshedService
from .topology import mermaid_topology, write_topology
from .traffic import ConnectionPool, Deployment, OutlierDetection, RouteRule, ServiceVersion

__version__ = "1.0.0"

__all__ = [
    "ENVOY_IMAGE_TAG",
    "ConnectionPool",
    "ContainerSecurity",
    "DataPlane",
    "Deployment",
    "Discovery",
    "IngressLoadBalancer",
    "IngressRoute",
    "ListenerProtocol",
    "MeshIngress",
    "MeshTls",
    "MeshedCluster",
    "MeshedService",
    "Observability",
    "OutlierDetection",
    "Rollout",
    "RoutePolicy",
    "RouteRule",
    "Scaling",
    "ServiceAlarms",
    "ServiceRepository",
    "ServiceStacks",
    "ServiceVersion",
    "TrafficShift",
    "mermaid_topology",
    "write_topology",
]


def __getattr__(name: str) -> object:
    """Names of 1.0 kept importable, with a DeprecationWarning, until 2.0."""
    if name == "DiscoveryMode":
        import warnings

        from .options import DiscoveryMode

        warnings.warn(
            "mesh_microservices.DiscoveryMode is deprecated and will be removed in 2.0: choose with "
            "Discovery.cloud_map() or Discovery.dns().",
            DeprecationWarning,
            stacklevel=2,
        )
        return DiscoveryMode
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
