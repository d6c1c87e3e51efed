"""An estate of 60 meshed services over several stacks, calling each other across stacks both ways."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs

from mesh_microservices import MeshedCluster, MeshedService, ServiceStacks

SERVICE_COUNT = 60
SERVICES_PER_STACK = 20


def callees_of(index: int, count: int) -> list[int]:
    """Each service calls its neighbour and one far away, so calls cross stacks in both directions."""
    return sorted({(index + 1) % count, (index * 7 + 3) % count} - {index})


def build_estate(app: cdk.App, *, env: cdk.Environment | None, count: int = SERVICE_COUNT) -> list[MeshedService]:
    """The platform stack with the cluster, and ``count`` services spread over service stacks."""
    platform = cdk.Stack(app, "Platform", env=env)
    cluster = MeshedCluster(platform, "Cluster", namespace="estate.local")
    image = ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27")
    stacks = ServiceStacks(app, "Services", env=env, services_per_stack=SERVICES_PER_STACK)
    services = [
        MeshedService(
            stacks.next(), f"Service{i:03d}", cluster=cluster, name=f"svc-{i:03d}", image=image, desired_count=2
        )
        for i in range(count)
    ]
    for index, service in enumerate(services):
        for callee in callees_of(index, count):
            service.connect_to(services[callee])
    return services


def build(app: cdk.App, *, account: str | None = None) -> None:
    """Add the estate to ``app``, as app.py deploys it (region eu-west-1)."""
    build_estate(app, env=cdk.Environment(account=account, region="eu-west-1"))
