"""The migration example: App Mesh and Service Connect halves side by side, traffic shifted by weight."""

from __future__ import annotations

import re
import sys
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from conftest import ENV, ROOT, new_app
from synthesized import Synthesized, synthesize

sys.path.insert(0, str(ROOT / "examples" / "migration"))
from migration_stack import MigrationStack


@pytest.fixture(scope="session")
def migration() -> Synthesized:
    app = new_app()
    MigrationStack(app, "ShopMigration", service_connect_percent=10, env=ENV)
    return synthesize(app, "ShopMigration")


def _weights(template: dict[str, Any]) -> list[tuple[str, int]]:
    (listener,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"]
    groups = listener["Properties"]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    return [(g["TargetGroupArn"]["Ref"], g["Weight"]) for g in groups]


def test_traffic_is_split_by_the_requested_percentage(migration: Synthesized) -> None:
    weights = dict(_weights(migration.json))
    old = migration.logical_id("AWS::ElasticLoadBalancingV2::TargetGroup", "/AppMeshWeb/")
    new = migration.logical_id("AWS::ElasticLoadBalancingV2::TargetGroup", "/ServiceConnectWeb/")
    assert weights == {old: 90, new: 10}


@pytest.mark.parametrize(("percent", "expected"), [(0, (100, 0)), (100, (0, 100))])
def test_cut_over_and_roll_back_are_weight_changes(percent: int, expected: tuple[int, int]) -> None:
    stack = MigrationStack(cdk.App(), "ShopMigration", service_connect_percent=percent, env=ENV)
    assert tuple(w for _, w in _weights(Template.from_stack(stack).to_json())) == expected


@pytest.mark.parametrize("percent", [-1, 101])
def test_percent_outside_0_to_100_is_refused(percent: int) -> None:
    with pytest.raises(ValueError, match="service_connect_percent"):
        MigrationStack(cdk.App(), "ShopMigration", service_connect_percent=percent, env=ENV)


def test_the_app_mesh_half_keeps_its_sidecars_and_mesh(migration: Synthesized) -> None:
    for service in ("web", "orders", "inventory"):
        task = migration.json["Resources"][
            migration.logical_id("AWS::ECS::TaskDefinition", f"/AppMeshShop/{service.title()}/")
        ]["Properties"]
        assert task["ProxyConfiguration"]["Type"] == "APPMESH"
        assert {c["Name"] for c in task["ContainerDefinitions"]} == {"app", "envoy", "cloudwatch-agent"}
    names = {
        r["Properties"]["VirtualServiceName"] for r in migration.resources("AWS::AppMesh::VirtualService").values()
    }
    assert names == {"web.shop.local", "orders.shop.local", "inventory.shop.local"}


def test_the_service_connect_half_answers_to_the_same_names(migration: Synthesized) -> None:
    aliases = set()
    for service in ("Web", "Orders", "Inventory"):
        properties = migration.json["Resources"][
            migration.logical_id("AWS::ECS::Service", f"/ServiceConnectShop/{service}/")
        ]["Properties"]
        (server,) = properties["ServiceConnectConfiguration"]["Services"]
        aliases.add(server["ClientAliases"][0]["DnsName"])
        task_id = migration.logical_id("AWS::ECS::TaskDefinition", f"/ServiceConnectShop/{service}/")
        assert "ProxyConfiguration" not in migration.json["Resources"][task_id]["Properties"]
    assert aliases == {"web.shop.local", "orders.shop.local", "inventory.shop.local"}


def test_halves_live_in_separate_namespaces_of_one_vpc(migration: Synthesized) -> None:
    namespaces = migration.resources("AWS::ServiceDiscovery::PrivateDnsNamespace").values()
    assert sorted(n["Properties"]["Name"] for n in namespaces) == ["shop-next.local", "shop.local"]
    assert len({str(n["Properties"]["Vpc"]) for n in namespaces}) == 1
    migration.template.resource_count_is("AWS::EC2::VPC", 1)


def test_only_the_load_balancer_reaches_the_web_services(migration: Synthesized) -> None:
    balancer_group = migration.logical_id("AWS::EC2::SecurityGroup", "/LoadBalancer/")
    for half in ("AppMeshShop", "ServiceConnectShop"):
        web_group = migration.logical_id("AWS::EC2::SecurityGroup", f"/{half}/Web/")
        sources = [
            r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
            for r in migration.resources("AWS::EC2::SecurityGroupIngress").values()
            if r["Properties"]["GroupId"]["Fn::GetAtt"][0] == web_group
        ]
        assert sources == [balancer_group]


def test_service_domain_is_refused_on_app_mesh() -> None:
    from aws_cdk import aws_ecs as ecs

    from mesh_microservices import DataPlane, MeshedCluster, MeshedService

    stack = cdk.Stack(cdk.App(), "Refusal", env=ENV)
    cluster = MeshedCluster(
        stack, "Cluster", namespace="shop-next.local", service_domain="shop.local", data_plane=DataPlane.app_mesh()
    )
    with pytest.raises(ValueError, match=re.escape("service_domain='shop.local' differs from namespace")):
        MeshedService(
            stack,
            "Web",
            cluster=cluster,
            name="web",
            image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27"),
        )
