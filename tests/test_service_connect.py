"""The Service Connect data plane: the same declarations, no sidecar, no App Mesh, same names."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_acmpca as acmpca
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

from conftest import AUTHORITY_ARN, ENV, NGINX
from mesh_microservices import DataPlane, Discovery, MeshedCluster, MeshedService, MeshTls, RoutePolicy
from synthesized import Synthesized

Variants = Callable[[str], Synthesized]


def _service(synth: Synthesized, path: str) -> dict[str, Any]:
    return synth.json["Resources"][synth.logical_id("AWS::ECS::Service", f"/{path}/")]


def test_no_app_mesh_resource_sidecar_or_proxy_configuration(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    assert not [t for t in (r["Type"] for r in synth.json["Resources"].values()) if t.startswith("AWS::AppMesh::")]
    for task in synth.resources("AWS::ECS::TaskDefinition").values():
        assert "ProxyConfiguration" not in task["Properties"]
        assert [c["Name"] for c in task["Properties"]["ContainerDefinitions"]] == ["app"]
    assert "APPMESH" not in str(synth.json)
    assert not [m for m in synth.messages if m[0] == "warning"]


def test_each_service_is_a_service_connect_server_under_its_mesh_name(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    namespace_id = synth.logical_id("AWS::ServiceDiscovery::PrivateDnsNamespace", "/Cluster/")
    for path, name, port in (("Web", "web", 80), ("Orders", "orders", 8080), ("Ledger", "ledger", 5432)):
        config = _service(synth, path)["Properties"]["ServiceConnectConfiguration"]
        assert config["Enabled"] is True
        assert config["Namespace"] == {"Fn::GetAtt": [namespace_id, "Arn"]}
        (server,) = config["Services"]
        assert server["PortName"] == name
        assert server["DiscoveryName"] == name
        assert server["ClientAliases"] == [{"DnsName": f"{name}.shop.local", "Port": port}]


def test_service_connect_does_not_also_register_through_cloud_map_options(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    synth.template.resource_count_is("AWS::ServiceDiscovery::Service", 0)
    for service in synth.resources("AWS::ECS::Service").values():
        assert "ServiceRegistries" not in service["Properties"]


def test_port_mappings_are_named_for_service_connect(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    task = synth.json["Resources"][synth.logical_id("AWS::ECS::TaskDefinition", "/Orders/")]["Properties"]
    assert task["ContainerDefinitions"][0]["PortMappings"][0]["Name"] == "orders"


def test_access_logs_go_to_the_services_log_group(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    config = _service(synth, "Orders")["Properties"]["ServiceConnectConfiguration"]
    assert config["AccessLogConfiguration"]["Format"] == "JSON"
    log_group = synth.logical_id("AWS::Logs::LogGroup", "/Orders/")
    assert config["LogConfiguration"]["LogDriver"] == "awslogs"
    assert config["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": log_group}


def _timeout(synth: Synthesized, path: str) -> Any:
    (server,) = _service(synth, path)["Properties"]["ServiceConnectConfiguration"]["Services"]
    return server["Timeout"]


def test_request_timeouts_map_to_service_connect_with_aws_idle_defaults(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    assert _timeout(synth, "Orders") == {"IdleTimeoutSeconds": 300, "PerRequestTimeoutSeconds": 20}
    assert _timeout(synth, "Inventory") == {"IdleTimeoutSeconds": 300, "PerRequestTimeoutSeconds": 15}


def test_a_two_minute_request_keeps_the_five_minute_idle_timeout(variants: Variants) -> None:
    assert _timeout(variants("Timeouts"), "ConnectSlow") == {"IdleTimeoutSeconds": 300, "PerRequestTimeoutSeconds": 120}


def test_tcp_services_keep_idle_connections_an_hour_and_have_no_request_timeout(variants: Variants) -> None:
    assert _timeout(variants("ServiceConnect"), "Ledger") == {"IdleTimeoutSeconds": 3600}
    assert _timeout(variants("Timeouts"), "ConnectCache") == {"IdleTimeoutSeconds": 3600}


def test_servers_deploy_before_their_clients(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    depends = {p: set(_service(synth, p).get("DependsOn", [])) for p in ("Web", "Orders", "Inventory")}
    ids = {p: synth.logical_id("AWS::ECS::Service", f"/{p}/") for p in ("Web", "Orders", "Inventory")}
    assert {ids["Orders"], ids["Inventory"]} <= depends["Web"]
    assert ids["Inventory"] in depends["Orders"]
    assert not {ids["Web"], ids["Orders"]} & depends["Inventory"]


def test_only_declared_callers_reach_ports_on_service_connect(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    group = {p: synth.logical_id("AWS::EC2::SecurityGroup", f"/{p}/") for p in ("Web", "Orders", "Inventory")}
    rules = {
        (r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0], r["Properties"]["GroupId"]["Fn::GetAtt"][0])
        for r in synth.resources("AWS::EC2::SecurityGroupIngress").values()
    }
    assert rules == {
        (group["Web"], group["Orders"]),
        (group["Web"], group["Inventory"]),
        (group["Orders"], group["Inventory"]),
    }


def test_tls_from_a_private_ca(variants: Variants) -> None:
    synth = variants("ServiceConnectTls")
    (server,) = _service(synth, "Vault")["Properties"]["ServiceConnectConfiguration"]["Services"]
    role_id = synth.logical_id("AWS::IAM::Role", "/Cluster/ServiceConnectTlsRole/")
    assert server["Tls"]["IssuerCertificateAuthority"]["AwsPcaAuthorityArn"].startswith("arn:aws:acm-pca:")
    assert server["Tls"]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    role = synth.json["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert "AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity" in str(role["ManagedPolicyArns"])


def _service_connect_stack() -> tuple[cdk.Stack, MeshedCluster]:
    stack = cdk.Stack(cdk.App(), "Refusals", env=ENV)
    return stack, MeshedCluster(stack, "Cluster", namespace="x.local", data_plane=DataPlane.service_connect())


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"discovery": Discovery.dns()}, "discovery=Discovery.dns() is an App Mesh option"),
        ({"route_policy": RoutePolicy(retry_attempts=5)}, "route_policy retries cannot be set on Service Connect"),
        (
            {"route_policy": RoutePolicy(request_timeout=cdk.Duration.millis(1500))},
            "route_policy.request_timeout=1 second 500 millis: Service Connect takes timeouts in whole seconds",
        ),
    ],
)
def test_what_service_connect_cannot_do_is_refused(overrides: dict[str, Any], fragment: str) -> None:
    stack, cluster = _service_connect_stack()
    before = [c.node.path for c in stack.node.find_all()]
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        MeshedService(
            stack, "Api", cluster=cluster, name="api", image=ecs.ContainerImage.from_registry(NGINX), **overrides
        )
    assert [c.node.path for c in stack.node.find_all()] == before


def test_app_mesh_accessors_say_which_data_plane_is_in_use() -> None:
    stack, cluster = _service_connect_stack()
    api = MeshedService(stack, "Api", cluster=cluster, name="api", image=ecs.ContainerImage.from_registry(NGINX))
    with pytest.raises(AttributeError, match=re.escape("DataPlane.service_connect")):
        _ = cluster.mesh
    with pytest.raises(AttributeError, match="not App Mesh"):
        _ = api.virtual_node
    assert api.cloud_map_service is None


def test_mesh_tls_from_a_private_ca_carries_over_to_service_connect() -> None:
    stack = cdk.Stack(cdk.App(), "CarriedTls", env=ENV)
    authority = acmpca.CertificateAuthority.from_certificate_authority_arn(stack, "Authority", AUTHORITY_ARN)
    cluster = MeshedCluster(
        stack, "Cluster", namespace="x.local", data_plane=DataPlane.service_connect(tls=MeshTls.private_ca(authority))
    )
    MeshedService(stack, "Api", cluster=cluster, name="api", image=ecs.ContainerImage.from_registry(NGINX))
    services = Template.from_stack(stack).find_resources("AWS::ECS::Service")
    (service,) = services.values()
    (server,) = service["Properties"]["ServiceConnectConfiguration"]["Services"]
    assert server["Tls"]["IssuerCertificateAuthority"] == {"AwsPcaAuthorityArn": AUTHORITY_ARN}


def test_mutual_tls_is_refused_on_service_connect() -> None:
    mutual = MeshTls.files(certificate_chain="/c.pem", private_key="/k.pem", trusted_chain="/ca.pem", mutual=True)
    stack = cdk.Stack(cdk.App(), "MutualRefused", env=ENV)
    with pytest.raises(ValueError, match="Service Connect has no mutual TLS"):
        MeshedCluster(stack, "Cluster", namespace="x.local", data_plane=DataPlane.service_connect(tls=mutual))
    assert stack.node.children == []


def test_a_health_check_path_no_load_balancer_probes_fails_synthesis() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Unprobed", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="x.local", data_plane=DataPlane.service_connect())
    image = ecs.ContainerImage.from_registry(NGINX)
    MeshedService(stack, "Api", cluster=cluster, name="api", image=image, health_check_path="/healthz")
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    message = str(raised.value)
    assert "[Unprobed/Api] MeshedService 'api': health_check_path='/healthz' is probed by nothing" in message
    assert "container_health_check=ecs.HealthCheck(...)" in message
    assert "MeshIngress or expose_to() a load balancer" in message


def test_a_health_check_path_passes_once_a_load_balancer_is_let_in(variants: Variants) -> None:
    stack, cluster = _service_connect_stack()
    image = ecs.ContainerImage.from_registry(NGINX)
    api = MeshedService(stack, "Api", cluster=cluster, name="api", image=image, health_check_path="/healthz")
    assert len(api.node.validate()) == 1
    api.expose_to(ec2.SecurityGroup(stack, "LoadBalancer", vpc=cluster.vpc), "load balancer")
    assert api.node.validate() == []
    assert api.health_check_path == "/healthz"
    # And in a synthesized app: the Timeouts stack's web service, exposed to its load balancer.
    assert variants("Timeouts").logical_id("AWS::ECS::Service", "/ConnectWeb/")


def test_the_default_health_check_path_needs_no_load_balancer() -> None:
    stack, cluster = _service_connect_stack()
    api = MeshedService(stack, "Api", cluster=cluster, name="api", image=ecs.ContainerImage.from_registry(NGINX))
    assert api.health_check_path == "/"  # what a load balancer put in front later should probe
    assert api.node.validate() == []
