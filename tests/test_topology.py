"""The Mermaid topology drawn from an app's declarations."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs

from checked_apps import CheckedApp
from conftest import ENV, NGINX
from mesh_microservices import (
    DataPlane,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    RouteRule,
    ServiceVersion,
    mermaid_topology,
    write_topology,
)


def _app() -> cdk.App:
    app = cdk.App()
    stack = cdk.Stack(app, "Topology", env=ENV)
    image = ecs.ContainerImage.from_registry(NGINX)
    cluster = MeshedCluster(stack, "Cluster", namespace="shop.local", data_plane=DataPlane.app_mesh())
    db = MeshedService(stack, "Db", cluster=cluster, name="db", image=image, port=5432, protocol=ListenerProtocol.TCP)
    api = MeshedService(stack, "Api", cluster=cluster, name="api", image=image, backends=[db])
    peer = ec2.SecurityGroup(stack, "Edge", vpc=cluster.vpc)
    api.expose_to(peer)
    twin = MeshedCluster(stack, "Twin", namespace="next.local", vpc=cluster.vpc, data_plane=DataPlane.service_connect())
    MeshedService(stack, "TwinApi", cluster=twin, name="api", image=image).expose_to(peer)
    return app


def test_diagram_shows_clusters_services_calls_and_ingress() -> None:
    assert mermaid_topology(_app()) == (
        "flowchart LR\n"
        '  subgraph c0["shop.local (DataPlane.app_mesh())"]\n'
        '    c0_db["db<br/>:5432 tcp"]\n'
        '    c0_api["api<br/>:8080 http"]\n'
        "  end\n"
        '  peer0(["Edge"])\n'
        '  subgraph c1["next.local (DataPlane.service_connect())"]\n'
        '    c1_api["api<br/>:8080 http"]\n'
        "  end\n"
        "  c0_api --> c0_db\n"
        "  peer0 ==> c0_api\n"
        "  peer0 ==> c1_api\n"
    )


def test_write_topology_puts_the_diagram_in_the_given_directory(tmp_path: Path) -> None:
    app = _app()
    path = write_topology(app, tmp_path)
    assert path == tmp_path / "topology.mmd"
    assert path.read_text() == mermaid_topology(app)


def test_diagram_shows_version_weights_and_route_rules() -> None:
    stack = cdk.Stack(cdk.App(), "Canary", env=ENV)
    image = ecs.ContainerImage.from_registry(NGINX)
    cluster = MeshedCluster(stack, "Cluster", namespace="canary.local", data_plane=DataPlane.app_mesh())
    MeshedService(
        stack,
        "Orders",
        cluster=cluster,
        name="orders",
        image=image,
        weight=90,
        versions=[ServiceVersion(name="v2", image=image, weight=10)],
        routes=[RouteRule(name="testers", headers={"x-canary": "true"}, weights={"v2": 100})],
    )
    assert '    c0_orders["orders<br/>:8080 http<br/>v1 90 · v2 10<br/>testers: / x-canary=true → v2 100"]' in (
        mermaid_topology(stack).splitlines()
    )


def test_diagram_shows_each_services_rollout(variants_app: CheckedApp) -> None:
    lines = mermaid_topology(variants_app.app.node.find_child("Rollouts")).splitlines()
    assert '    c0_orders["orders<br/>:8080 http<br/>canary 10 % · bake 30m · test x-canary=true"]' in lines
    assert '    c0_inventory["inventory<br/>:8080 http<br/>linear 12.5 % every 5m"]' in lines
    assert '    c0_ledger["ledger<br/>:5432 tcp<br/>blue/green · bake 20m"]' in lines
    assert '    c0_payments["payments<br/>:8080 http"]' in lines  # a rolling update, as every diagram showed it
