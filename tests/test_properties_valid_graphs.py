"""Property: any valid service graph constructs, synthesizes, passes the gates and is wired as App Mesh needs.

Hypothesis draws a cluster (region, data plane) and two to five services with random DNS-label
names, ports (1-65535 but Envoy's), protocols, discovery, task sizes and stacks, plus random
call edges between them, declared with ``backends=`` (objects or names) or ``connect_to``. Each
app is synthesized with cdk-nag attached and must then satisfy, for every service, the wiring
facts of the reference (proxy configuration, Envoy's user, ulimit, health check and resource
ARN, the app waiting for a HEALTHY Envoy, discovery of its own Cloud Map service, grants scoped
to its own virtual node) and, for the whole app: security-group ingress exactly the declared
edges, no unacknowledged finding, no cfn-lint problem. Synthesis costs about a second per app,
so few examples run, without shrinking; they are derandomized so CI runs the same graphs every time.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cfn_lint_check import BackgroundLint
from checked_apps import CheckedApp, check_app
from conftest import ACCOUNT, NGINX
from gate_counts import count
from mesh_microservices import DataPlane, Discovery, ListenerProtocol, MeshedCluster, MeshedService
from mesh_microservices._validate import FARGATE_TASK_SIZES
from mesh_microservices.app_mesh import envoy
from mesh_microservices.options import DiscoveryMode  # the internal enum of the two factories
from service_ingress import service_ingress_problems

GRAPH_EXAMPLES = 10
REGIONS = ("eu-west-1", "us-east-1", "af-south-1", None)  # None: an environment-agnostic stack
TASK_SIZES = [(cpu, memory) for cpu, memories in FARGATE_TASK_SIZES.items() for memory in memories]
LABEL = r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?"
RANDOM_GRAPHS_LINT = "random graphs"


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    protocol: ListenerProtocol
    discovery: DiscoveryMode
    health_check_path: str | None
    size: tuple[int, int]
    desired_count: int
    stack: int  # which of the app's stacks the service lives in
    by_name: bool  # whether callers name it in backends= rather than pass the object


@dataclass(frozen=True)
class Graph:
    region: str | None
    service_connect: bool
    stacks: int
    services: tuple[Service, ...]
    edges: frozenset[tuple[int, int]]  # (caller, callee) indexes
    in_constructor: frozenset[tuple[int, int]]  # edges declared with backends= rather than connect_to


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    service_connect = draw(st.booleans())
    stacks = draw(st.integers(1, 2))
    names = draw(st.lists(st.from_regex(LABEL, fullmatch=True), min_size=2, max_size=5, unique=True))
    services = tuple(_service(draw, name, service_connect, stacks, last=name == names[-1]) for name in names)
    pairs = st.tuples(st.integers(0, len(names) - 1), st.integers(0, len(names) - 1)).filter(lambda e: e[0] != e[1])
    edges = draw(st.frozensets(pairs, max_size=len(names) * 2))
    # backends= can only name services declared before the caller; connect_to any, cycles included.
    in_constructor = draw(st.frozensets(st.sampled_from(sorted(edges)))) if edges else frozenset()
    in_constructor = frozenset(e for e in in_constructor if e[1] < e[0])
    return Graph(draw(st.sampled_from(REGIONS)), service_connect, stacks, services, edges, in_constructor)


def _service(draw: st.DrawFn, name: str, service_connect: bool, stacks: int, *, last: bool) -> Service:
    protocol = draw(st.sampled_from(ListenerProtocol))
    # Only App Mesh probes a path itself, and only an HTTP or HTTP/2 service's (None: the default).
    probed = not service_connect and protocol in (ListenerProtocol.HTTP, ListenerProtocol.HTTP2)
    return Service(
        name=name,
        port=draw(st.integers(1, 65535).filter(lambda port: port not in envoy.reserved_ports())),
        protocol=protocol,
        # Service Connect always discovers through Cloud Map; it refuses Discovery.dns().
        discovery=DiscoveryMode.CLOUD_MAP if service_connect else draw(st.sampled_from(DiscoveryMode)),
        health_check_path=draw(st.none() | st.from_regex(r"/[!-~]{0,30}", fullmatch=True)) if probed else None,
        size=draw(st.sampled_from(TASK_SIZES)),
        desired_count=draw(st.integers(1, 6)),
        stack=stacks - 1 if last else draw(st.integers(0, stacks - 1)),  # no stack left empty
        by_name=draw(st.booleans()),
    )


def build(graph: Graph, app: cdk.App) -> list[MeshedService]:
    env = cdk.Environment(account=ACCOUNT, region=graph.region) if graph.region else None
    stacks = [cdk.Stack(app, f"Graph{i}", env=env) for i in range(graph.stacks)]
    data_plane = DataPlane.service_connect() if graph.service_connect else DataPlane.app_mesh()
    cluster = MeshedCluster(stacks[0], "Cluster", namespace="graph.local", data_plane=data_plane)
    image = ecs.ContainerImage.from_registry(NGINX)
    built: list[MeshedService] = []
    for index, spec in enumerate(graph.services):
        callees = sorted(callee for caller, callee in graph.in_constructor if caller == index)
        built.append(
            MeshedService(
                stacks[spec.stack],
                f"Service{index}",
                cluster=cluster,
                name=spec.name,
                image=image,
                port=spec.port,
                protocol=spec.protocol,
                health_check_path=spec.health_check_path,
                discovery=Discovery.dns() if spec.discovery is DiscoveryMode.DNS else Discovery.cloud_map(),
                cpu=spec.size[0],
                memory_limit_mib=spec.size[1],
                desired_count=spec.desired_count,
                backends=[graph.services[c].name if graph.services[c].by_name else built[c] for c in callees],
            )
        )
    for caller, callee in sorted(graph.edges - graph.in_constructor):
        built[caller].connect_to(built[callee] if not graph.services[callee].by_name else graph.services[callee].name)
    return built


@settings(
    max_examples=GRAPH_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: each attempt synthesizes an app; a failure reports the graph as drawn.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(graph=graphs())
def test_random_service_graphs_synthesize_wired_as_declared(background_lint: BackgroundLint, graph: Graph) -> None:
    with tempfile.TemporaryDirectory() as outdir:
        services: list[MeshedService] = []
        checked = check_app("random graph", lambda app: services.extend(build(graph, app)), Path(outdir))
        count("random valid graphs synthesized")
        count("random services synthesized", len(services))
        count("random call edges declared", len(graph.edges))
        for name, stack in checked.stacks():
            assert stack.findings == [], f"{name}: unacknowledged findings {stack.findings}"
        # cfn-lint runs on the other cores; test_random_graph_templates_pass_cfn_lint reads it last.
        background_lint.submit(
            RANDOM_GRAPHS_LINT, {f"{graph}: {n}": (s.json, graph.region) for n, s in checked.stacks()}
        )
        assert service_ingress_problems(checked) == []
        assert {(s.name, c.name) for s in services for c in s.callees} == {
            (graph.services[a].name, graph.services[b].name) for a, b in graph.edges
        }
        for service in services:
            if graph.service_connect:
                _assert_service_connect_wiring(checked, service)
            else:
                _assert_app_mesh_wiring(checked, service)


def test_random_graph_templates_pass_cfn_lint(background_lint: BackgroundLint) -> None:
    results = background_lint.results(RANDOM_GRAPHS_LINT)
    assert results, "test_random_service_graphs_synthesize_wired_as_declared submits the templates; run it too"
    count("templates linted by cfn-lint (random graphs)", len(results))
    assert {label: found for label, found in results.items() if found} == {}


def _resource(checked: CheckedApp, construct: Any) -> tuple[str, dict[str, Any]]:
    """(logical id, template resource) of an L1 construct, from its stack's template."""
    stack = cdk.Stack.of(construct)
    logical_id = stack.resolve(stack.get_logical_id(construct))
    return logical_id, checked.stack(stack.stack_name).json["Resources"][logical_id]


def _assert_app_mesh_wiring(checked: CheckedApp, service: MeshedService) -> None:
    # The literals are App Mesh's wiring facts (App Mesh User Guide, "Getting started with App Mesh and
    # Amazon ECS" and "Envoy image"): the library's constants must match them.
    _, task = _resource(checked, service.task_definition.node.default_child)
    properties = task["Properties"]
    assert properties["NetworkMode"] == "awsvpc"
    proxy = properties["ProxyConfiguration"]
    assert (proxy["Type"], proxy["ContainerName"]) == ("APPMESH", envoy.ENVOY_CONTAINER_NAME)
    assert {p["Name"]: p["Value"] for p in proxy["ProxyConfigurationProperties"]} == {
        "AppPorts": str(service.port),
        "ProxyIngressPort": "15000",
        "ProxyEgressPort": "15001",
        "IgnoredUID": "1337",
        "EgressIgnoredIPs": "169.254.170.2,169.254.169.254",  # task metadata, instance metadata
    }
    containers = {c["Name"]: c for c in properties["ContainerDefinitions"]}
    sidecar = containers[envoy.ENVOY_CONTAINER_NAME]
    assert sidecar["User"] == "1337" and sidecar["Essential"] is True
    assert {"Name": "nofile", "SoftLimit": 15000, "HardLimit": 15000} in sidecar["Ulimits"]
    assert sidecar["HealthCheck"] == {
        "Command": ["CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE"],
        "Interval": 5,
        "Timeout": 2,
        "Retries": 3,
        "StartPeriod": 10,
    }
    node_id, node = _resource(checked, service.virtual_node.node.default_child)
    assert {"Name": "APPMESH_RESOURCE_ARN", "Value": {"Ref": node_id}} in sidecar["Environment"]
    assert {"ContainerName": envoy.ENVOY_CONTAINER_NAME, "Condition": "HEALTHY"} in containers["app"]["DependsOn"]

    discovery = node["Properties"]["Spec"]["ServiceDiscovery"]
    if service.cloud_map_service is not None and "AWSCloudMap" in discovery:
        cloud_map_id, _ = _resource(checked, service.cloud_map_service.node.default_child)
        _, ecs_service = _resource(checked, service.service.node.default_child)
        assert ecs_service["Properties"]["ServiceRegistries"] == [
            {"RegistryArn": {"Fn::GetAtt": [cloud_map_id, "Arn"]}}
        ]
        assert discovery["AWSCloudMap"]["ServiceName"] == {"Fn::GetAtt": [cloud_map_id, "Name"]}
    else:
        assert discovery == {"DNS": {"Hostname": service.dns_name}}
    backends = {b["VirtualService"]["VirtualServiceName"] for b in node["Properties"]["Spec"].get("Backends", [])}
    assert backends == {callee.dns_name for callee in service.callees}

    # Envoy may stream the configuration of its own virtual node, and nothing else of App Mesh.
    role_policy = service.task_definition.task_role.node.try_find_child("DefaultPolicy")
    assert role_policy is not None
    _, policy = _resource(checked, role_policy.node.default_child)
    mesh_statements = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "appmesh" in str(s["Action"])]
    assert [s["Action"] for s in mesh_statements] == ["appmesh:StreamAggregatedResources"]
    arn_parts = mesh_statements[0]["Resource"]["Fn::Join"][1]
    assert arn_parts[-1].endswith(f"/virtualNode/{node['Properties']['VirtualNodeName']}")


def _assert_service_connect_wiring(checked: CheckedApp, service: MeshedService) -> None:
    _, task = _resource(checked, service.task_definition.node.default_child)
    assert "ProxyConfiguration" not in task["Properties"]
    assert {c["Name"] for c in task["Properties"]["ContainerDefinitions"]} == {"app"}
    _, ecs_service = _resource(checked, service.service.node.default_child)
    (server,) = ecs_service["Properties"]["ServiceConnectConfiguration"]["Services"]
    assert [(a["DnsName"], a["Port"]) for a in server["ClientAliases"]] == [(service.dns_name, service.port)]
    assert server["PortName"] == service.name
