"""Public ingress: a load balancer in front of the data plane's targets.

On App Mesh, an App Mesh virtual gateway that routes into the mesh; on Service Connect, each
routed service's own target group, picked by listener rules.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_acmpca as acmpca
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from checked_apps import CheckedApp, check_app
from conftest import BLUE_GREEN_HEADER, CERTIFICATE_ARN, ENV, NGINX, REGION, TEST_HEADER
from mesh_microservices import (
    DataPlane,
    IngressLoadBalancer,
    IngressRoute,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    MeshIngress,
    MeshTls,
    Observability,
    Rollout,
    mermaid_topology,
)
from mesh_microservices._acknowledgments import OPEN_INGRESS_RULE, SERVER_ACCESS_LOGS_RULE, WILDCARD_RESOURCE_RULE
from mesh_microservices.app_mesh import envoy
from mesh_microservices.app_mesh import observability as obs
from mesh_microservices.app_mesh.end_of_life import SHUTDOWN_RULE_ID
from mesh_microservices.service import DEFAULT_HEALTH_CHECK_PATH
from mesh_microservices.service_connect import ingress as connect_ingress
from mesh_microservices.service_connect import ingress_rollout
from refusals import assert_refused
from synthesized import Synthesized

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class IngressApp:
    """The synthesized app, and the constructs the tests compare its templates with."""

    checked: CheckedApp
    ingress: MeshIngress
    services: dict[str, MeshedService]

    def stack(self, name: str) -> Synthesized:
        return self.checked.stack(name)


def _build(app: cdk.App) -> dict[str, Any]:
    image = ecs.ContainerImage.from_registry(NGINX)
    built: dict[str, Any] = {}

    stack = cdk.Stack(app, "Ingress", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="edge.local", data_plane=DataPlane.app_mesh())
    ledger = MeshedService(
        stack, "Ledger", cluster=cluster, name="ledger", image=image, port=5432, protocol=ListenerProtocol.TCP
    )
    api = MeshedService(stack, "Api", cluster=cluster, name="api", image=image, backends=[ledger])
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=image, port=80)
    built["services"] = {"ledger": ledger, "api": api, "web": web}
    built["ingress"] = MeshIngress(
        stack,
        "Ingress",
        cluster=cluster,
        routes=[
            IngressRoute(service=api, path_prefix="/api/", hostname="shop.example.com"),
            IngressRoute(service=web, path_prefix="/docs", strip_prefix=False, name="docs"),
            IngressRoute(service=web),
        ],
        allow_plain_http=True,
    )

    variants = cdk.Stack(app, "IngressVariants", env=ENV)
    observed = DataPlane.app_mesh(
        observability=Observability(tracing=True, envoy_metrics=False, alarms=False, access_logs=False)
    )
    cluster = MeshedCluster(variants, "Cluster", namespace="variants.local", data_plane=observed)
    site = MeshedService(variants, "Site", cluster=cluster, name="site", image=image)
    certificate = acm.Certificate.from_certificate_arn(variants, "Certificate", CERTIFICATE_ARN)
    MeshIngress(variants, "Secure", cluster=cluster, routes=[IngressRoute(service=site)], certificate=certificate)
    MeshIngress(
        variants,
        "Tcp",
        cluster=cluster,
        routes=[IngressRoute(service=site)],
        load_balancer=IngressLoadBalancer.NLB,
        desired_count=3,
        allow_plain_http=True,
    )
    MeshIngress(
        variants,
        "Tls",
        cluster=cluster,
        routes=[IngressRoute(service=site)],
        load_balancer=IngressLoadBalancer.NLB,
        certificate=certificate,
    )

    # The ingress in a stack of its own, after the services' stack.
    platform = cdk.Stack(app, "IngressPlatform", env=ENV)
    cluster = MeshedCluster(platform, "Cluster", namespace="split.local", data_plane=DataPlane.app_mesh())
    services = cdk.Stack(app, "IngressServices", env=ENV)
    shop = MeshedService(services, "Shop", cluster=cluster, name="shop", image=image)
    edge = cdk.Stack(app, "IngressEdge", env=ENV)
    MeshIngress(edge, "Ingress", cluster=cluster, routes=[IngressRoute(service=shop)], allow_plain_http=True)
    built["split_shop"] = shop
    return built


@pytest.fixture(scope="module")
def ingress_app(tmp_path_factory: pytest.TempPathFactory) -> IngressApp:
    built: dict[str, Any] = {}
    checked = check_app("ingress", lambda app: built.update(_build(app)), tmp_path_factory.mktemp("ingress"))
    return IngressApp(checked, built["ingress"], built["services"])


@pytest.fixture(scope="module")
def main(ingress_app: IngressApp) -> Synthesized:
    return ingress_app.stack("Ingress")


@pytest.fixture(scope="module")
def variants(ingress_app: IngressApp) -> Synthesized:
    return ingress_app.stack("IngressVariants")


def _gateway_task(synth: Synthesized) -> dict[str, Any]:
    task: dict[str, Any] = synth.resource("AWS::ECS::TaskDefinition", "/Ingress/TaskDefinition/")["Properties"]
    return task


def _containers(synth: Synthesized, ingress: str = "Ingress") -> dict[str, dict[str, Any]]:
    task = synth.resource("AWS::ECS::TaskDefinition", f"/{ingress}/TaskDefinition/")["Properties"]
    return {container["Name"]: container for container in task["ContainerDefinitions"]}


def _envoy(synth: Synthesized) -> dict[str, Any]:
    return _containers(synth)[envoy.ENVOY_CONTAINER_NAME]


def _group_id(synth: Synthesized, path: str) -> str:
    return synth.logical_id("AWS::EC2::SecurityGroup", path)


def _rules(synth: Synthesized, direction: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id of the group, rule) for every ingress or egress rule of the stack."""
    inline, standalone = {
        "ingress": ("SecurityGroupIngress", "AWS::EC2::SecurityGroupIngress"),
        "egress": ("SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress"),
    }[direction]
    for logical_id, group in synth.resources("AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get(inline, []):
            yield logical_id, rule
    for rule in synth.resources(standalone).values():
        yield _group(rule["Properties"]["GroupId"]), rule["Properties"]


def _group(reference: dict[str, Any]) -> str:
    """The logical id of a group of this stack, or the import of another stack's group."""
    return str(reference["Fn::GetAtt"][0]) if "Fn::GetAtt" in reference else str(reference)


def _peer(rule: dict[str, Any]) -> str:
    for key in ("SourceSecurityGroupId", "DestinationSecurityGroupId"):
        if key in rule:
            return _group(rule[key])
    return str(rule.get("CidrIp") or rule.get("CidrIpv6"))


def _ports(synth: Synthesized, direction: str, group: str) -> set[tuple[str, int]]:
    """(peer, port) of every rule of ``group`` in one direction."""
    return {
        (_peer(rule), rule["FromPort"])
        for owner, rule in _rules(synth, direction)
        if owner == group and rule.get("IpProtocol") == "tcp" and rule["FromPort"] == rule["ToPort"]
    }


# The gateway's Envoy


def test_gateway_envoy_runs_alone_without_proxy_configuration_or_user(main: Synthesized) -> None:
    task = _gateway_task(main)
    assert "ProxyConfiguration" not in task
    assert task["NetworkMode"] == "awsvpc" and task["RequiresCompatibilities"] == ["FARGATE"]
    # Envoy, and the one sidecar the data plane's default Observability adds to every Envoy task.
    assert set(_containers(main)) == {envoy.ENVOY_CONTAINER_NAME, obs.CLOUDWATCH_AGENT_CONTAINER_NAME}
    container = _envoy(main)
    assert container["Essential"] is True
    assert "User" not in container  # App Mesh: a virtual gateway's Envoy sets neither user nor proxy
    assert container["Ulimits"] == [{"Name": "nofile", "SoftLimit": 15000, "HardLimit": 15000}]
    assert container["PortMappings"] == [
        {"ContainerPort": 8080, "Name": "gateway", "Protocol": "tcp", "AppProtocol": "http"}
    ]


def test_gateway_envoy_has_envoys_health_check(main: Synthesized) -> None:
    assert _envoy(main)["HealthCheck"] == {
        "Command": ["CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE"],
        "Interval": 5,
        "Timeout": 2,
        "Retries": 3,
        "StartPeriod": 10,
    }


def test_gateway_envoy_streams_the_virtual_gateways_configuration(main: Synthesized) -> None:
    gateway = main.logical_id("AWS::AppMesh::VirtualGateway", "/Ingress/")
    variables = {v["Name"]: v["Value"] for v in _envoy(main)["Environment"]}
    assert variables["APPMESH_RESOURCE_ARN"] == {"Ref": gateway}  # App Mesh User Guide, "Envoy configuration variables"
    assert "APPMESH_VIRTUAL_NODE_NAME" not in variables


def test_gateway_envoy_image_is_the_regional_one(main: Synthesized) -> None:
    image = str(_envoy(main)["Image"])
    assert f"840364872350.dkr.ecr.{REGION}." in image
    assert f"aws-appmesh-envoy:{envoy.ENVOY_IMAGE_TAG}" in image  # App Mesh User Guide, "Envoy image"


def test_gateway_envoy_may_stream_only_its_own_gateway(main: Synthesized) -> None:
    policy = main.resource("AWS::IAM::Policy", "/Ingress/TaskDefinition/TaskRole/")["Properties"]["PolicyDocument"]
    gateway = main.logical_id("AWS::AppMesh::VirtualGateway", "/Ingress/")
    mesh_statements = [s for s in policy["Statement"] if "appmesh" in str(s["Action"])]
    assert mesh_statements == [
        {"Action": "appmesh:StreamAggregatedResources", "Effect": "Allow", "Resource": {"Ref": gateway}}
    ]


def test_gateway_envoy_logs_are_kept(main: Synthesized) -> None:
    log_group = main.logical_id("AWS::Logs::LogGroup", "/Ingress/Logs/")
    for container in _containers(main).values():
        assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": log_group}
    resource = main.json["Resources"][log_group]
    assert resource["Properties"]["RetentionInDays"] == 30
    assert resource["DeletionPolicy"] == "Retain"


def test_gateway_envoy_follows_the_data_planes_observability(main: Synthesized, variants: Synthesized) -> None:
    metrics = {v["Name"] for v in _envoy(main)["Environment"]}
    assert {"ENABLE_ENVOY_DOG_STATSD", "ENABLE_ENVOY_STATS_TAGS"} <= metrics  # App Mesh's Envoy configuration variables
    policy = main.resource("AWS::IAM::Policy", "/Ingress/TaskDefinition/TaskRole/")["Properties"]["PolicyDocument"]
    assert any(s["Action"] == "cloudwatch:PutMetricData" for s in policy["Statement"])
    # A cluster that traces and neither measures nor logs requests: so does its gateway.
    traced = _containers(variants, "Secure")
    assert set(traced) == {envoy.ENVOY_CONTAINER_NAME, obs.XRAY_DAEMON_CONTAINER_NAME}
    assert {"Name": "ENABLE_ENVOY_XRAY_TRACING", "Value": "1"} in traced[envoy.ENVOY_CONTAINER_NAME]["Environment"]
    spec = variants.resource("AWS::AppMesh::VirtualGateway", "/Secure/")["Properties"]["Spec"]
    assert "Logging" not in spec


def test_gateway_service_runs_private_with_a_circuit_breaker(main: Synthesized) -> None:
    service = main.resource("AWS::ECS::Service", "/Ingress/Service/")["Properties"]
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    private = {main.logical_id("AWS::EC2::Subnet", f"/PrivateSubnet{n}/") for n in (1, 2)}
    assert {subnet["Ref"] for subnet in network["Subnets"]} == private
    assert network["SecurityGroups"] == [{"Fn::GetAtt": [_group_id(main, "/Ingress/SecurityGroup/"), "GroupId"]}]
    deployment = service["DeploymentConfiguration"]
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (100, 150)
    assert service["DesiredCount"] == 2
    assert service["HealthCheckGracePeriodSeconds"] == 60


# The virtual gateway and its gateway routes


def test_virtual_gateway_listens_on_http_with_a_health_check_and_logs_requests(main: Synthesized) -> None:
    spec = main.resource("AWS::AppMesh::VirtualGateway", "/Ingress/")["Properties"]["Spec"]
    (listener,) = spec["Listeners"]
    assert listener["PortMapping"] == {"Port": 8080, "Protocol": "http"}
    assert listener["HealthCheck"]["Protocol"] == "http" and listener["HealthCheck"]["Port"] == 8080
    assert spec["Logging"] == {"AccessLog": {"File": {"Path": "/dev/stdout"}}}


def test_gateway_routes_match_host_name_and_path_prefix_in_the_order_given(main: Synthesized) -> None:
    api = main.resource("AWS::AppMesh::GatewayRoute", "/Route-api/")["Properties"]["Spec"]
    assert api["Priority"] == 10
    assert api["HttpRoute"]["Match"] == {"Prefix": "/api/", "Hostname": {"Exact": "shop.example.com"}}
    assert api["HttpRoute"]["Action"] == {"Target": {"VirtualService": {"VirtualServiceName": "api.edge.local"}}}
    web = main.resource("AWS::AppMesh::GatewayRoute", "/Route-web/")["Properties"]["Spec"]
    assert web["Priority"] == 30
    assert web["HttpRoute"]["Match"] == {"Prefix": "/"}
    assert web["HttpRoute"]["Action"]["Target"] == {"VirtualService": {"VirtualServiceName": "web.edge.local"}}


def test_a_route_can_keep_the_path_unchanged(main: Synthesized) -> None:
    docs = main.resource("AWS::AppMesh::GatewayRoute", "/Route-docs/")["Properties"]["Spec"]
    assert docs["Priority"] == 20 and docs["HttpRoute"]["Match"] == {"Prefix": "/docs"}
    assert docs["HttpRoute"]["Action"]["Rewrite"] == {"Prefix": {"DefaultPrefix": "DISABLED"}}
    web = main.resource("AWS::AppMesh::GatewayRoute", "/Route-web/")["Properties"]["Spec"]
    assert "Rewrite" not in web["HttpRoute"]["Action"]  # App Mesh's default: the prefix becomes "/"


def test_gateway_routes_are_created_after_the_virtual_services_they_name(main: Synthesized) -> None:
    for route, service in (("api", "Api"), ("web", "Web")):
        resource = main.resource("AWS::AppMesh::GatewayRoute", f"/Route-{route}/")
        assert main.logical_id("AWS::AppMesh::VirtualService", f"/{service}/") in resource["DependsOn"]


def test_gateway_resources_acknowledge_app_mesh_end_of_life(main: Synthesized) -> None:
    acknowledged = {f["path"] for f in main.acknowledged if f["rule"] == SHUTDOWN_RULE_ID.split("::", 1)[1]}
    for resource_type in ("AWS::AppMesh::VirtualGateway", "AWS::AppMesh::GatewayRoute"):
        for resource in main.resources(resource_type).values():
            assert resource["Metadata"]["aws:cdk:path"] in acknowledged
    assert main.findings == []


# The load balancer, and who reaches whom


def test_only_the_load_balancer_is_open_to_the_internet(main: Synthesized) -> None:
    load_balancer_group = _group_id(main, "/Ingress/LoadBalancerSecurityGroup/")
    open_rules = [(group, rule) for group, rule in _rules(main, "ingress") if "CidrIp" in rule or "CidrIpv6" in rule]
    assert [(group, rule["CidrIp"], rule["FromPort"]) for group, rule in open_rules] == [
        (load_balancer_group, ANYWHERE, 80)
    ]
    load_balancer = main.resource("AWS::ElasticLoadBalancingV2::LoadBalancer", "/Ingress/")["Properties"]
    assert load_balancer["Scheme"] == "internet-facing"
    assert load_balancer["SecurityGroups"] == [{"Fn::GetAtt": [load_balancer_group, "GroupId"]}]


def test_load_balancer_reaches_only_the_gateway_listener_and_envoys_readiness(main: Synthesized) -> None:
    load_balancer, gateway = (_group_id(main, f"/Ingress/{g}/") for g in ("LoadBalancerSecurityGroup", "SecurityGroup"))
    # Envoy's admin interface: port 9901 (App Mesh User Guide, "Envoy configuration variables":
    # ENVOY_ADMIN_ACCESS_PORT), readiness at GET /ready (Envoy documentation, "Administration interface").
    assert _ports(main, "egress", load_balancer) == {(gateway, 8080), (gateway, 9901)}
    assert _ports(main, "ingress", gateway) == {(load_balancer, 8080), (load_balancer, 9901)}
    target_group = main.resource("AWS::ElasticLoadBalancingV2::TargetGroup", "/Ingress/")["Properties"]
    assert (target_group["Port"], target_group["Protocol"], target_group["TargetType"]) == (8080, "HTTP", "ip")
    assert (target_group["HealthCheckPort"], target_group["HealthCheckPath"]) == ("9901", "/ready")
    assert target_group["Matcher"] == {"HttpCode": "200"}


def test_gateway_reaches_only_the_services_it_routes_to(main: Synthesized, ingress_app: IngressApp) -> None:
    gateway = _group_id(main, "/Ingress/SecurityGroup/")
    group = {name: _group_id(main, f"/{name.title()}/SecurityGroup/") for name in ingress_app.services}
    assert _ports(main, "egress", gateway) == {(ANYWHERE, 443), (group["api"], 8080), (group["web"], 80)}
    for name, port in (("api", 8080), ("web", 80)):
        assert (gateway, port) in _ports(main, "ingress", group[name])
    assert not any(_peer(rule) == gateway for owner, rule in _rules(main, "ingress") if owner == group["ledger"])


def test_routed_services_are_exposed_to_the_ingress(ingress_app: IngressApp) -> None:
    path = ingress_app.ingress.node.path
    assert ingress_app.services["api"].exposed_to == [path]
    assert ingress_app.services["web"].exposed_to == [path]  # once, though routed twice
    assert ingress_app.services["ledger"].exposed_to == []


def test_alb_drops_invalid_headers_and_logs_to_a_private_encrypted_retained_bucket(main: Synthesized) -> None:
    load_balancer = main.resource("AWS::ElasticLoadBalancingV2::LoadBalancer", "/Ingress/")["Properties"]
    attributes = {a["Key"]: a["Value"] for a in load_balancer["LoadBalancerAttributes"]}
    bucket_id = main.logical_id("AWS::S3::Bucket", "/Ingress/AccessLogs/")
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": bucket_id}
    bucket = main.json["Resources"][bucket_id]
    assert bucket["DeletionPolicy"] == "Retain"
    encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption == [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert set(bucket["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}
    (policy,) = main.resources("AWS::S3::BucketPolicy").values()
    assert {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.items() <= next(
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ).items()


def test_http_listener_forwards_to_the_gateway_without_a_certificate(main: Synthesized) -> None:
    (listener,) = main.resources("AWS::ElasticLoadBalancingV2::Listener").values()
    target_group = main.logical_id("AWS::ElasticLoadBalancingV2::TargetGroup", "/Ingress/")
    assert (listener["Properties"]["Port"], listener["Properties"]["Protocol"]) == (80, "HTTP")
    assert listener["Properties"]["DefaultActions"] == [{"TargetGroupArn": {"Ref": target_group}, "Type": "forward"}]


def test_certificate_serves_https_on_443_and_redirects_http(variants: Synthesized) -> None:
    https = variants.resource("AWS::ElasticLoadBalancingV2::Listener", "/Secure/LoadBalancer/Https/")["Properties"]
    assert (https["Port"], https["Protocol"]) == (443, "HTTPS")
    assert https["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    redirect = variants.resource("AWS::ElasticLoadBalancingV2::Listener", "/Secure/LoadBalancer/Redirect")
    assert (redirect["Properties"]["Port"], redirect["Properties"]["Protocol"]) == (80, "HTTP")
    assert redirect["Properties"]["DefaultActions"] == [
        {"Type": "redirect", "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}}
    ]
    group = _group_id(variants, "/Secure/LoadBalancerSecurityGroup/")
    assert _ports(variants, "ingress", group) == {(ANYWHERE, 80), (ANYWHERE, 443)}


def test_nlb_passes_tcp_to_the_gateway_listener_only(variants: Synthesized) -> None:
    load_balancer = variants.resource("AWS::ElasticLoadBalancingV2::LoadBalancer", "/Tcp/")["Properties"]
    assert (load_balancer["Type"], load_balancer["Scheme"]) == ("network", "internet-facing")
    listener = variants.resource("AWS::ElasticLoadBalancingV2::Listener", "/Tcp/LoadBalancer/")["Properties"]
    assert (listener["Port"], listener["Protocol"]) == (80, "TCP")
    target_group = variants.resource("AWS::ElasticLoadBalancingV2::TargetGroup", "/Tcp/")["Properties"]
    assert (target_group["Port"], target_group["Protocol"], target_group["HealthCheckProtocol"]) == (8080, "TCP", "TCP")
    load_balancer_group, gateway = (
        _group_id(variants, f"/Tcp/{g}/") for g in ("LoadBalancerSecurityGroup", "SecurityGroup")
    )
    assert _ports(variants, "ingress", load_balancer_group) == {(ANYWHERE, 80)}
    assert _ports(variants, "egress", load_balancer_group) == {(gateway, 8080)}
    assert _ports(variants, "ingress", gateway) == {(load_balancer_group, 8080)}
    attributes = {a["Key"]: a["Value"] for a in load_balancer["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    service = variants.resource("AWS::ECS::Service", "/Tcp/Service/")["Properties"]
    assert service["DesiredCount"] == 3 and service["DeploymentConfiguration"]["MaximumPercent"] == 150


def test_nlb_with_a_certificate_terminates_tls_on_443(variants: Synthesized) -> None:
    listener = variants.resource("AWS::ElasticLoadBalancingV2::Listener", "/Tls/LoadBalancer/")["Properties"]
    assert (listener["Port"], listener["Protocol"]) == (443, "TLS")
    assert listener["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    group = _group_id(variants, "/Tls/LoadBalancerSecurityGroup/")
    assert _ports(variants, "ingress", group) == {(ANYWHERE, 443)}


# Checks over the whole app


def test_cdk_nag_finds_nothing_and_the_open_group_and_log_bucket_say_why(ingress_app: IngressApp) -> None:
    for name, stack in ingress_app.checked.stacks():
        assert stack.findings == [], name
    acknowledged = {(f["rule"], f["path"]): f for f in ingress_app.stack("Ingress").acknowledged}
    for rule, path in (
        (OPEN_INGRESS_RULE, "Ingress/Ingress/LoadBalancerSecurityGroup/Resource"),
        (SERVER_ACCESS_LOGS_RULE, "Ingress/Ingress/AccessLogs/Resource"),
    ):
        finding = acknowledged[(rule.split("::", 1)[1], path)]
        assert finding["acknowledged_at"] == path  # on the resource itself
        assert len(finding["reason"]) >= 40


def test_an_ingress_in_its_own_stack_deploys_after_the_services_and_is_not_imported(
    ingress_app: IngressApp,
) -> None:
    stacks = {s.stack_name: s for s in ingress_app.checked.app.node.children if isinstance(s, cdk.Stack)}
    assert {s.stack_name for s in stacks["IngressEdge"].dependencies} == {"IngressPlatform", "IngressServices"}
    assert "IngressEdge" not in {s.stack_name for s in stacks["IngressServices"].dependencies}
    services = ingress_app.stack("IngressServices").json
    assert "IngressEdge" not in str(services)  # no rule and no import of the edge's groups
    edge = ingress_app.stack("IngressEdge")
    route = next(iter(edge.resources("AWS::AppMesh::GatewayRoute").values()))["Properties"]["Spec"]
    assert route["HttpRoute"]["Action"]["Target"]["VirtualService"]["VirtualServiceName"] == "shop.split.local"
    rules = [rule for _, rule in _rules(edge, "ingress")] + [rule for _, rule in _rules(edge, "egress")]
    assert sum("Fn::ImportValue" in str(rule) and rule["FromPort"] == 8080 for rule in rules) == 2


def test_topology_draws_the_ingress_in_front_of_the_services_it_routes_to(ingress_app: IngressApp) -> None:
    stack = ingress_app.checked.app.node.find_child("Ingress")
    lines = mermaid_topology(stack).splitlines()
    assert '  peer0(["Ingress<br/>public ALB :80"])' in lines
    assert '  peer0 ==>|"shop.example.com/api/"| c0_api' in lines
    assert '  peer0 ==>|"/docs · /"| c0_web' in lines
    assert not any("c0_ledger" in line and "peer0" in line for line in lines)


def test_shop_has_a_public_ingress_in_front_of_web_only(shop: Synthesized) -> None:
    """The shop example, on Service Connect: its load balancer forwards every path to web's targets."""
    (listener,) = shop.resources("AWS::ElasticLoadBalancingV2::Listener").values()
    (rule,) = shop.resources("AWS::ElasticLoadBalancingV2::ListenerRule").values()
    web_targets = shop.logical_id("AWS::ElasticLoadBalancingV2::TargetGroup", "/Ingress/")
    assert rule["Properties"]["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}]
    assert rule["Properties"]["Actions"][0]["TargetGroupArn"] == {"Ref": web_targets}
    assert listener["Properties"]["DefaultActions"][0]["Type"] == "fixed-response"
    balancer = _group_id(shop, "/Ingress/LoadBalancerSecurityGroup/")
    web, orders = (_group_id(shop, f"/{name}/SecurityGroup/") for name in ("Web", "Orders"))
    assert (balancer, 80) in _ports(shop, "ingress", web)
    assert not any(_peer(rule) == balancer for owner, rule in _rules(shop, "ingress") if owner == orders)
    assert shop.findings == []


def test_the_shop_on_app_mesh_routes_every_path_through_the_gateway_to_web(mesh_shop: Synthesized) -> None:
    (route,) = mesh_shop.resources("AWS::AppMesh::GatewayRoute").values()
    assert route["Properties"]["Spec"]["HttpRoute"]["Match"] == {"Prefix": "/"}
    target = route["Properties"]["Spec"]["HttpRoute"]["Action"]["Target"]
    assert target == {"VirtualService": {"VirtualServiceName": "web.shop.local"}}
    gateway = _group_id(mesh_shop, "/Ingress/SecurityGroup/")
    web, orders = (_group_id(mesh_shop, f"/{name}/SecurityGroup/") for name in ("Web", "Orders"))
    assert (gateway, 80) in _ports(mesh_shop, "ingress", web)
    assert not any(_peer(rule) == gateway for owner, rule in _rules(mesh_shop, "ingress") if owner == orders)
    assert mesh_shop.findings == []


# On Service Connect: the load balancer forwards straight to each routed service's target group.


@pytest.fixture(scope="module")
def connect(service_connect_ingress_app: CheckedApp) -> Synthesized:
    return service_connect_ingress_app.stack("ConnectIngress")


@pytest.fixture(scope="module")
def connect_variants(service_connect_ingress_app: CheckedApp) -> Synthesized:
    return service_connect_ingress_app.stack("ConnectIngressVariants")


def _ingress_at(checked: CheckedApp, path: str) -> MeshIngress:
    found = [c for c in checked.app.node.find_all() if isinstance(c, MeshIngress) and c.node.path == path]
    assert len(found) == 1, path
    return found[0]


def _listener_rules(synth: Synthesized, ingress: str = "Ingress") -> list[dict[str, Any]]:
    """The ingress's listener rules, by priority."""
    rules = [
        r["Properties"]
        for r in synth.resources("AWS::ElasticLoadBalancingV2::ListenerRule").values()
        if f"/{ingress}/" in r["Metadata"]["aws:cdk:path"]
    ]
    return sorted(rules, key=lambda rule: int(rule["Priority"]))


def _conditions(rule: dict[str, Any]) -> dict[str, list[str]]:
    configs = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}
    return {c["Field"]: c[configs[c["Field"]]]["Values"] for c in rule["Conditions"]}


def _target_group_ref(synth: Synthesized, service: str, ingress: str = "Ingress") -> dict[str, str]:
    return {"Ref": synth.logical_id("AWS::ElasticLoadBalancingV2::TargetGroup", f"/{ingress}/TargetGroup-{service}/")}


def test_connect_listener_rules_match_host_and_path_in_the_order_given(connect: Synthesized) -> None:
    listener = {"Ref": connect.logical_id("AWS::ElasticLoadBalancingV2::Listener", "/Ingress/LoadBalancer/Http/")}
    rules = _listener_rules(connect)
    assert [(rule["Priority"], rule["ListenerArn"]) for rule in rules] == [
        (10, listener),
        (20, listener),
        (30, listener),
    ]
    # An ALB path pattern: "*" matches any characters, so "/api/*" matches what starts with "/api/".
    assert [_conditions(rule) for rule in rules] == [
        {"host-header": ["shop.example.com"], "path-pattern": ["/api/*"]},
        {"path-pattern": ["/docs*"]},
        {"path-pattern": ["/*"]},
    ]
    targets = [_target_group_ref(connect, name) for name in ("api", "web", "web")]
    assert [rule["Actions"] for rule in rules] == [[{"Type": "forward", "TargetGroupArn": t}] for t in targets]


def test_connect_requests_no_route_matches_get_404(connect: Synthesized) -> None:
    listener = connect.resource("AWS::ElasticLoadBalancingV2::Listener", "/Ingress/LoadBalancer/Http/")
    assert (listener["Properties"]["Port"], listener["Properties"]["Protocol"]) == (80, "HTTP")
    assert listener["Properties"]["DefaultActions"] == [
        {
            "Type": "fixed-response",
            "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "Not Found"},
        }
    ]


def test_connect_one_target_group_per_routed_service_with_ip_targets_on_its_port_and_health_path(
    connect: Synthesized,
) -> None:
    groups = connect.resources("AWS::ElasticLoadBalancingV2::TargetGroup")
    assert len(groups) == 2  # web is routed twice, through one target group
    for name, port, path in (("api", 8080, "/healthz"), ("web", 80, "/")):
        group = connect.resource("AWS::ElasticLoadBalancingV2::TargetGroup", f"/Ingress/TargetGroup-{name}/")
        properties = group["Properties"]
        assert (properties["Port"], properties["Protocol"], properties["TargetType"]) == (port, "HTTP", "ip")
        assert (properties["HealthCheckPath"], properties["Matcher"]) == (path, {"HttpCode": "200-299"})
        service = connect.resource("AWS::ECS::Service", f"/{name.title()}/Resource/Service")["Properties"]
        assert service["LoadBalancers"] == [
            {"ContainerName": "app", "ContainerPort": port, "TargetGroupArn": _target_group_ref(connect, name)}
        ]
    ledger = connect.resource("AWS::ECS::Service", "/Ledger/Resource/Service")["Properties"]
    assert "LoadBalancers" not in ledger


def test_connect_routed_services_are_created_after_their_rules_with_a_grace_period(connect: Synthesized) -> None:
    for name, rules in (("api", ["api"]), ("web", ["docs", "web"])):
        service = connect.resource("AWS::ECS::Service", f"/{name.title()}/Resource/Service")
        assert service["Properties"]["HealthCheckGracePeriodSeconds"] == 60
        for rule in rules:
            assert (
                connect.logical_id("AWS::ElasticLoadBalancingV2::ListenerRule", f"/Rule-{rule}/")
                in service["DependsOn"]
            )
    assert connect_ingress.HEALTH_CHECK_GRACE_PERIOD.to_seconds() == 60
    ledger = connect.resource("AWS::ECS::Service", "/Ledger/Resource/Service")["Properties"]
    assert "HealthCheckGracePeriodSeconds" not in ledger


def test_connect_has_no_gateway(connect: Synthesized) -> None:
    for resource_type in ("AWS::AppMesh::VirtualGateway", "AWS::AppMesh::GatewayRoute", "AWS::AppMesh::Mesh"):
        assert connect.resources(resource_type) == {}
    paths = {r["Metadata"]["aws:cdk:path"] for r in connect.resources("AWS::ECS::Service").values()}
    assert not any(path.startswith("ConnectIngress/Ingress/") for path in paths)


def test_connect_internet_reaches_the_listener_and_the_load_balancer_only_the_routed_ports(
    connect: Synthesized,
) -> None:
    load_balancer = _group_id(connect, "/Ingress/LoadBalancerSecurityGroup/")
    group = {name: _group_id(connect, f"/{name.title()}/SecurityGroup/") for name in ("api", "web", "ledger")}
    open_rules = [(g, rule) for g, rule in _rules(connect, "ingress") if "CidrIp" in rule or "CidrIpv6" in rule]
    assert [(g, rule["CidrIp"], rule["FromPort"], rule["ToPort"]) for g, rule in open_rules] == [
        (load_balancer, ANYWHERE, 80, 80)
    ]
    from_load_balancer = [rule for g, rule in _rules(connect, "egress") if g == load_balancer]
    assert {(_peer(rule), rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in from_load_balancer} == {
        (group["api"], "tcp", 8080, 8080),
        (group["web"], "tcp", 80, 80),
    }  # and no "all outbound": an egress rule of its own replaces EC2's default one
    assert _ports(connect, "ingress", group["api"]) == {(load_balancer, 8080)}
    assert _ports(connect, "ingress", group["web"]) == {(load_balancer, 80)}
    assert (group["api"], 5432) in _ports(connect, "ingress", group["ledger"])
    assert not any(_peer(rule) == load_balancer for g, rule in _rules(connect, "ingress") if g == group["ledger"])
    groups = {r["Metadata"]["aws:cdk:path"] for r in connect.resources("AWS::EC2::SecurityGroup").values()}
    assert {path for path in groups if path.startswith("ConnectIngress/Ingress/")} == {
        "ConnectIngress/Ingress/LoadBalancerSecurityGroup/Resource"
    }


def test_connect_routed_services_are_exposed_to_the_ingress(service_connect_ingress_app: CheckedApp) -> None:
    ingress = _ingress_at(service_connect_ingress_app, "ConnectIngress/Ingress")
    services = {route.service.name: route.service for route in ingress.routes}
    assert services["api"].exposed_to == [ingress.node.path]
    assert services["web"].exposed_to == [ingress.node.path]  # once, though routed twice
    assert ingress.connections.security_groups == [ingress.load_balancer_security_group]


def test_connect_alb_drops_invalid_headers_and_logs_access(connect: Synthesized) -> None:
    load_balancer = connect.resource("AWS::ElasticLoadBalancingV2::LoadBalancer", "/Ingress/")["Properties"]
    assert (load_balancer["Type"], load_balancer["Scheme"]) == ("application", "internet-facing")
    attributes = {a["Key"]: a["Value"] for a in load_balancer["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": connect.logical_id("AWS::S3::Bucket", "/Ingress/AccessLogs/")}


def test_connect_certificate_serves_https_on_443_with_the_rules_and_redirects_http(
    connect_variants: Synthesized,
) -> None:
    https_path = "/Secure/LoadBalancer/Https/"
    https = connect_variants.resource("AWS::ElasticLoadBalancingV2::Listener", https_path)["Properties"]
    assert (https["Port"], https["Protocol"]) == (443, "HTTPS")
    assert https["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert https["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    (rule,) = _listener_rules(connect_variants, "Secure")
    listener_id = connect_variants.logical_id("AWS::ElasticLoadBalancingV2::Listener", https_path)
    assert rule["ListenerArn"] == {"Ref": listener_id}
    assert _conditions(rule) == {"path-pattern": ["/*"]}
    redirect = connect_variants.resource("AWS::ElasticLoadBalancingV2::Listener", "/Secure/LoadBalancer/Redirect")
    assert (redirect["Properties"]["Port"], redirect["Properties"]["Protocol"]) == (80, "HTTP")
    assert redirect["Properties"]["DefaultActions"] == [
        {"Type": "redirect", "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}}
    ]
    group = _group_id(connect_variants, "/Secure/LoadBalancerSecurityGroup/")
    assert _ports(connect_variants, "ingress", group) == {(ANYWHERE, 80), (ANYWHERE, 443)}
    target_group = connect_variants.resource("AWS::ElasticLoadBalancingV2::TargetGroup", "/Secure/TargetGroup-site/")
    assert target_group["Properties"]["HealthCheckPath"] == "/up"


def test_connect_nlb_passes_tcp_straight_to_its_one_service(connect_variants: Synthesized) -> None:
    load_balancer = connect_variants.resource("AWS::ElasticLoadBalancingV2::LoadBalancer", "/Tcp/")["Properties"]
    assert (load_balancer["Type"], load_balancer["Scheme"]) == ("network", "internet-facing")
    listener = connect_variants.resource("AWS::ElasticLoadBalancingV2::Listener", "/Tcp/LoadBalancer/")["Properties"]
    assert (listener["Port"], listener["Protocol"]) == (80, "TCP")
    assert listener["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": _target_group_ref(connect_variants, "site", "Tcp")}
    ]
    assert _listener_rules(connect_variants, "Tcp") == []
    target_group = connect_variants.resource("AWS::ElasticLoadBalancingV2::TargetGroup", "/Tcp/TargetGroup-site/")
    properties = target_group["Properties"]
    assert (properties["Port"], properties["Protocol"], properties["TargetType"]) == (8080, "TCP", "ip")
    assert (properties["HealthCheckProtocol"], properties["HealthCheckPath"]) == ("HTTP", "/up")
    load_balancer_group, site = (_group_id(connect_variants, p) for p in ("/Tcp/LoadBalancerSecurityGroup/", "/Site/"))
    assert _ports(connect_variants, "ingress", load_balancer_group) == {(ANYWHERE, 80)}
    assert _ports(connect_variants, "egress", load_balancer_group) == {(site, 8080)}
    assert (load_balancer_group, 8080) in _ports(connect_variants, "ingress", site)
    tls = connect_variants.resource("AWS::ElasticLoadBalancingV2::Listener", "/Tls/LoadBalancer/")["Properties"]
    assert (tls["Port"], tls["Protocol"], tls["Certificates"]) == (443, "TLS", [{"CertificateArn": CERTIFICATE_ARN}])
    tls_group = _group_id(connect_variants, "/Tls/LoadBalancerSecurityGroup/")
    assert _ports(connect_variants, "ingress", tls_group) == {(ANYWHERE, 443)}


def test_connect_site_admits_each_of_its_load_balancers_on_its_port_only(connect_variants: Synthesized) -> None:
    site = _group_id(connect_variants, "/Site/")
    load_balancers = {
        _group_id(connect_variants, f"/{name}/LoadBalancerSecurityGroup/") for name in ("Secure", "Tcp", "Tls")
    }
    assert _ports(connect_variants, "ingress", site) == {(group, 8080) for group in load_balancers}


def test_connect_ingress_in_its_own_stack_deploys_before_the_services_it_routes_to(
    service_connect_ingress_app: CheckedApp,
) -> None:
    stacks = {s.stack_name: s for s in service_connect_ingress_app.app.node.children if isinstance(s, cdk.Stack)}
    assert {s.stack_name for s in stacks["ConnectEdge"].dependencies} == {"ConnectPlatform"}
    assert {s.stack_name for s in stacks["ConnectServices"].dependencies} == {"ConnectPlatform", "ConnectEdge"}
    edge = service_connect_ingress_app.stack("ConnectEdge")
    assert "ConnectServices" not in str(edge.json)  # the edge imports nothing from the services
    services = service_connect_ingress_app.stack("ConnectServices")
    (service,) = services.resources("AWS::ECS::Service").values()
    (load_balancer,) = service["Properties"]["LoadBalancers"]
    assert "ConnectEdge:" in load_balancer["TargetGroupArn"]["Fn::ImportValue"]
    assert service["Properties"]["HealthCheckGracePeriodSeconds"] == 60
    # Both rules between the load balancer and the service live with the service, on its port only.
    shop = _group_id(services, "/Shop/SecurityGroup/")
    ingress_rules = [rule for group, rule in _rules(services, "ingress") if group == shop]
    egress_rules = list(services.resources("AWS::EC2::SecurityGroupEgress").values())
    assert [(r["FromPort"], "ConnectEdge:" in str(r["SourceSecurityGroupId"])) for r in ingress_rules] == [(8080, True)]
    assert [(r["Properties"]["FromPort"], "ConnectEdge:" in str(r["Properties"]["GroupId"])) for r in egress_rules] == [
        (8080, True)
    ]


def test_connect_ingress_exposes_plane_neutral_parts_and_its_target_groups(
    service_connect_ingress_app: CheckedApp,
) -> None:
    ingress = _ingress_at(service_connect_ingress_app, "ConnectIngress/Ingress")
    assert [route.route_name for route in ingress.routes] == ["api", "docs", "web"]
    assert ingress.load_balancer_type is IngressLoadBalancer.ALB
    assert ingress.public_ports == (80,) and ingress.redirect_listener is None
    assert ingress.listener.node.path == "ConnectIngress/Ingress/LoadBalancer/Http"
    assert ingress.access_logs_bucket.node.path == "ConnectIngress/Ingress/AccessLogs"
    assert ingress.dns_name == ingress.load_balancer.load_balancer_dns_name
    assert {name: group.node.id for name, group in ingress.target_groups.items()} == {
        "api": "TargetGroup-api",
        "docs": "TargetGroup-web",
        "web": "TargetGroup-web",
    }
    assert list(ingress.listener_rules) == ["api", "docs", "web"]
    assert [route.service.health_check_path for route in ingress.routes] == ["/healthz", "/", "/"]
    tcp = _ingress_at(service_connect_ingress_app, "ConnectIngressVariants/Tcp")
    assert list(tcp.target_groups) == ["site"] and tcp.listener_rules == {}


@pytest.mark.parametrize(
    "attribute",
    ["virtual_gateway", "gateway_routes", "gateway", "envoy_container", "task_definition", "service", "port"],
)
def test_connect_ingress_has_no_gateway_parts(service_connect_ingress_app: CheckedApp, attribute: str) -> None:
    ingress = _ingress_at(service_connect_ingress_app, "ConnectIngress/Ingress")
    with pytest.raises(
        AttributeError, match=rf"MeshIngress 'Ingress': on DataPlane.service_connect\(\) .*'{attribute}'"
    ):
        getattr(ingress, attribute)


def test_app_mesh_ingress_has_no_target_groups_by_route(ingress_app: IngressApp) -> None:
    for attribute in ("target_groups", "listener_rules"):
        with pytest.raises(AttributeError, match=r"on DataPlane.app_mesh\(\) the ingress has no .*target_group"):
            getattr(ingress_app.ingress, attribute)
    assert ingress_app.ingress.target_group.node.path == "Ingress/Ingress/TargetGroup"


def test_connect_cdk_nag_finds_nothing_and_the_open_group_and_log_bucket_say_why(
    service_connect_ingress_app: CheckedApp,
) -> None:
    for name, stack in service_connect_ingress_app.stacks():
        assert stack.findings == [], name
    acknowledged = {(f["rule"], f["path"]): f for f in service_connect_ingress_app.stack("ConnectIngress").acknowledged}
    for rule, path in (
        (OPEN_INGRESS_RULE, "ConnectIngress/Ingress/LoadBalancerSecurityGroup/Resource"),
        (SERVER_ACCESS_LOGS_RULE, "ConnectIngress/Ingress/AccessLogs/Resource"),
    ):
        finding = acknowledged[(rule.split("::", 1)[1], path)]
        assert finding["acknowledged_at"] == path  # on the resource itself
        assert len(finding["reason"]) >= 40


def test_connect_topology_draws_the_ingress_in_front_of_the_services_it_routes_to(
    service_connect_ingress_app: CheckedApp,
) -> None:
    stack = service_connect_ingress_app.app.node.find_child("ConnectIngress")
    lines = mermaid_topology(stack).splitlines()
    assert '  subgraph c0["front.local (DataPlane.service_connect())"]' in lines
    assert '  peer0(["Ingress<br/>public ALB :80"])' in lines
    assert '  peer0 ==>|"shop.example.com/api/"| c0_api' in lines
    assert '  peer0 ==>|"/docs · /"| c0_web' in lines
    assert not any("c0_ledger" in line and "peer0" in line for line in lines)


# On Service Connect, a routed service's canary, linear or blue/green rollout shifts the ALB's traffic too.


@pytest.fixture(scope="module")
def released(service_connect_ingress_app: CheckedApp) -> Synthesized:
    return service_connect_ingress_app.stack("ConnectRollouts")


def _ref(synth: Synthesized, resource_type: str, path: str) -> dict[str, str]:
    return {"Ref": synth.logical_id(resource_type, path)}


def _weighted(synth: Synthesized, service: str) -> list[dict[str, Any]]:
    """A forward action to the service's target group (all of it) and its alternate (none yet)."""
    group = "AWS::ElasticLoadBalancingV2::TargetGroup"
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": _ref(synth, group, f"/Ingress/TargetGroup-{service}/"), "Weight": 100},
                    {"TargetGroupArn": _ref(synth, group, f"/Ingress/AlternateTargetGroup-{service}/"), "Weight": 0},
                ]
            },
        }
    ]


def _load_balancers(synth: Synthesized, service: str) -> list[dict[str, Any]]:
    properties = synth.resource("AWS::ECS::Service", f"/{service}/Resource/Service")["Properties"]
    entries: list[dict[str, Any]] = properties["LoadBalancers"]
    return entries


def test_a_shifted_services_ecs_service_names_its_alternate_group_rules_and_role(released: Synthesized) -> None:
    rule = "AWS::ElasticLoadBalancingV2::ListenerRule"
    for service, name in (("Orders", "orders"), ("Billing", "billing")):
        assert _load_balancers(released, service) == [
            {
                "ContainerName": "app",
                "ContainerPort": 8080,
                "TargetGroupArn": _ref(released, "AWS::ElasticLoadBalancingV2::TargetGroup", f"/TargetGroup-{name}/"),
                "AdvancedConfiguration": {
                    "AlternateTargetGroupArn": _ref(
                        released, "AWS::ElasticLoadBalancingV2::TargetGroup", f"/AlternateTargetGroup-{name}/"
                    ),
                    "ProductionListenerRule": _ref(released, rule, f"/Ingress/Rule-{name}/"),
                    "TestListenerRule": _ref(released, rule, f"/Ingress/TestRule-{name}/"),
                    "RoleArn": {
                        "Fn::GetAtt": [released.logical_id("AWS::IAM::Role", f"/TrafficShiftRole-{name}/"), "Arn"]
                    },
                },
            }
        ]


def test_the_alternate_group_is_the_primarys_twin(released: Synthesized) -> None:
    primary = released.resource("AWS::ElasticLoadBalancingV2::TargetGroup", "/TargetGroup-orders/")["Properties"]
    alternate = released.resource("AWS::ElasticLoadBalancingV2::TargetGroup", "/AlternateTargetGroup-orders/")
    assert alternate["Properties"] == primary
    assert (primary["TargetType"], primary["Port"], primary["HealthCheckPath"]) == (
        "ip",
        8080,
        DEFAULT_HEALTH_CHECK_PATH,
    )


def test_test_rules_come_just_before_their_production_rules_in_the_order_of_the_routes(released: Synthesized) -> None:
    rules = _listener_rules(released)
    header = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}

    def conditions(rule: dict[str, Any]) -> dict[str, Any]:
        return {
            c["Field"]: c["HttpHeaderConfig"] if c["Field"] == "http-header" else c[header[c["Field"]]]["Values"]
            for c in rule["Conditions"]
        }

    assert [(rule["Priority"], conditions(rule)) for rule in rules] == [
        (9, {"path-pattern": ["/orders/*"], "http-header": {"HttpHeaderName": "x-canary", "Values": ["true"]}}),
        (10, {"path-pattern": ["/orders/*"]}),
        (
            19,
            {
                "host-header": ["shop.example.com"],
                "path-pattern": ["/billing/*"],
                "http-header": {"HttpHeaderName": BLUE_GREEN_HEADER[0], "Values": [BLUE_GREEN_HEADER[1]]},
            },
        ),
        (20, {"host-header": ["shop.example.com"], "path-pattern": ["/billing/*"]}),
        (30, {"path-pattern": ["/*"]}),
    ]
    assert TEST_HEADER == ("x-canary", "true")
    weighted = [_weighted(released, name) for name in ("orders", "orders", "billing", "billing")]
    assert [rule["Actions"] for rule in rules[:4]] == weighted


def test_ecs_may_change_only_the_services_target_groups_and_rules(released: Synthesized) -> None:
    role = released.resource("AWS::IAM::Role", "/Ingress/TrafficShiftRole-orders/")["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    group = "AWS::ElasticLoadBalancingV2::TargetGroup"
    rule = "AWS::ElasticLoadBalancingV2::ListenerRule"
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": [
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            "Effect": "Allow",
            "Resource": "*",
        },
        {
            "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            "Effect": "Allow",
            "Resource": [
                _ref(released, group, "/TargetGroup-orders/"),
                _ref(released, group, "/AlternateTargetGroup-orders/"),
            ],
        },
        {
            "Action": "elasticloadbalancing:ModifyRule",
            "Effect": "Allow",
            "Resource": [_ref(released, rule, "/Ingress/Rule-orders/"), _ref(released, rule, "/TestRule-orders/")],
        },
    ]


def test_the_roles_describe_actions_on_any_resource_are_acknowledged_with_their_reason(
    service_connect_ingress_app: CheckedApp,
) -> None:
    stack = service_connect_ingress_app.stack("ConnectRollouts")
    assert stack.findings == []
    acknowledged = {(f["rule"], f["path"]): f for f in stack.acknowledged}
    path = "ConnectRollouts/Ingress/TrafficShiftRole-orders/Resource"
    finding = acknowledged[(WILDCARD_RESOURCE_RULE.split("::", 1)[1], path)]
    assert finding["acknowledged_at"] == path
    assert "Describe actions have no resource-level permissions" in finding["reason"]


def test_a_rolling_service_keeps_its_single_target_group_and_rule(released: Synthesized, connect: Synthesized) -> None:
    assert _load_balancers(released, "Web") == [
        {
            "ContainerName": "app",
            "ContainerPort": 8080,
            "TargetGroupArn": _ref(released, "AWS::ElasticLoadBalancingV2::TargetGroup", "/TargetGroup-web/"),
        }
    ]
    assert _listener_rules(released)[-1]["Actions"] == [
        {
            "Type": "forward",
            "TargetGroupArn": _ref(released, "AWS::ElasticLoadBalancingV2::TargetGroup", "/TargetGroup-web/"),
        }
    ]
    # An ingress of rolling services only: no alternate group, test rule or role.
    for resource_type, path in (
        ("AWS::ElasticLoadBalancingV2::TargetGroup", "/AlternateTargetGroup-"),
        ("AWS::ElasticLoadBalancingV2::ListenerRule", "/TestRule-"),
        ("AWS::IAM::Role", "/TrafficShiftRole-"),
    ):
        assert not [r for r in connect.resources(resource_type).values() if path in r["Metadata"]["aws:cdk:path"]]
    assert all("AdvancedConfiguration" not in entry for entry in _load_balancers(connect, "Web"))


def test_a_shifted_service_scales_on_both_target_groups_requests(
    service_connect_ingress_app: CheckedApp,
) -> None:
    ingress = _ingress_at(service_connect_ingress_app, "ConnectRollouts/Ingress")
    assert set(ingress.alternate_target_groups) == set(ingress.test_listener_rules) == {"orders", "billing"}
    assert ingress.test_listener_rules["orders"].node.path == "ConnectRollouts/Ingress/TestRule-orders"
    orders = next(route.service for route in ingress.routes if route.route_name == "orders")
    assert orders._target_groups == [ingress.target_groups["orders"], ingress.alternate_target_groups["orders"]]


# Refusals: each names the parameter, the value and the fix, and creates nothing.


@pytest.fixture(scope="module")
def refusals() -> dict[str, Any]:
    """One stack with the clusters and services that bad ingresses are tried against."""
    stack = cdk.Stack(cdk.App(), "Refusals", env=ENV)
    image = ecs.ContainerImage.from_registry(NGINX)
    cluster = MeshedCluster(stack, "Cluster", namespace="refusals.local", data_plane=DataPlane.app_mesh())
    other = MeshedCluster(stack, "Other", namespace="other.local", vpc=cluster.vpc, data_plane=DataPlane.app_mesh())
    connect = MeshedCluster(
        stack, "Connect", namespace="connect.local", vpc=cluster.vpc, data_plane=DataPlane.service_connect()
    )
    authority = acmpca.CertificateAuthority.from_certificate_authority_arn(
        stack, "Authority", f"arn:aws:acm-pca:{REGION}:123456789012:certificate-authority/0123abcd"
    )
    secure = MeshedCluster(
        stack,
        "Secure",
        namespace="secure.local",
        vpc=cluster.vpc,
        data_plane=DataPlane.app_mesh(tls=MeshTls.private_ca(authority)),
    )
    return {
        "stack": stack,
        "cluster": cluster,
        "web": MeshedService(stack, "Web", cluster=cluster, name="web", image=image),
        "db": MeshedService(
            stack, "Db", cluster=cluster, name="db", image=image, port=5432, protocol=ListenerProtocol.TCP
        ),
        "stranger": MeshedService(stack, "Stranger", cluster=other, name="stranger", image=image),
        "connect_cluster": connect,
        "connected": MeshedService(stack, "Connected", cluster=connect, name="connected", image=image),
        "released": MeshedService(
            stack,
            "Released",
            cluster=connect,
            name="released",
            image=image,
            rollout=Rollout.canary(test_header=TEST_HEADER),
        ),
        "unheaded": MeshedService(
            stack, "Unheaded", cluster=connect, name="unheaded", image=image, rollout=Rollout.blue_green()
        ),
        "long_header": MeshedService(
            stack,
            "LongHeader",
            cluster=connect,
            name="long-header",
            image=image,
            rollout=Rollout.canary(test_header=("x-" + "a" * 39, "true")),
        ),
        "starred": MeshedService(
            stack,
            "Starred",
            cluster=connect,
            name="starred",
            image=image,
            rollout=Rollout.linear(test_header=("x-canary", "t*e")),
        ),
        "secure_cluster": secure,
        "secured": MeshedService(stack, "Secured", cluster=secure, name="secured", image=image),
    }


def _assert_ingress_refused(
    refusals: dict[str, Any], error: type[Exception], fragments: list[str], **overrides: Any
) -> None:
    """An ingress with ``overrides`` (default: a plain-HTTP route to the App Mesh web service) must be refused."""
    stack = refusals["stack"]
    arguments = {
        "cluster": refusals["cluster"],
        "routes": [IngressRoute(service=refusals["web"])],
        "allow_plain_http": True,
        **overrides,
    }
    assert_refused(lambda: MeshIngress(stack, "Ingress", **arguments), *fragments, error=error, within=stack)


def test_a_path_prefix_must_start_with_a_slash(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["routes[0].path_prefix='api'", "must start with '/'", "e.g. '/api/'"],
        routes=[IngressRoute(service=refusals["web"], path_prefix="api")],
    )


def test_a_host_name_must_be_a_lower_case_dns_name(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["routes[0].hostname='Shop Example'", "e.g. 'shop.example.com'"],
        routes=[IngressRoute(service=refusals["web"], hostname="Shop Example")],
    )


def test_a_route_to_a_service_of_another_cluster_is_refused(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["routes[0].service 'stranger'", "'Refusals/Other'", "'Refusals/Cluster'", "ingress of its own"],
        routes=[IngressRoute(service=refusals["stranger"])],
    )


def test_an_ingress_needs_a_route(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(refusals, ValueError, ["routes is empty", "[IngressRoute(service=web)]"], routes=[])


def test_a_route_needs_a_meshed_service(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        TypeError,
        ["routes[0].service='web'", "is a str", "pass a MeshedService"],
        routes=[IngressRoute(service="web")],  # type: ignore[arg-type]
    )


def test_routes_must_be_ingress_routes(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(refusals, TypeError, ["routes[0]=", "pass an IngressRoute"], routes=[refusals["web"]])


def test_gateway_validates_the_services_certificates_in_a_tls_mesh() -> None:
    stack = cdk.Stack(cdk.App(), "SecureIngress", env=cdk.Environment(account="123456789012", region=REGION))
    authority_arn = f"arn:aws:acm-pca:{REGION}:123456789012:certificate-authority/0123abcd"
    authority = acmpca.CertificateAuthority.from_certificate_authority_arn(stack, "Authority", authority_arn)
    cluster = MeshedCluster(
        stack, "Cluster", namespace="secure.local", data_plane=DataPlane.app_mesh(tls=MeshTls.private_ca(authority))
    )
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=ecs.ContainerImage.from_registry(NGINX))
    MeshIngress(stack, "Ingress", cluster=cluster, routes=[IngressRoute(service=web)], allow_plain_http=True)
    template = Template.from_stack(stack).to_json()
    (gateway,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::AppMesh::VirtualGateway"]
    policy = gateway["Properties"]["Spec"]["BackendDefaults"]["ClientPolicy"]["TLS"]
    assert policy["Validation"]["Trust"] == {"ACM": {"CertificateAuthorityArns": [authority_arn]}}
    gateway_policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and "Ingress" in str(r["Properties"]["Roles"])
    ]
    actions = {str(s["Action"]) for statements in gateway_policies for s in statements}
    assert "acm-pca:GetCertificateAuthorityCertificate" in actions
    assert "acm:ExportCertificate" not in actions  # the gateway serves no mesh certificate


def test_only_http_services_can_be_routed_to(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["routes[0].service 'db' listens with tcp", "expose_to(load_balancer)"],
        routes=[IngressRoute(service=refusals["db"])],
    )


def test_route_names_are_unique(refusals: dict[str, Any]) -> None:
    web = refusals["web"]
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["routes[1] is named 'web' like routes[0]", "IngressRoute(name=...)"],
        routes=[IngressRoute(service=web, path_prefix="/a"), IngressRoute(service=web, path_prefix="/b")],
    )


def test_a_route_that_an_earlier_one_hides_is_refused(refusals: dict[str, Any]) -> None:
    web = refusals["web"]
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["routes[1] (shop.example.com/api) is never reached", "routes[0] (/)", "List the more specific route first"],
        routes=[
            IngressRoute(service=web, name="all"),
            IngressRoute(service=web, path_prefix="/api", hostname="shop.example.com"),
        ],
    )


def test_the_listener_port_must_not_be_one_envoy_uses(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(refusals, ValueError, ["port=9901 is reserved"], port=9901)  # Envoy's admin port


def test_load_balancer_and_certificate_types_are_checked(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        TypeError,
        ["load_balancer='alb'", "pass an IngressLoadBalancer", "certificate='arn:aws:acm:x'", "pass an ICertificate"],
        load_balancer="alb",
        certificate="arn:aws:acm:x",
    )


def test_every_problem_is_reported_at_once(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["routes[0].path_prefix='x'", "routes[1].hostname='-bad-'", "memory_limit_mib=100", "desired_count=0"],
        routes=[
            IngressRoute(service=refusals["web"], path_prefix="x"),
            IngressRoute(service=refusals["web"], hostname="-bad-", name="other"),
        ],
        memory_limit_mib=100,
        desired_count=0,
    )


def test_gateway_memory_under_both_names_is_refused(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["memory_mib=1024 and memory_limit_mib=2048 are both given", "Pass memory_limit_mib only."],
        memory_mib=1024,
        memory_limit_mib=2048,
    )


def test_gateway_memory_limit_mib_sizes_the_task_and_memory_mib_is_its_deprecated_alias() -> None:
    stack = cdk.Stack(cdk.App(), "GatewayMemory", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="memory.local", data_plane=DataPlane.app_mesh())
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=ecs.ContainerImage.from_registry(NGINX))
    routes = [IngressRoute(service=web)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new name warns of nothing
        MeshIngress(stack, "Sized", cluster=cluster, routes=routes, allow_plain_http=True, memory_limit_mib=1024)
    deprecated = r"memory_mib is deprecated: use memory_limit_mib.*removed in 2\.0"
    with pytest.warns(DeprecationWarning, match=deprecated) as w:
        MeshIngress(stack, "Aliased", cluster=cluster, routes=routes, allow_plain_http=True, memory_mib=2048)
    assert [warning.filename for warning in w] == [__file__]  # the warning points at the application's call
    template = Template.from_stack(stack)
    for path, memory in (("Sized", "1024"), ("Aliased", "2048")):
        (definition,) = template.find_resources(
            "AWS::ECS::TaskDefinition", {"Properties": {"Family": Match.string_like_regexp(f"GatewayMemory{path}")}}
        ).values()
        assert definition["Properties"]["Memory"] == memory


def test_a_stack_without_a_region_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Anywhere")
    cluster = MeshedCluster(stack, "Cluster", namespace="anywhere.local", data_plane=DataPlane.app_mesh())
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=ecs.ContainerImage.from_registry(NGINX))
    with pytest.raises(ValueError, match=r"stack 'Anywhere' has no region.*env=cdk.Environment\(region="):
        MeshIngress(stack, "Ingress", cluster=cluster, routes=[IngressRoute(service=web)], allow_plain_http=True)
    assert stack.node.try_find_child("Ingress") is None


# Plain HTTP fails closed, on both data planes.


@pytest.mark.parametrize("plane", ["app_mesh", "service_connect"])
@pytest.mark.parametrize(
    ("load_balancer", "served", "secure"),
    [
        (IngressLoadBalancer.ALB, "plain HTTP on port 80", "serve HTTPS on 443 and redirect HTTP on 80 to it"),
        (IngressLoadBalancer.NLB, "plain TCP on port 80", "terminate TLS on 443"),
    ],
)
def test_without_a_certificate_plain_http_must_be_allowed_on_purpose(
    refusals: dict[str, Any], plane: str, load_balancer: IngressLoadBalancer, served: str, secure: str
) -> None:
    cluster, service = (
        (refusals["cluster"], refusals["web"])
        if plane == "app_mesh"
        else (refusals["connect_cluster"], refusals["connected"])
    )
    _assert_ingress_refused(
        refusals,
        ValueError,
        [
            f"no certificate is given, so the load balancer would serve {served}",
            f"Pass certificate=<an ACM certificate for your host names> to {secure}",
            "or allow_plain_http=True",
        ],
        cluster=cluster,
        routes=[IngressRoute(service=service)],
        load_balancer=load_balancer,
        allow_plain_http=False,
    )


def test_allow_plain_http_with_a_certificate_is_refused(refusals: dict[str, Any]) -> None:
    certificate = acm.Certificate.from_certificate_arn(refusals["stack"], "Certificate", CERTIFICATE_ARN)
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["allow_plain_http=True is given with a certificate", "drop allow_plain_http"],
        certificate=certificate,
    )


def test_allow_plain_http_must_be_a_bool(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals, TypeError, ["allow_plain_http='yes' is a str; pass a bool."], allow_plain_http="yes"
    )


# What a load balancer forwarding straight to the services cannot do (Service Connect).


def _connect_route(refusals: dict[str, Any], **route: Any) -> dict[str, Any]:
    return {
        "cluster": refusals["connect_cluster"],
        "routes": [IngressRoute(service=refusals["connected"], **route)],
    }


def test_connect_refuses_to_strip_the_prefix(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        [
            "routes[0].strip_prefix=True",
            "the load balancer forwards the path unchanged (it cannot rewrite '/api/' to '/')",
            "Drop strip_prefix (it is False on Service Connect)",
            "service 'connected' answer under '/api/'",
            "DataPlane.app_mesh()",
        ],
        **_connect_route(refusals, path_prefix="/api/", strip_prefix=True),
    )


def test_strip_prefix_must_be_a_bool(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        TypeError,
        ["routes[0].strip_prefix='no' is a str; pass a bool."],
        routes=[IngressRoute(service=refusals["web"], strip_prefix="no")],  # type: ignore[arg-type]
    )


def test_connect_refuses_every_gateway_option_by_name(refusals: dict[str, Any]) -> None:
    options: dict[str, Any] = {
        "port": 9000,
        "cpu": 512,
        "memory_limit_mib": 1024,
        "desired_count": 3,
        "log_retention": logs.RetentionDays.ONE_WEEK,
        "removal_policy": cdk.RemovalPolicy.DESTROY,
    }
    _assert_ingress_refused(
        refusals,
        ValueError,
        [f"{name} is given, and on DataPlane.service_connect() no gateway stands" for name in options]
        + ["Remove port", "Remove removal_policy", "no gateway listener port", "no gateway task size"],
        **_connect_route(refusals),
        **options,
    )


def test_connect_path_prefix_must_not_hold_a_wildcard(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        ["routes[0].path_prefix='/a*b'", "reads as a wildcard", "e.g. '/api/'"],
        **_connect_route(refusals, path_prefix="/a*b"),
    )


def test_connect_path_pattern_and_host_name_fit_an_alb_condition(refusals: dict[str, Any]) -> None:
    long_host = ".".join(["a" * 60, "b" * 60, "example"])  # 129 characters, a valid DNS name
    _assert_ingress_refused(
        refusals,
        ValueError,
        [
            "routes[0].path_prefix is 128 characters long; a load balancer's path pattern holds at most 128",
            "routes[0].hostname is 129 characters long; a load balancer matches host names of at most 128",
        ],
        **_connect_route(refusals, path_prefix="/" + "p" * 127, hostname=long_host),
    )


def test_connect_nlb_takes_exactly_one_route_for_every_path_and_host(refusals: dict[str, Any]) -> None:
    connected = refusals["connected"]
    fragments = [
        "load_balancer=IngressLoadBalancer.NLB on DataPlane.service_connect()",
        "cannot match paths or host names",
        "exactly one route with path_prefix '/' and no hostname",
        "use load_balancer=IngressLoadBalancer.ALB",
    ]
    for routes, got in (
        ([IngressRoute(service=connected, path_prefix="/api/")], "(got routes[0] (/api/))"),
        ([IngressRoute(service=connected, hostname="shop.example.com")], "(got routes[0] (shop.example.com/))"),
        (
            [IngressRoute(service=connected, path_prefix="/a"), IngressRoute(service=connected, name="rest")],
            "(got routes[0] (/a), routes[1] (/))",
        ),
    ):
        _assert_ingress_refused(
            refusals,
            ValueError,
            [*fragments, got],
            cluster=refusals["connect_cluster"],
            routes=routes,
            load_balancer=IngressLoadBalancer.NLB,
        )


def test_connect_service_in_five_ingresses_target_groups_takes_no_sixth() -> None:
    stack = cdk.Stack(cdk.App(), "Crowded", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="crowd.local", data_plane=DataPlane.service_connect())
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=ecs.ContainerImage.from_registry(NGINX))
    # ECS Developer Guide, "Use load balancing to distribute Amazon ECS service traffic": at most 5 target groups.
    for index in range(5):
        MeshIngress(stack, f"Front{index}", cluster=cluster, routes=[IngressRoute(service=web)], allow_plain_http=True)
    with pytest.raises(ValueError) as raised:
        MeshIngress(stack, "Sixth", cluster=cluster, routes=[IngressRoute(service=web)], allow_plain_http=True)
    assert "service 'web' is in the target groups of 5 ingresses already" in str(raised.value)
    assert "ECS attaches a service to at most 5 target groups" in str(raised.value)
    assert stack.node.try_find_child("Sixth") is None


# Where an ingress's stack may deploy: after its services on App Mesh, before them on Service Connect.


@pytest.fixture(scope="module")
def placements() -> dict[str, Any]:
    """Stacks deployed in orders that leave an ingress no place; dependencies added before the library sees them."""
    app = cdk.App()
    image = ecs.ContainerImage.from_registry(NGINX)
    platform = cdk.Stack(app, "Platform", env=ENV)
    cluster = MeshedCluster(platform, "Cluster", namespace="placed.local", data_plane=DataPlane.service_connect())
    services, edge = cdk.Stack(app, "Services", env=ENV), cdk.Stack(app, "Edge", env=ENV)
    edge.add_stack_dependency(services)
    mesh_platform = cdk.Stack(app, "MeshPlatform", env=ENV)
    meshed = MeshedCluster(
        mesh_platform, "Cluster", namespace="meshed.local", vpc=cluster.vpc, data_plane=DataPlane.app_mesh()
    )
    mesh_services, mesh_edge = cdk.Stack(app, "MeshServices", env=ENV), cdk.Stack(app, "MeshEdge", env=ENV)
    mesh_services.add_stack_dependency(mesh_edge)
    late, early = cdk.Stack(app, "LateCluster", env=ENV), cdk.Stack(app, "EarlyIngress", env=ENV)
    late.add_stack_dependency(early)
    late_cluster = MeshedCluster(
        late, "Cluster", namespace="late.local", vpc=cluster.vpc, data_plane=DataPlane.service_connect()
    )
    return {
        "cluster": cluster,
        "shop": MeshedService(services, "Shop", cluster=cluster, name="shop", image=image),
        "local": MeshedService(platform, "Local", cluster=cluster, name="local", image=image),
        "edge": edge,
        "apart": cdk.Stack(app, "Apart", env=ENV),
        "meshed": meshed,
        "mesh_shop": MeshedService(mesh_services, "Shop", cluster=meshed, name="shop", image=image),
        "mesh_edge": mesh_edge,
        "late_cluster": late_cluster,
        "late_web": MeshedService(late, "Web", cluster=late_cluster, name="web", image=image),
        "early": early,
    }


def _assert_refused_in(stack: cdk.Stack, fragments: list[str], **arguments: Any) -> None:
    build = lambda: MeshIngress(stack, "Ingress", allow_plain_http=True, **arguments)  # noqa: E731
    dependencies = lambda: {s.stack_name for s in stack.dependencies}  # noqa: E731
    assert_refused(build, *fragments, error=ValueError, within=stack, unchanged=dependencies)
    assert stack.node.try_find_child("Ingress") is None


def test_connect_ingress_in_a_stack_deploying_after_its_services_is_refused(placements: dict[str, Any]) -> None:
    _assert_refused_in(
        placements["edge"],
        [
            "routes[0].service 'shop' lives in stack 'Services', which the ingress's stack 'Edge' deploys after",
            "the service's ECS service registers in the ingress's target group, so the ingress must deploy first",
            "Create the ingress in stack 'Services', or in a stack that deploys after the cluster's and before",
        ],
        cluster=placements["cluster"],
        routes=[IngressRoute(service=placements["shop"])],
    )


def test_connect_ingress_apart_from_services_of_the_clusters_stack_is_refused(placements: dict[str, Any]) -> None:
    _assert_refused_in(
        placements["apart"],
        [
            "routes[0].service 'local' lives in stack 'Platform', the cluster's, and the ingress's stack 'Apart' "
            "deploys after the cluster's",
            "Create the ingress in stack 'Platform'",
        ],
        cluster=placements["cluster"],
        routes=[IngressRoute(service=placements["local"])],
    )


def test_app_mesh_ingress_in_a_stack_deploying_before_its_services_is_refused(placements: dict[str, Any]) -> None:
    _assert_refused_in(
        placements["mesh_edge"],
        [
            "routes[0].service 'shop' lives in stack 'MeshServices', which deploys after the ingress's stack "
            "'MeshEdge'; the gateway routes need the service first",
        ],
        cluster=placements["meshed"],
        routes=[IngressRoute(service=placements["mesh_shop"])],
    )


def test_ingress_in_a_stack_deploying_before_its_cluster_is_refused(placements: dict[str, Any]) -> None:
    _assert_refused_in(
        placements["early"],
        [
            "cluster='LateCluster/Cluster' lives in stack 'LateCluster', which deploys after the ingress's stack "
            "'EarlyIngress'; the ingress needs the cluster's VPC first",
        ],
        cluster=placements["late_cluster"],
        routes=[IngressRoute(service=placements["late_web"])],
    )


def test_exports_are_public() -> None:
    import mesh_microservices

    assert {"MeshIngress", "IngressRoute", "IngressLoadBalancer"} <= set(mesh_microservices.__all__)


def test_connect_refuses_a_test_phase_without_a_test_header_behind_the_ingress(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        [
            "routes[0].service 'unheaded' has rollout=Rollout.blue_green(bake=Duration.minutes(15)) without "
            "test_header",
            "the load balancer's test listener rule sends the requests carrying it to the new revision, from the "
            "internet, so the header is yours to choose",
            "Pass test_header=('x-canary', '<a value of yours>') to the rollout.",
        ],
        cluster=refusals["connect_cluster"],
        routes=[IngressRoute(service=refusals["unheaded"])],
    )


def test_connect_refuses_a_test_header_value_an_alb_reads_as_a_wildcard(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        [
            "routes[0].service 'starred': rollout test_header value 't*e' holds '*' or '?'",
            "Use a value without them, e.g. 'true'.",
        ],
        cluster=refusals["connect_cluster"],
        routes=[IngressRoute(service=refusals["starred"])],
    )


def test_connect_refuses_two_routes_to_a_shifted_service(refusals: dict[str, Any]) -> None:
    released = refusals["released"]
    _assert_ingress_refused(
        refusals,
        ValueError,
        [
            "routes[0] and routes[1] both route to service 'released', whose rollout=Rollout.canary(",
            "ECS moves one production listener rule per service and load balancer",
            "Route to 'released' once in this ingress, or release it with Rollout.rolling().",
        ],
        cluster=refusals["connect_cluster"],
        routes=[IngressRoute(service=released, path_prefix="/a/"), IngressRoute(service=released, name="b")],
    )


def test_connect_refuses_a_shifted_service_behind_an_nlb(refusals: dict[str, Any]) -> None:
    _assert_ingress_refused(
        refusals,
        ValueError,
        [
            "routes[0].service 'released' has rollout=Rollout.canary(",
            "load_balancer=IngressLoadBalancer.NLB on DataPlane.service_connect() has no listener rule",
            "Use load_balancer=IngressLoadBalancer.ALB, or release it with Rollout.rolling().",
        ],
        cluster=refusals["connect_cluster"],
        routes=[IngressRoute(service=refusals["released"])],
        load_balancer=IngressLoadBalancer.NLB,
    )


def test_the_alb_test_rule_takes_the_priority_just_before_its_route() -> None:
    assert connect_ingress.RULE_PRIORITY_STEP > ingress_rollout.TEST_RULE_PRIORITY_OFFSET > 0


def test_connect_refuses_a_test_header_longer_than_an_alb_condition_takes(refusals: dict[str, Any]) -> None:
    assert ingress_rollout.MAX_HEADER_NAME_LENGTH == 40  # ALB's HttpHeaderName limit
    _assert_ingress_refused(
        refusals,
        ValueError,
        [
            "routes[0].service 'long-header': rollout test_header=('x-aaaa",
            "is longer than an ALB header condition takes (name at most 40 characters, value at most 128)",
            "Use a shorter header, e.g. ('x-canary', 'true').",
        ],
        cluster=refusals["connect_cluster"],
        routes=[IngressRoute(service=refusals["long_header"])],
    )
