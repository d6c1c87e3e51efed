"""Virtual nodes, routers, routes and virtual services: discovery, listeners, retries, grants."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from synthesized import Synthesized


def _props(synth: Synthesized, resource_type: str, service_path: str) -> dict[str, Any]:
    return synth.json["Resources"][synth.logical_id(resource_type, f"/{service_path}/")]["Properties"]


def test_virtual_node_discovers_the_cloud_map_service_its_ecs_service_registers_in(shop: Synthesized) -> None:
    for service in ("Web", "Orders", "Inventory"):
        registry = _props(shop, "AWS::ECS::Service", service)["ServiceRegistries"]
        cloud_map_id = shop.logical_id("AWS::ServiceDiscovery::Service", f"/{service}/")
        assert registry == [{"RegistryArn": {"Fn::GetAtt": [cloud_map_id, "Arn"]}}]
        discovery = _props(shop, "AWS::AppMesh::VirtualNode", service)["Spec"]["ServiceDiscovery"]
        assert discovery["AWSCloudMap"]["ServiceName"] == {"Fn::GetAtt": [cloud_map_id, "Name"]}
        namespace_id = shop.logical_id("AWS::ServiceDiscovery::PrivateDnsNamespace", "/Cluster/")
        assert discovery["AWSCloudMap"]["NamespaceName"] == "shop.local"
        assert _props(shop, "AWS::ServiceDiscovery::Service", service)["NamespaceId"] == {
            "Fn::GetAtt": [namespace_id, "Id"]
        }


def test_cloud_map_uses_a_records_for_awsvpc_tasks(shop: Synthesized) -> None:
    dns = _props(shop, "AWS::ServiceDiscovery::Service", "Orders")["DnsConfig"]
    assert dns["DnsRecords"] == [{"TTL": 10, "Type": "A"}]
    assert _props(shop, "AWS::ServiceDiscovery::Service", "Orders")["Name"] == "orders"


def test_dns_discovery_resolves_the_cloud_map_name(variants: Any) -> None:
    synth = variants("Protocols")
    discovery = _props(synth, "AWS::AppMesh::VirtualNode", "Tcp")["Spec"]["ServiceDiscovery"]
    assert discovery == {"DNS": {"Hostname": "db.proto.local"}}
    assert _props(synth, "AWS::ServiceDiscovery::Service", "Tcp")["Name"] == "db"


def test_virtual_service_is_name_dot_namespace_provided_by_the_router(shop: Synthesized) -> None:
    service = _props(shop, "AWS::AppMesh::VirtualService", "Orders")
    router_id = shop.logical_id("AWS::AppMesh::VirtualRouter", "/Orders/")
    assert service["VirtualServiceName"] == "orders.shop.local"
    assert service["Spec"]["Provider"] == {
        "VirtualRouter": {"VirtualRouterName": {"Fn::GetAtt": [router_id, "VirtualRouterName"]}}
    }


def test_http_listener_has_health_check_on_the_service_port(shop: Synthesized) -> None:
    listener = _props(shop, "AWS::AppMesh::VirtualNode", "Web")["Spec"]["Listeners"][0]
    assert listener["PortMapping"] == {"Port": 80, "Protocol": "http"}
    assert listener["HealthCheck"]["Protocol"] == "http"
    assert listener["HealthCheck"]["Path"] == "/"


def test_each_protocol_gets_its_listener_and_health_check(variants: Any) -> None:
    synth = variants("Protocols")
    expected = {"Http2": ("http2", 8080), "Grpc": ("grpc", 50051), "Tcp": ("tcp", 5432)}
    for service, (protocol, port) in expected.items():
        listener = _props(synth, "AWS::AppMesh::VirtualNode", service)["Spec"]["Listeners"][0]
        assert listener["PortMapping"] == {"Port": port, "Protocol": protocol}
        assert listener["HealthCheck"]["Protocol"] == protocol
        router = _props(synth, "AWS::AppMesh::VirtualRouter", service)["Spec"]["Listeners"][0]
        assert router["PortMapping"] == {"Port": port, "Protocol": protocol}
    http2_check = _props(synth, "AWS::AppMesh::VirtualNode", "Http2")["Spec"]["Listeners"][0]["HealthCheck"]
    assert http2_check["Path"] == "/healthz"


def test_http_route_retries_stream_and_gateway_errors_twice_with_timeouts(shop: Synthesized) -> None:
    route = _props(shop, "AWS::AppMesh::Route", "Orders")["Spec"]["HttpRoute"]
    policy = route["RetryPolicy"]
    assert set(policy["HttpRetryEvents"]) >= {"stream-error", "gateway-error"}
    assert policy["TcpRetryEvents"] == ["connection-error"]
    assert policy["MaxRetries"] >= 2
    assert policy["PerRetryTimeout"] == {"Unit": "ms", "Value": 5000}
    assert route["Timeout"]["PerRequest"] == {"Unit": "ms", "Value": 15000}
    node_id = shop.logical_id("AWS::AppMesh::VirtualNode", "/Orders/")
    assert route["Action"]["WeightedTargets"] == [
        {"VirtualNode": {"Fn::GetAtt": [node_id, "VirtualNodeName"]}, "Weight": 100}
    ]


def test_grpc_and_tcp_routes_have_retries_or_timeouts(variants: Any) -> None:
    synth = variants("Protocols")
    grpc = _props(synth, "AWS::AppMesh::Route", "Grpc")["Spec"]["GrpcRoute"]
    assert grpc["Match"] == {"Port": 50051}
    assert set(grpc["RetryPolicy"]["HttpRetryEvents"]) >= {"stream-error", "gateway-error"}
    assert grpc["RetryPolicy"]["MaxRetries"] >= 2
    assert "PerRequest" in grpc["Timeout"]
    tcp = _props(synth, "AWS::AppMesh::Route", "Tcp")["Spec"]["TcpRoute"]
    assert tcp["Timeout"] == {"Idle": {"Unit": "ms", "Value": 30000}}


def test_route_policy_overrides_apply(variants: Any) -> None:
    synth = variants("Protocols")
    http2 = _props(synth, "AWS::AppMesh::Route", "Http2")["Spec"]["Http2Route"]
    assert http2["RetryPolicy"]["MaxRetries"] == 2
    tcp_route = _props(synth, "AWS::AppMesh::Route", "Tcp")["Spec"]["TcpRoute"]
    assert tcp_route["Timeout"]["Idle"]["Value"] == 30000


def test_stream_aggregated_resources_is_granted_on_the_own_virtual_node_only(shop: Synthesized) -> None:
    statements = [
        statement
        for policy in shop.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "appmesh" in str(statement["Action"])
    ]
    assert len(statements) == 4  # the three services' Envoys, and the ingress gateway's (see test_ingress.py)
    for statement in statements:
        assert statement["Action"] == "appmesh:StreamAggregatedResources"
        assert statement["Resource"] != "*"
    resources = sorted(str(s["Resource"]) for s in statements)
    for name in ("inventory_shop.local", "orders_shop.local", "web_shop.local"):
        assert sum(f"/virtualNode/{name}" in r for r in resources) == 1
    web_policy = shop.template.find_resources(
        "AWS::IAM::Policy",
        {
            "Properties": {
                "PolicyDocument": {
                    "Statement": Match.array_with([Match.object_like({"Action": "appmesh:StreamAggregatedResources"})])
                }
            }
        },
    )
    assert len(web_policy) == 4


def test_virtual_node_name_matches_the_granted_arn(shop: Synthesized) -> None:
    assert _props(shop, "AWS::AppMesh::VirtualNode", "Orders")["VirtualNodeName"] == "orders_shop.local"


def test_mesh_drops_egress_to_undeclared_destinations(shop: Synthesized) -> None:
    _, mesh = shop.only("AWS::AppMesh::Mesh")
    assert mesh["Properties"]["Spec"]["EgressFilter"] == {"Type": "DROP_ALL"}


def test_connect_to_declares_backends_by_the_name_callers_dial(shop: Synthesized) -> None:
    def backends(service: str) -> list[str]:
        spec = _props(shop, "AWS::AppMesh::VirtualNode", service)["Spec"]
        return sorted(b["VirtualService"]["VirtualServiceName"] for b in spec.get("Backends", []))

    assert backends("Web") == ["inventory.shop.local", "orders.shop.local"]
    assert backends("Orders") == ["inventory.shop.local"]
    assert backends("Inventory") == []


def test_caller_node_is_created_after_its_callees_virtual_services(shop: Synthesized) -> None:
    web_node = shop.json["Resources"][shop.logical_id("AWS::AppMesh::VirtualNode", "/Web/")]
    callees = {shop.logical_id("AWS::AppMesh::VirtualService", f"/{s}/") for s in ("Orders", "Inventory")}
    assert callees <= set(web_node.get("DependsOn", []))


def test_imported_mesh_and_namespace_are_used_not_created(variants: Any) -> None:
    synth = variants("Imported")
    synth.template.resource_count_is("AWS::AppMesh::Mesh", 0)
    synth.template.resource_count_is("AWS::ServiceDiscovery::PrivateDnsNamespace", 0)
    node = _props(synth, "AWS::AppMesh::VirtualNode", "Billing")
    assert node["MeshName"] == "corp-mesh"
    assert node["Spec"]["ServiceDiscovery"]["AWSCloudMap"]["NamespaceName"] == "corp.internal"
    assert _props(synth, "AWS::ServiceDiscovery::Service", "Billing")["NamespaceId"] == "ns-1234567890"
    assert _props(synth, "AWS::AppMesh::VirtualService", "Billing")["VirtualServiceName"] == "billing.corp.internal"
