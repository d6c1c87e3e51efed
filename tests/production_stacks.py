"""Variant stacks of production services: scaling on both data planes, grants and connections.

Built into the shared variants app (``conftest._variants``), so that cdk-nag, cfn-lint and the
least-privilege gates check them too.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager

from mesh_microservices import (
    DataPlane,
    IngressRoute,
    MeshedCluster,
    MeshedService,
    MeshIngress,
    Scaling,
    ServiceVersion,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
IMAGE = "public.ecr.aws/nginx/nginx:1.27"

# The Service Connect stack: a scaled service behind an ALB ingress, and one scaled on CPU alone.
CONNECT_STACK = "ScalingConnect"
API_SCALING = Scaling(min_tasks=2, max_tasks=10, cpu_percent=60, memory_percent=75, requests_per_target=500)
WORKER_SCALING = Scaling(max_tasks=4, cpu_percent=50)
WORKER_DESIRED_COUNT = 1
DATABASE_PORT = 5432
# The App Mesh stack: a scaled service with a canary version, and grants to both versions.
MESH_STACK = "ScalingMesh"
ORDERS_SCALING = Scaling(min_tasks=1, max_tasks=6, cpu_percent=70)
CANARY_DESIRED_COUNT = 1
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:orders/api-key-AbCdEf"


def build_production(app: cdk.App) -> None:
    """The stacks ``CONNECT_STACK`` and ``MESH_STACK`` in ``app``."""
    image = ecs.ContainerImage.from_registry(IMAGE)
    connect = cdk.Stack(app, CONNECT_STACK, env=ENV)
    cluster = MeshedCluster(connect, "Cluster", namespace="scale.local", data_plane=DataPlane.service_connect())
    api = MeshedService(connect, "Api", cluster=cluster, name="api", image=image, scaling=API_SCALING)
    MeshedService(
        connect,
        "Worker",
        cluster=cluster,
        name="worker",
        image=image,
        desired_count=WORKER_DESIRED_COUNT,
        scaling=WORKER_SCALING,
    )
    MeshIngress(connect, "Ingress", cluster=cluster, routes=[IngressRoute(service=api)], allow_plain_http=True)
    database = ec2.SecurityGroup(
        connect, "Database", vpc=cluster.vpc, description="the database api reaches", allow_all_outbound=False
    )
    api.connections.allow_to(database, ec2.Port.tcp(DATABASE_PORT), "api reads the database")

    mesh = cdk.Stack(app, MESH_STACK, env=ENV)
    cluster = MeshedCluster(mesh, "Cluster", namespace="scalemesh.local", data_plane=DataPlane.app_mesh())
    orders = MeshedService(
        mesh,
        "Orders",
        cluster=cluster,
        name="orders",
        image=image,
        weight=90,
        versions=[ServiceVersion(name="v2", image=image, weight=10, desired_count=CANARY_DESIRED_COUNT)],
        scaling=ORDERS_SCALING,
    )
    secret = secretsmanager.Secret.from_secret_complete_arn(mesh, "ApiKey", SECRET_ARN)
    secret.grant_read(orders)
