"""The benchmark app built with mesh-microservices: a platform stack and N meshed services.

``build`` declares exactly the features of the hand-written app, so the two compare the cost of
the same templates; ``build_with_defaults`` takes every library default, whatever it adds.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from graphs import Edge

import mesh_microservices as mm

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
NAMESPACE = "bench.local"
IMAGE = "public.ecr.aws/nginx/nginx:1.27"
SERVICES_PER_STACK = 25  # as handwritten.py, whatever the library's default


def build(app: cdk.App, n: int, edges: list[Edge]) -> None:
    """The hand-written app's features: no access logs, Envoy statistics or alarms."""
    # getattr: library versions without observability options have nothing to turn off.
    observability = getattr(mm, "Observability", None)
    data_plane = (
        mm.DataPlane.app_mesh(observability=observability(access_logs=False, envoy_metrics=False, alarms=False))
        if observability is not None
        else None
    )
    _build(app, n, edges, data_plane=data_plane, services_per_stack=SERVICES_PER_STACK)


def build_service_connect(app: cdk.App, n: int, edges: list[Edge]) -> None:
    """The hand-written Service Connect app's features: no access logs or alarms."""
    observability = mm.Observability(access_logs=False, alarms=False)
    data_plane = mm.DataPlane.service_connect(observability=observability)
    _build(app, n, edges, data_plane=data_plane, services_per_stack=SERVICES_PER_STACK)


def build_with_defaults(app: cdk.App, n: int, edges: list[Edge]) -> None:
    """Every library default, as a user who passes no options gets."""
    _build(app, n, edges)


def _build(
    app: cdk.App,
    n: int,
    edges: list[Edge],
    *,
    data_plane: mm.DataPlane | None = None,
    services_per_stack: int | None = None,
) -> None:
    """Declare ``n`` services over ServiceStacks and connect every edge."""
    platform = cdk.Stack(app, "Platform", env=ENV)
    cluster = mm.MeshedCluster(platform, "Cluster", namespace=NAMESPACE, data_plane=data_plane)
    image = ecs.ContainerImage.from_registry(IMAGE)
    stacks = (
        mm.ServiceStacks(app, "Services", env=ENV)
        if services_per_stack is None
        else mm.ServiceStacks(app, "Services", env=ENV, services_per_stack=services_per_stack)
    )
    services = [
        mm.MeshedService(stacks.next(), f"Service{i:03d}", cluster=cluster, name=f"svc-{i:03d}", image=image)
        for i in range(n)
    ]
    for caller, callee in edges:
        services[caller].connect_to(services[callee])
