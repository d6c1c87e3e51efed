"""ECS Service Connect data plane: the same service declarations without sidecars or App Mesh."""

from .plane import ServiceConnectMeshing, ServiceConnectPlane

__all__ = ["ServiceConnectMeshing", "ServiceConnectPlane"]
