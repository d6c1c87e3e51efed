"""Virtual nodes, routers, routes and virtual services: discovery, listeners, retries, grants."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from synthesized import Synthesized


def _props(synth: Synthesized, resource_type: str, service_path: str) -> dict[str, Any]:
    properties: dict[str, Any] = synth.resource(resource_type, f"/{service_path}/")["Properties"]
    return properties


def test_virtual_node_discovers_the_cloud_map_service_its_ecs_service_registers_in(mesh_shop: Synthesized) -> None:
    for service in ("Web", "Orders", "Inventory"):
        registry = _props(mesh_shop, "AWS::ECS::Service", service)["ServiceRegistries"]
        cloud_map_id = mesh_shop.logical_id("AWS::ServiceDiscovery::Service", f"/{service}/")
        assert registry == [{"RegistryArn": {"Fn::GetAtt": [cloud_map_id, "Arn"]}}]
        discovery = _props(mesh_shop, "AWS::AppMesh::VirtualNode", service)["Spec"]["ServiceDiscovery"]
        assert discovery["AWSCloudMap"]["ServiceName"] == {"Fn::GetAtt": [cloud_map_id, "Name"]}
        namespace_id = mesh_shop.logical_id("AWS::ServiceDiscovery::PrivateDnsNamespace", "/Cluster/")
        assert discovery["AWSCloudMap"]["NamespaceName"] == "shop.local"
        assert _props(mesh_shop, "AWS::ServiceDiscovery::Service", service)["NamespaceId"] == {
            "Fn::GetAtt": [namespace_id, "Id"]
        }


def test_cloud_map_uses_a_records_for_awsvpc_tasks(mesh_shop: Synthesized) -> None:
    dns = _props(mesh_shop, "AWS::ServiceDiscovery::Service", "Orders")["DnsConfig"]
    assert dns["DnsRecords"] == [{"TTL": 10, "Type": "A"}]
    assert _props(mesh_shop, "AWS::ServiceDiscovery::Service", "Orders")["Name"] == "orders"


def test_dns_discovery_resolves_the_cloud_map_name(variants: Any) -> None:
    synth = variants("Protocols")
    discovery = _props(synth, "AWS::AppMesh::VirtualNode", "Tcp")["Spec"]["ServiceDiscovery"]
    assert discovery == {"DNS": {"Hostname": "db.proto.local"}}
    assert _props(synth, "AWS::ServiceDiscovery::Service", "Tcp")["Name"] == "db"


def test_dns_discovery_of_an_extra_version_resolves_the_name_that_version_registers(variants: Any) -> None:
    synth = variants("SdsTls")  # vault and its version v2, discovered by DNS in sds.local
    discovery = _props(synth, "AWS::AppMesh::VirtualNode", "Vault/AppMesh/VirtualNode-v2")["Spec"]["ServiceDiscovery"]
    assert discovery == {"DNS": {"Hostname": "vault-v2.sds.local"}}
    # The name is the Cloud Map service the version's ECS service registers in, under the namespace.
    cloud_map = synth.logical_id("AWS::ServiceDiscovery::Service", "/Vault/Version-v2/")
    assert synth.json["Resources"][cloud_map]["Properties"]["Name"] == "vault-v2"
    registries = _props(synth, "AWS::ECS::Service", "Vault/Version-v2")["ServiceRegistries"]
    assert registries == [{"RegistryArn": {"Fn::GetAtt": [cloud_map, "Arn"]}}]
    primary = _props(synth, "AWS::AppMesh::VirtualNode", "Vault/AppMesh/VirtualNode")["Spec"]["ServiceDiscovery"]
    assert primary == {"DNS": {"Hostname": "vault.sds.local"}}


def test_virtual_service_is_name_dot_namespace_provided_by_the_router(mesh_shop: Synthesized) -> None:
    service = _props(mesh_shop, "AWS::AppMesh::VirtualService", "Orders")
    router_id = mesh_shop.logical_id("AWS::AppMesh::VirtualRouter", "/Orders/")
    assert service["VirtualServiceName"] == "orders.shop.local"
    assert service["Spec"]["Provider"] == {
        "VirtualRouter": {"VirtualRouterName": {"Fn::GetAtt": [router_id, "VirtualRouterName"]}}
    }


def test_http_listener_has_health_check_on_the_service_port(mesh_shop: Synthesized) -> None:
    listener = _props(mesh_shop, "AWS::AppMesh::VirtualNode", "Web")["Spec"]["Listeners"][0]
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


def test_http_route_retries_stream_and_gateway_errors_twice_with_timeouts(mesh_shop: Synthesized) -> None:
    route = _props(mesh_shop, "AWS::AppMesh::Route", "Orders")["Spec"]["HttpRoute"]
    policy = route["RetryPolicy"]
    assert set(policy["HttpRetryEvents"]) >= {"stream-error", "gateway-error"}
    assert policy["TcpRetryEvents"] == ["connection-error"]
    assert policy["MaxRetries"] >= 2
    assert policy["PerRetryTimeout"] == {"Unit": "ms", "Value": 5000}
    assert route["Timeout"] == {"PerRequest": {"Unit": "ms", "Value": 15000}, "Idle": {"Unit": "ms", "Value": 300000}}
    node_id = mesh_shop.logical_id("AWS::AppMesh::VirtualNode", "/Orders/")
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
    assert tcp["Timeout"] == {"Idle": {"Unit": "ms", "Value": 7_200_000}}  # the 2 hours it asks for
    assert "RetryPolicy" not in tcp


def test_route_policy_defaults_apply(variants: Any) -> None:
    synth = variants("Protocols")
    http2 = _props(synth, "AWS::AppMesh::Route", "Http2")["Spec"]["Http2Route"]
    assert http2["RetryPolicy"]["MaxRetries"] == 2
    assert http2["Timeout"] == {"PerRequest": {"Unit": "ms", "Value": 15000}, "Idle": {"Unit": "ms", "Value": 300000}}


def _listener_timeout(synth: Synthesized, node_path: str) -> Any:
    node = synth.json["Resources"][synth.logical_id("AWS::AppMesh::VirtualNode", node_path)]
    return node["Properties"]["Spec"]["Listeners"][0].get("Timeout")


def test_a_two_minute_route_has_a_listener_that_lets_it_take_effect(variants: Any) -> None:
    synth = variants("Timeouts")
    route = _props(synth, "AWS::AppMesh::Route", "MeshSlow")["Spec"]["HttpRoute"]
    assert route["Timeout"] == {"PerRequest": {"Unit": "ms", "Value": 120000}, "Idle": {"Unit": "ms", "Value": 300000}}
    for node in ("/MeshSlow/AppMesh/VirtualNode/", "/MeshSlow/AppMesh/VirtualNode-v2/"):  # every version's node
        assert _listener_timeout(synth, node) == {
            "HTTP": {"PerRequest": {"Unit": "ms", "Value": 120000}, "Idle": {"Unit": "ms", "Value": 300000}}
        }


def test_a_rule_with_a_longer_timeout_lengthens_the_listener(variants: Any) -> None:
    synth = variants("Traffic")  # the "reports" rule allows 60 s, the service's own route 15 s
    for node in ("/Orders/AppMesh/VirtualNode/", "/Orders/AppMesh/VirtualNode-v2/"):
        assert _listener_timeout(synth, node) == {
            "HTTP": {"PerRequest": {"Unit": "ms", "Value": 60000}, "Idle": {"Unit": "ms", "Value": 300000}}
        }


def test_a_long_idle_timeout_lengthens_the_listener_and_keeps_its_request_default(variants: Any) -> None:
    synth = variants("Timeouts")
    route = _props(synth, "AWS::AppMesh::Route", "MeshStream")["Spec"]["GrpcRoute"]
    assert route["Timeout"] == {"PerRequest": {"Unit": "ms", "Value": 10000}, "Idle": {"Unit": "ms", "Value": 600000}}
    assert _listener_timeout(synth, "/MeshStream/") == {
        "GRPC": {"PerRequest": {"Unit": "ms", "Value": 15000}, "Idle": {"Unit": "ms", "Value": 600000}}
    }


def test_tcp_routes_keep_idle_connections_an_hour_by_default(variants: Any) -> None:
    synth = variants("Timeouts")
    route = _props(synth, "AWS::AppMesh::Route", "MeshCache")["Spec"]["TcpRoute"]
    assert route["Timeout"] == {"Idle": {"Unit": "ms", "Value": 3_600_000}}
    assert _listener_timeout(synth, "/MeshCache/") is None  # within App Mesh's listener default


def test_a_tcp_idle_timeout_over_an_hour_lengthens_the_listener(variants: Any) -> None:
    synth = variants("Protocols")
    assert _listener_timeout(synth, "/Tcp/") == {"TCP": {"Idle": {"Unit": "ms", "Value": 7_200_000}}}


def test_listeners_keep_app_mesh_defaults_when_routes_stay_within_them(mesh_shop: Synthesized, variants: Any) -> None:
    for service in ("Web", "Orders", "Inventory"):
        assert _listener_timeout(mesh_shop, f"/{service}/") is None
    for service in ("Http2", "Grpc"):
        assert _listener_timeout(variants("Protocols"), f"/{service}/") is None


def test_stream_aggregated_resources_is_granted_on_the_own_virtual_node_only(mesh_shop: Synthesized) -> None:
    statements = [
        statement
        for policy in mesh_shop.resources("AWS::IAM::Policy").values()
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
    web_policy = mesh_shop.template.find_resources(
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


def test_virtual_node_name_matches_the_granted_arn(mesh_shop: Synthesized) -> None:
    assert _props(mesh_shop, "AWS::AppMesh::VirtualNode", "Orders")["VirtualNodeName"] == "orders_shop.local"


def test_mesh_drops_egress_to_undeclared_destinations(mesh_shop: Synthesized) -> None:
    _, mesh = mesh_shop.only("AWS::AppMesh::Mesh")
    assert mesh["Properties"]["Spec"]["EgressFilter"] == {"Type": "DROP_ALL"}


def test_connect_to_declares_backends_by_the_name_callers_dial(mesh_shop: Synthesized) -> None:
    def backends(service: str) -> list[str]:
        spec = _props(mesh_shop, "AWS::AppMesh::VirtualNode", service)["Spec"]
        return sorted(b["VirtualService"]["VirtualServiceName"] for b in spec.get("Backends", []))

    assert backends("Web") == ["inventory.shop.local", "orders.shop.local"]
    assert backends("Orders") == ["inventory.shop.local"]
    assert backends("Inventory") == []


def test_caller_node_is_created_after_its_callees_virtual_services(mesh_shop: Synthesized) -> None:
    web_node = mesh_shop.json["Resources"][mesh_shop.logical_id("AWS::AppMesh::VirtualNode", "/Web/")]
    callees = {mesh_shop.logical_id("AWS::AppMesh::VirtualService", f"/{s}/") for s in ("Orders", "Inventory")}
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
