"""MeshedService's ECS service: private, safely deployed, reachable from declared callers only."""

from __future__ import annotations

import warnings
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Match, Template

from conftest import CONTAINER_HEALTH_CHECK, ENV, NGINX
from mesh_microservices import DataPlane, MeshedCluster, MeshedService
from mesh_microservices._deployment import max_healthy_percent
from synthesized import Synthesized


def _service(synth: Synthesized, path: str) -> dict[str, Any]:
    return synth.json["Resources"][synth.logical_id("AWS::ECS::Service", f"/{path}/")]["Properties"]


def test_tasks_get_no_public_ip_and_run_in_private_subnets(shop: Synthesized) -> None:
    for path in ("Web", "Orders", "Inventory"):
        network = _service(shop, path)["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        private_ids = {
            k for k, v in shop.resources("AWS::EC2::Subnet").items() if not v["Properties"]["MapPublicIpOnLaunch"]
        }
        assert {s["Ref"] for s in network["Subnets"]} == private_ids


def test_deployments_keep_all_tasks_healthy_and_roll_back(shop: Synthesized) -> None:
    deployment = _service(shop, "Orders")["DeploymentConfiguration"]
    assert deployment["MinimumHealthyPercent"] == 100
    assert deployment["MaximumPercent"] == 150  # two tasks
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert _service(shop, "Orders")["LaunchType"] == "FARGATE"


def test_maximum_percent_follows_aws_advice_by_task_count(variants: Any) -> None:
    synth = variants("Protocols")
    assert _service(synth, "Http2")["DeploymentConfiguration"]["MaximumPercent"] == 200  # one task
    assert _service(synth, "Grpc")["DeploymentConfiguration"]["MaximumPercent"] == 150  # three
    assert _service(synth, "Tcp")["DeploymentConfiguration"]["MaximumPercent"] == 125  # four
    assert [max_healthy_percent(n) for n in (1, 2, 3, 4, 40)] == [200, 150, 150, 125, 125]


def test_only_declared_callers_reach_a_service_port(shop: Synthesized) -> None:
    group = {p: shop.logical_id("AWS::EC2::SecurityGroup", f"/{p}/") for p in ("Web", "Orders", "Inventory")}
    rules = {
        (
            rule["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0],
            rule["Properties"]["GroupId"]["Fn::GetAtt"][0],
            rule["Properties"]["FromPort"],
            rule["Properties"]["ToPort"],
            rule["Properties"]["IpProtocol"],
        )
        for rule in shop.resources("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"]["Fn::GetAtt"][0] in group.values()
    }
    balancer = shop.logical_id("AWS::EC2::SecurityGroup", "/Ingress/LoadBalancerSecurityGroup/")
    assert rules == {
        (group["Web"], group["Orders"], 8080, 8080, "tcp"),
        (group["Web"], group["Inventory"], 8080, 8080, "tcp"),
        (group["Orders"], group["Inventory"], 8080, 8080, "tcp"),
        (balancer, group["Web"], 80, 80, "tcp"),  # the public load balancer, exposed to web only
    }
    for logical_id in group.values():
        assert "SecurityGroupIngress" not in shop.json["Resources"][logical_id]["Properties"]


def test_app_container_logs_to_a_retained_log_group_with_retention(shop: Synthesized) -> None:
    task = shop.json["Resources"][shop.logical_id("AWS::ECS::TaskDefinition", "/Orders/")]["Properties"]
    log_group = shop.logical_id("AWS::Logs::LogGroup", "/Orders/")
    for container in task["ContainerDefinitions"]:
        options = container["LogConfiguration"]["Options"]
        assert options["awslogs-group"] == {"Ref": log_group}
    assert shop.json["Resources"][log_group]["Properties"]["RetentionInDays"] == 30


def test_app_port_mapping_is_named_for_any_data_plane(shop: Synthesized) -> None:
    task = shop.json["Resources"][shop.logical_id("AWS::ECS::TaskDefinition", "/Orders/")]["Properties"]
    app = next(c for c in task["ContainerDefinitions"] if c["Name"] == "app")
    assert app["PortMappings"] == [{"ContainerPort": 8080, "Name": "orders", "AppProtocol": "http", "Protocol": "tcp"}]


def test_task_size_defaults_to_the_smallest_fargate_size(shop: Synthesized) -> None:
    task = shop.json["Resources"][shop.logical_id("AWS::ECS::TaskDefinition", "/Orders/")]["Properties"]
    assert (task["Cpu"], task["Memory"]) == ("256", "512")
    assert task["RequiresCompatibilities"] == ["FARGATE"]


def _app_container(synth: Synthesized, task_path: str) -> dict[str, Any]:
    task = synth.json["Resources"][synth.logical_id("AWS::ECS::TaskDefinition", task_path)]["Properties"]
    return next(c for c in task["ContainerDefinitions"] if c["Name"] == "app")


def test_container_health_check_is_set_on_every_versions_app_container_on_both_planes(variants: Any) -> None:
    synth = variants("Timeouts")
    expected = {
        "Command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
        "Interval": 30,  # ECS's defaults, as aws-cdk-lib renders them
        "Retries": 3,
        "Timeout": 5,
    }
    assert CONTAINER_HEALTH_CHECK.command == expected["Command"]
    for task in ("/MeshSlow/TaskDefinition/", "/MeshSlow/Version-v2/TaskDefinition/", "/ConnectSlow/TaskDefinition/"):
        assert _app_container(synth, task)["HealthCheck"] == expected, task
    assert "HealthCheck" not in _app_container(synth, "/ConnectCache/TaskDefinition/")


# memory_limit_mib, as aws-cdk-lib's FargateTaskDefinition names it; memory_mib until 2.0.


def test_memory_limit_mib_sizes_the_task_and_memory_mib_is_its_deprecated_alias() -> None:
    stack = cdk.Stack(cdk.App(), "Memory", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="memory.local", data_plane=DataPlane.service_connect())
    image = ecs.ContainerImage.from_registry(NGINX)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new name warns of nothing
        MeshedService(stack, "Sized", cluster=cluster, name="sized", image=image, cpu=512, memory_limit_mib=2048)
    deprecated = r"memory_mib is deprecated: use memory_limit_mib.*removed in 2\.0"
    with pytest.warns(DeprecationWarning, match=deprecated) as w:
        MeshedService(stack, "Aliased", cluster=cluster, name="aliased", image=image, cpu=512, memory_mib=3072)
    assert [warning.filename for warning in w] == [__file__]  # the warning points at the application's call
    template = Template.from_stack(stack)
    for path, memory in (("Sized", "2048"), ("Aliased", "3072")):
        (definition,) = template.find_resources(
            "AWS::ECS::TaskDefinition", {"Properties": {"Family": Match.string_like_regexp(f"Memory{path}")}}
        ).values()
        assert definition["Properties"]["Memory"] == memory
