"""MeshedCluster: VPC, ECS cluster, Cloud Map namespace and mesh, with strict defaults."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

from conftest import ENV, NGINX
from mesh_microservices import MeshedCluster, MeshedService
from mesh_microservices.app_mesh.end_of_life import END_OF_LIFE_WARNING_ID
from synthesized import Synthesized


def test_new_vpc_spans_two_azs_with_private_egress_subnets_and_flow_logs(shop: Synthesized) -> None:
    subnets = shop.resources("AWS::EC2::Subnet").values()
    assert len({str(s["Properties"]["AvailabilityZone"]) for s in subnets}) == 2
    private = [s for s in subnets if s["Properties"]["MapPublicIpOnLaunch"] is False]
    assert len(private) == 2
    _, flow_log = shop.only("AWS::EC2::FlowLog")
    assert flow_log["Properties"]["TrafficType"] == "ALL"
    assert flow_log["Properties"]["ResourceType"] == "VPC"


def test_ecs_cluster_has_container_insights(shop: Synthesized) -> None:
    _, cluster = shop.only("AWS::ECS::Cluster")
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["Properties"]["ClusterSettings"]


def test_namespace_always_exists_and_is_retained(shop: Synthesized) -> None:
    _, namespace = shop.only("AWS::ServiceDiscovery::PrivateDnsNamespace")
    assert namespace["Properties"]["Name"] == "shop.local"
    assert namespace["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize(
    ("example", "resource_type"),
    [
        ("shop", "AWS::Logs::LogGroup"),
        ("shop", "AWS::ECR::Repository"),
        ("shop", "AWS::ServiceDiscovery::PrivateDnsNamespace"),
        ("mesh_shop", "AWS::AppMesh::Mesh"),
    ],
)
def test_stateful_resources_are_retained_by_default(
    example: str, resource_type: str, request: pytest.FixtureRequest
) -> None:
    synthesized: Synthesized = request.getfixturevalue(example)
    resources = synthesized.resources(resource_type)
    assert resources, resource_type
    for logical_id, resource in resources.items():
        assert resource.get("DeletionPolicy") == "Retain", logical_id
        assert resource.get("UpdateReplacePolicy") == "Retain", logical_id


def test_app_mesh_end_of_life_is_said_once_per_cluster_with_a_web_address(variants: Any) -> None:
    warnings = [m for m in variants("Protocols").messages if m[0] == "warning"]
    assert len(warnings) == 1
    _, path, text = warnings[0]
    assert path == "/Protocols/Cluster"
    assert END_OF_LIFE_WARNING_ID in text and "DataPlane.service_connect()" in text
    # The wheel ships no documents: the warning points to AWS's migration guide, not a file.
    assert "https://aws.amazon.com/blogs/containers/migrating-from-aws-app-mesh-to-amazon-ecs-service-connect/" in text
    assert ".md" not in text


def test_a_cluster_without_a_data_plane_runs_service_connect() -> None:
    stack = cdk.Stack(cdk.App(), "Default", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="default.local")
    assert repr(cluster.data_plane) == "DataPlane.service_connect()"
    MeshedService(stack, "Api", cluster=cluster, name="api", image=ecs.ContainerImage.from_registry(NGINX))
    template = Template.from_stack(stack).to_json()
    assert not [r for r in template["Resources"].values() if r["Type"].startswith("AWS::AppMesh::")]
    (service,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::Service"]
    assert service["Properties"]["ServiceConnectConfiguration"]["Enabled"] is True


def test_no_per_resource_shutdown_findings_remain(shop: Synthesized, variants: Any) -> None:
    assert shop.findings == []
    for stack in ("Protocols", "Imported", "AnyRegion", "CustomEnvoy"):
        assert variants(stack).findings == [], stack


def test_named_mesh(variants: Any) -> None:
    _, mesh = variants("CustomEnvoy").only("AWS::AppMesh::Mesh")
    assert mesh["Properties"]["MeshName"] == "own-mesh"
