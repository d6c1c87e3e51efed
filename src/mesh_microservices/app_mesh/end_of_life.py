"""App Mesh's end of life, said once per mesh instead of once per resource.

aws-cdk-lib's template validation warns (W3696) on every AWS::AppMesh resource that the service
was shut down on 2026-09-30. In a meshed estate that is hundreds of identical lines; the library
acknowledges them on the constructs it owns and says it once, on the cluster, with what to do.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

SHUTDOWN_RULE_ID = "CloudFormation-Validate::W3696"
END_OF_LIFE_WARNING_ID = "mesh-microservices:AppMeshEndOfLife"
# AWS's own migration guide: the wheel ships no documents, so the warning names an address.
MIGRATION_GUIDE_URL = (
    "https://aws.amazon.com/blogs/containers/migrating-from-aws-app-mesh-to-amazon-ecs-service-connect/"
)
END_OF_LIFE_WARNING = (
    "AWS App Mesh was discontinued on 2026-09-30: its resources can no longer be created, and this "
    "cluster's mesh, virtual nodes, routers, routes and virtual services keep their template warning "
    "W3696, acknowledged here once. Move to ECS Service Connect, the default data plane: the same "
    "MeshedService declarations run on it with MeshedCluster(data_plane=DataPlane.service_connect()). "
    f"AWS's migration guide: {MIGRATION_GUIDE_URL}"
)
_ACKNOWLEDGMENT_REASON = (
    "App Mesh end of life is reported once per mesh by mesh-microservices "
    f"({END_OF_LIFE_WARNING_ID}) instead of once per App Mesh resource."
)


def acknowledge_shutdown_warnings(scope: IConstruct) -> None:
    """Acknowledge W3696 for the App Mesh resources below ``scope``."""
    Validations.of(scope).acknowledge(Acknowledgment(id=SHUTDOWN_RULE_ID, reason=_ACKNOWLEDGMENT_REASON))


def warn_end_of_life(scope: IConstruct) -> None:
    """Say once, on ``scope``, that App Mesh is shut down and where to go."""
    Validations.of(scope).add_warning(END_OF_LIFE_WARNING_ID, END_OF_LIFE_WARNING)
