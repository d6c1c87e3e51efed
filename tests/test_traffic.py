"""Versions with weights, route rules, outlier detection and connection pools on App Mesh."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs

from conftest import ENV, NGINX
from mesh_microservices import (
    ConnectionPool,
    DataPlane,
    Discovery,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    OutlierDetection,
    RoutePolicy,
    RouteRule,
    ServiceVersion,
)
from refusals import assert_refused
from synthesized import Synthesized

Variants = Callable[[str], Synthesized]


def test_each_version_has_its_own_task_definition_service_registration_and_node(variants: Variants) -> None:
    synth = variants("Traffic")
    canary = synth.resource("AWS::ECS::Service", "/Orders/Version-v2/")
    registry = synth.resource("AWS::ServiceDiscovery::Service", "/Orders/Version-v2/")
    assert registry["Properties"]["Name"] == "orders-v2"
    assert canary["Properties"]["DesiredCount"] == 1
    node = synth.resource("AWS::AppMesh::VirtualNode", "/Orders/AppMesh/VirtualNode-v2/")
    cloud_map_id = synth.logical_id("AWS::ServiceDiscovery::Service", "/Orders/Version-v2/")
    assert node["Properties"]["VirtualNodeName"] == "orders-v2_traffic.local"
    assert node["Properties"]["Spec"]["ServiceDiscovery"]["AWSCloudMap"]["ServiceName"] == {
        "Fn::GetAtt": [cloud_map_id, "Name"]
    }
    task = synth.resource("AWS::ECS::TaskDefinition", "/Orders/Version-v2/")["Properties"]
    images = {c["Name"]: c["Image"] for c in task["ContainerDefinitions"]}
    assert images["app"] == "public.ecr.aws/nginx/nginx:1.28"
    envoy = next(c for c in task["ContainerDefinitions"] if c["Name"] == "envoy")
    assert [v for v in envoy["Environment"] if v["Name"].startswith("APPMESH_")] == [
        {
            "Name": "APPMESH_RESOURCE_ARN",
            "Value": {"Ref": synth.logical_id("AWS::AppMesh::VirtualNode", "/VirtualNode-v2/")},
        }
    ]


def test_primary_version_keeps_the_service_name_and_construct_ids(variants: Variants) -> None:
    synth = variants("Traffic")
    assert synth.resource("AWS::ServiceDiscovery::Service", "/Orders/Resource/")["Properties"]["Name"] == "orders"
    node = synth.resource("AWS::AppMesh::VirtualNode", "/Orders/AppMesh/VirtualNode/")
    assert node["Properties"]["VirtualNodeName"] == "orders_traffic.local"


def test_default_route_splits_traffic_by_weight(variants: Variants) -> None:
    synth = variants("Traffic")
    route = synth.resource("AWS::AppMesh::Route", "/Orders/AppMesh/VirtualRouter/Route/")["Properties"]
    targets = {
        t["VirtualNode"]["Fn::GetAtt"][0]: t["Weight"] for t in route["Spec"]["HttpRoute"]["Action"]["WeightedTargets"]
    }
    primary = synth.logical_id("AWS::AppMesh::VirtualNode", "/Orders/AppMesh/VirtualNode/")
    canary = synth.logical_id("AWS::AppMesh::VirtualNode", "/Orders/AppMesh/VirtualNode-v2/")
    assert targets == {primary: 90, canary: 10}
    assert route["Spec"]["Priority"] == 1000
    assert route["Spec"]["HttpRoute"]["Match"]["Prefix"] == "/"


def test_header_rule_sends_testers_to_the_canary_first(variants: Variants) -> None:
    synth = variants("Traffic")
    route = synth.resource("AWS::AppMesh::Route", "/Orders/AppMesh/VirtualRouter/Route-testers/")["Properties"]
    spec = route["Spec"]
    assert spec["Priority"] == 10
    assert spec["HttpRoute"]["Match"]["Headers"] == [{"Name": "x-canary", "Invert": False, "Match": {"Exact": "true"}}]
    canary = synth.logical_id("AWS::AppMesh::VirtualNode", "/Orders/AppMesh/VirtualNode-v2/")
    assert spec["HttpRoute"]["Action"]["WeightedTargets"] == [
        {"VirtualNode": {"Fn::GetAtt": [canary, "VirtualNodeName"]}, "Weight": 100}
    ]


def test_path_rule_overrides_retries_and_timeouts(variants: Variants) -> None:
    synth = variants("Traffic")
    spec = synth.resource("AWS::AppMesh::Route", "/Route-reports/")["Properties"]["Spec"]
    assert spec["Priority"] == 20
    assert spec["HttpRoute"]["Match"]["Prefix"] == "/reports"
    assert spec["HttpRoute"]["RetryPolicy"]["MaxRetries"] == 4
    assert spec["HttpRoute"]["Timeout"]["PerRequest"] == {"Unit": "ms", "Value": 60000}
    assert len(spec["HttpRoute"]["Action"]["WeightedTargets"]) == 2


def test_listeners_have_outlier_detection_and_connection_pools(variants: Variants) -> None:
    synth = variants("Traffic")
    for path in ("/Orders/AppMesh/VirtualNode/", "/Orders/AppMesh/VirtualNode-v2/"):
        listener = synth.resource("AWS::AppMesh::VirtualNode", path)["Properties"]["Spec"]["Listeners"][0]
        assert listener["OutlierDetection"] == {
            "MaxServerErrors": 5,
            "Interval": {"Unit": "ms", "Value": 10000},
            "BaseEjectionDuration": {"Unit": "ms", "Value": 30000},
            "MaxEjectionPercent": 50,
        }
        assert listener["ConnectionPool"] == {"HTTP": {"MaxConnections": 100, "MaxPendingRequests": 50}}


def test_every_version_may_call_the_services_backends(variants: Variants) -> None:
    synth = variants("Traffic")
    for path in ("/Orders/AppMesh/VirtualNode/", "/Orders/AppMesh/VirtualNode-v2/"):
        backends = synth.resource("AWS::AppMesh::VirtualNode", path)["Properties"]["Spec"]["Backends"]
        assert backends == [{"VirtualService": {"VirtualServiceName": "ledger.traffic.local"}}]


def test_every_version_runs_in_the_services_security_group(variants: Variants) -> None:
    synth = variants("Traffic")
    group = synth.logical_id("AWS::EC2::SecurityGroup", "/Orders/")
    for path in ("/Orders/Resource/", "/Orders/Version-v2/"):
        network = synth.resource("AWS::ECS::Service", path)["Properties"]["NetworkConfiguration"]
        assert network["AwsvpcConfiguration"]["SecurityGroups"] == [{"Fn::GetAtt": [group, "GroupId"]}]


def test_the_versions_envoys_may_stream_only_the_services_own_nodes(variants: Variants) -> None:
    # The versions share the service's task role: it holds one grant per version's node, and no other.
    synth = variants("Traffic")
    path = "/Orders/TaskDefinition/TaskRole/"
    policy = synth.resource("AWS::IAM::Policy", path)["Properties"]["PolicyDocument"]["Statement"]
    streaming = [str(s["Resource"]) for s in policy if "appmesh" in str(s["Action"])]  # beside observability's
    nodes = ("orders_traffic.local", "orders-v2_traffic.local")
    assert len(streaming) == 2 and all(any(r.endswith(f"/virtualNode/{n}']]}}") for r in streaming) for n in nodes)


def _assert_service_refused(error: type[Exception], fragment: str, **overrides: Any) -> None:
    """A service with ``overrides``, in a cluster of its own, must be refused."""
    stack = cdk.Stack(cdk.App(), "Refusals", env=ENV)
    data_plane = overrides.pop("data_plane", None)
    cluster = MeshedCluster(stack, "Cluster", namespace="x.local", data_plane=data_plane)
    image = ecs.ContainerImage.from_registry(NGINX)
    build = lambda: MeshedService(stack, "Api", cluster=cluster, name="api", image=image, **overrides)  # noqa: E731
    assert_refused(build, fragment, error=error, within=stack)


IMAGE = ecs.ContainerImage.from_registry(NGINX)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"weight": 0, "versions": [ServiceVersion(name="v2", image=IMAGE, weight=0)]}, "add up to 0"),
        ({"versions": [ServiceVersion(name="v1", image=IMAGE, weight=10)]}, "versions[0].name='v1' is used twice"),
        ({"weight": 101}, "weight=101 is not from 0 to 100"),
        ({"versions": [ServiceVersion(name="V2", image=IMAGE, weight=10)]}, "versions[0].name='V2'"),
        ({"routes": [RouteRule(name="api", path_prefix="api")]}, "routes[0].path_prefix='api' must start with '/'"),
        ({"routes": [RouteRule(name="a", weights={"v9": 10})]}, "names version 'v9', which the service does not run"),
        ({"routes": [RouteRule(name="a"), RouteRule(name="a", path_prefix="/b")]}, "routes[1].name='a' is used twice"),
        ({"routes": [RouteRule(name="a")], "protocol": ListenerProtocol.TCP}, "routes match HTTP paths and headers"),
        ({"routes": [RouteRule(name="a", weights={"v1": 0})]}, "routes[0].weights add up to 0"),
        (
            {"routes": [RouteRule(name="a", policy=RoutePolicy(retry_attempts=-1))]},
            "routes[0].policy.retry_attempts=-1",
        ),
    ],
)
def test_bad_traffic_options_are_refused(overrides: dict[str, Any], fragment: str) -> None:
    _assert_service_refused(ValueError, fragment, **overrides)


def test_versions_must_be_service_versions() -> None:
    _assert_service_refused(TypeError, "versions[0]='v2' is a str; pass a ServiceVersion", versions=["v2"])


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (
            {"versions": [ServiceVersion(name="v2", image=IMAGE, weight=10)]},
            "versions: Service Connect has no standing weighted split between versions behind one name. Release "
            "the new image as the service's image with rollout=Rollout.canary(percent=10, "
            "bake=Duration.minutes(30), test_header=('x-canary', 'true'))",
        ),
        (
            {"routes": [RouteRule(name="a", headers={"x": "y"})]},
            "routes[0] ('a') matches headers {'x': 'y'}: Service Connect has no header routes. To send the "
            "requests that carry a header to a new revision while it is released, give the service "
            "rollout=Rollout.canary(percent=10, bake=Duration.minutes(30), test_header=('x', 'y'))",
        ),
        (
            {"routes": [RouteRule(name="a", path_prefix="/api")]},
            "routes: Service Connect has no path matching; route at the load balancer instead",
        ),
    ],
)
def test_service_connect_refuses_what_it_cannot_do(overrides: dict[str, Any], fragment: str) -> None:
    _assert_service_refused(ValueError, fragment, data_plane=DataPlane.service_connect(), **overrides)


APP_MESH = DataPlane.app_mesh
SERVICE_CONNECT = DataPlane.service_connect
TCP = ListenerProtocol.TCP


@pytest.mark.parametrize("plane", [APP_MESH, SERVICE_CONNECT])
@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (
            {"route_policy": RoutePolicy(request_timeout=Duration.minutes(2), idle_timeout=Duration.minutes(1))},
            "route_policy.idle_timeout=1 minute is shorter than route_policy.request_timeout=2 minutes: the proxy "
            "would close the connection when idle_timeout is reached, before the request may end. Make "
            "idle_timeout at least 2 minutes, or leave it out (default: 5 minutes, or request_timeout when that "
            "is longer).",
        ),
        (
            {"protocol": TCP, "route_policy": RoutePolicy(retry_attempts=3, request_timeout=Duration.seconds(30))},
            "route_policy: retry_attempts=3, request_timeout=30 seconds cannot apply to protocol=TCP, which carries "
            "no requests: TCP routes have no retry policy and no per-request timeout. Leave retry_attempts, "
            "per_retry_timeout and request_timeout at their defaults, and bound idle connections with "
            "idle_timeout instead (default: 1 hour).",
        ),
        ({"protocol": TCP, "route_policy": RoutePolicy(per_retry_timeout=Duration.seconds(1))}, "per_retry_timeout=1"),
        (
            {"weight": 50},
            "weight=50 has no effect without versions: the primary version serves every request. Drop weight=, "
            "or add versions=[ServiceVersion(...)] to split the traffic.",
        ),
        (
            {"route_policy": RoutePolicy(request_timeout=Duration.seconds(cdk.Token.as_number(cdk.Aws.ACCOUNT_ID)))},
            "route_policy.request_timeout must be a literal Duration, not a token",
        ),
    ],
)
def test_options_either_plane_would_not_apply_are_refused(plane: Any, overrides: dict[str, Any], fragment: str) -> None:
    _assert_service_refused(ValueError, fragment, data_plane=plane(), **overrides)


def test_tcp_with_an_idle_timeout_only_is_accepted() -> None:
    stack = cdk.Stack(cdk.App(), "Accepted", env=ENV)
    policy = RoutePolicy(idle_timeout=Duration.seconds(5))  # shorter than the request timeout TCP does not have
    for index, plane in enumerate((APP_MESH, SERVICE_CONNECT)):
        cluster = MeshedCluster(stack, f"Cluster{index}", namespace=f"c{index}.local", data_plane=plane())
        db = MeshedService(
            stack, f"Db{index}", cluster=cluster, name="db", image=IMAGE, protocol=TCP, route_policy=policy
        )
        assert db.health_check_path == "/"  # nothing probes it; there for code that reads it


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (
            {"connection_pool": ConnectionPool(max_requests=10)},
            "connection_pool.max_requests=10 is not used by HTTP listeners, which limit max_connections and "
            "max_pending_requests only; drop max_requests.",
        ),
        (
            {"protocol": ListenerProtocol.GRPC, "connection_pool": ConnectionPool(max_connections=10)},
            "connection_pool.max_connections=10 is not used by GRPC listeners, which limit max_requests only",
        ),
        (
            {"protocol": TCP, "connection_pool": ConnectionPool(max_pending_requests=10)},
            "connection_pool.max_pending_requests=10 is not used by TCP listeners",
        ),
        (
            {"discovery": Discovery.dns(), "outlier_detection": OutlierDetection()},
            "outlier_detection is not applied with discovery=Discovery.dns(): App Mesh ejects hosts only when it "
            "discovers them through Cloud Map. Drop discovery= (Cloud Map is the default), or drop outlier_detection.",
        ),
        (
            {"route_policy": RoutePolicy(per_retry_timeout=Duration.seconds(20))},
            "route_policy.per_retry_timeout=20 seconds is longer than route_policy.request_timeout=15 seconds: no "
            "attempt can outlast the request, so the per-retry timeout never applies. Make per_retry_timeout "
            "shorter than request_timeout, or raise request_timeout.",
        ),
        (
            {
                "routes": [
                    RouteRule(name="slow", path_prefix="/a", policy=RoutePolicy(per_retry_timeout=Duration.minutes(1)))
                ]
            },
            "routes[0].policy.per_retry_timeout=1 minute is longer than routes[0].policy.request_timeout=15 seconds",
        ),
        (
            {"routes": [RouteRule(name="a", policy=RoutePolicy(idle_timeout=Duration.seconds(1)))]},
            "routes[0].policy.idle_timeout=1 second is shorter than routes[0].policy.request_timeout=15 seconds",
        ),
        (
            {"routes": [RouteRule(name="everything", weights={"v1": 100})]},
            "routes[0] ('everything') matches every request (path_prefix '/' and no headers), so the default route "
            "(weight, the versions' weights, route_policy) and any rule after it never serve one. Give the rule a "
            "narrower path_prefix or headers, or set weight, versions and route_policy on the service instead.",
        ),
        (
            {
                "routes": [
                    RouteRule(name="api", path_prefix="/api"),
                    RouteRule(name="beta", path_prefix="/api/v2", headers={"x-beta": "1"}),
                ]
            },
            "routes[1] ('beta') is never reached: routes[0] ('api') comes first and matches all its requests. "
            "List the more specific rule first.",
        ),
    ],
)
def test_options_app_mesh_would_not_apply_are_refused(overrides: dict[str, Any], fragment: str) -> None:
    _assert_service_refused(ValueError, fragment, data_plane=APP_MESH(), **overrides)


def test_rules_that_narrow_earlier_ones_by_headers_are_accepted() -> None:
    stack = cdk.Stack(cdk.App(), "Ordered", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="x.local", data_plane=APP_MESH())
    rules = [
        RouteRule(name="beta", path_prefix="/api", headers={"x-beta": "1"}),
        RouteRule(name="api", path_prefix="/api"),
    ]
    service = MeshedService(stack, "Api", cluster=cluster, name="api", image=IMAGE, routes=rules)
    assert [rule.name for rule in service.route_rules] == ["beta", "api"]
