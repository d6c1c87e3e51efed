"""The Envoy sidecar and proxy configuration follow App Mesh's wiring facts."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from mesh_microservices.app_mesh import envoy
from synthesized import Synthesized


def _containers(synth: Synthesized, service_path: str) -> dict[str, dict[str, Any]]:
    task = synth.json["Resources"][synth.logical_id("AWS::ECS::TaskDefinition", f"/{service_path}/")]
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


def test_envoy_runs_as_the_ignored_uid_with_ulimit_and_is_essential(mesh_shop: Synthesized) -> None:
    sidecar = _containers(mesh_shop, "Orders")[envoy.ENVOY_CONTAINER_NAME]
    assert sidecar["User"] == str(envoy.ENVOY_USER_ID) == "1337"
    assert sidecar["Essential"] is True
    assert sidecar["Ulimits"] == [{"Name": "nofile", "SoftLimit": 15000, "HardLimit": 15000}]


def test_envoy_health_check_probes_the_admin_interface(mesh_shop: Synthesized) -> None:
    health = _containers(mesh_shop, "Orders")[envoy.ENVOY_CONTAINER_NAME]["HealthCheck"]
    assert health == {
        "Command": ["CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE"],
        "Interval": 5,
        "Timeout": 2,
        "Retries": 3,
        "StartPeriod": 10,
    }


def test_envoy_finds_its_own_virtual_node_by_resource_arn(mesh_shop: Synthesized) -> None:
    environment = _containers(mesh_shop, "Orders")[envoy.ENVOY_CONTAINER_NAME]["Environment"]
    node_id = mesh_shop.logical_id("AWS::AppMesh::VirtualNode", "/Orders/")
    # Observability adds its switches beside it (tests/test_observability.py).
    assert [v for v in environment if v["Name"].startswith("APPMESH_")] == [
        {"Name": "APPMESH_RESOURCE_ARN", "Value": {"Ref": node_id}}
    ]
    assert "APPMESH_VIRTUAL_NODE_NAME" not in str(mesh_shop.json)


def test_app_container_starts_after_envoy_is_healthy(mesh_shop: Synthesized) -> None:
    app = _containers(mesh_shop, "Orders")["app"]
    assert app["DependsOn"] == [{"ContainerName": "envoy", "Condition": "HEALTHY"}]


def test_proxy_configuration_redirects_app_port_through_envoy(mesh_shop: Synthesized) -> None:
    task = mesh_shop.json["Resources"][mesh_shop.logical_id("AWS::ECS::TaskDefinition", "/Web/")]["Properties"]
    assert task["NetworkMode"] == "awsvpc"
    proxy = task["ProxyConfiguration"]
    assert proxy["Type"] == "APPMESH"
    assert proxy["ContainerName"] == "envoy"
    properties = {p["Name"]: p["Value"] for p in proxy["ProxyConfigurationProperties"]}
    assert properties == {
        "AppPorts": "80",
        "ProxyIngressPort": "15000",
        "ProxyEgressPort": "15001",
        "IgnoredUID": "1337",
        "EgressIgnoredIPs": "169.254.170.2,169.254.169.254",
    }


def test_envoy_image_comes_from_the_regional_registry_with_a_current_tag(mesh_shop: Synthesized) -> None:
    image = _containers(mesh_shop, "Orders")["envoy"]["Image"]
    text = str(image)
    assert "840364872350.dkr.ecr.eu-west-1." in text
    assert f"aws-appmesh-envoy:{envoy.ENVOY_IMAGE_TAG}" in text


def test_envoy_image_pull_is_granted_on_the_envoy_repository_only(mesh_shop: Synthesized) -> None:
    mesh_shop.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": [
                                    "ecr:BatchCheckLayerAvailability",
                                    "ecr:GetDownloadUrlForLayer",
                                    "ecr:BatchGetImage",
                                ],
                                "Resource": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:",
                                            {"Ref": "AWS::Partition"},
                                            ":ecr:eu-west-1:840364872350:repository/aws-appmesh-envoy",
                                        ],
                                    ]
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_envoy_registry_account_differs_in_opt_in_regions() -> None:
    assert envoy.envoy_registry_account("us-east-1") == "840364872350"
    assert envoy.envoy_registry_account("af-south-1") == "924023996002"
    assert envoy.envoy_registry_account("me-south-1") == "772975370895"
    assert envoy.envoy_registry_account("eu-central-2") == "704106688930"
    assert envoy.envoy_registry_account("xx-nowhere-1") is None


def test_unresolved_region_picks_the_account_from_a_mapping(variants: Any) -> None:
    synth = variants("AnyRegion")
    mapping = synth.json["Mappings"]["MeshMicroservicesEnvoyAccounts"]
    assert mapping["eu-west-1"] == {"account": "840364872350"}
    assert mapping["af-south-1"] == {"account": "924023996002"}
    assert mapping["eu-central-2"] == {"account": "704106688930"}
    image = str(_containers(synth, "Api")["envoy"]["Image"])
    assert "Fn::FindInMap" in image and "MeshMicroservicesEnvoyAccounts" in image


def test_envoy_image_tag_can_be_overridden(variants: Any) -> None:
    image = str(_containers(variants("Imported"), "Billing")["envoy"]["Image"])
    assert "aws-appmesh-envoy:v1.34.13.0-prod" in image


def test_envoy_image_can_be_replaced_entirely(variants: Any) -> None:
    image = _containers(variants("CustomEnvoy"), "Api")["envoy"]["Image"]
    assert image == "registry.example.com/envoy:v1.39.1.0-prod"
