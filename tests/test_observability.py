"""Observability on both data planes: access logs, X-Ray tracing, Envoy statistics, alarms.

App Mesh: the shop example on App Mesh runs the defaults (everything but tracing); the variant stack
"Observed" turns tracing on and sets its own namespace and thresholds; a stack of this module
opts out. Service Connect: the variant stack "ServiceConnect" runs the defaults,
"ServiceConnectObserved" turns access logs off and sets its own thresholds; a stack of this
module turns alarms off.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import cx_api

from checked_apps import CheckedApp
from conftest import ENV, NGINX, new_app
from mesh_microservices import (
    DataPlane,
    MeshedCluster,
    MeshedService,
    Observability,
    ServiceAlarms,
)
from mesh_microservices._acknowledgments import UNSCOPABLE_ACTIONS
from mesh_microservices.app_mesh import observability as obs
from mesh_microservices.app_mesh.envoy import ENVOY_CONTAINER_NAME
from mesh_microservices.service_connect import alarms as sc_alarms
from synthesized import Synthesized

Variants = Callable[[str], Synthesized]
IMAGE = ecs.ContainerImage.from_registry(NGINX)

# AWS facts, written out so that a wrong constant in the library fails here.
# Envoy's statistics as App Mesh's Envoy sends them over DogStatsD with ENABLE_ENVOY_STATS_TAGS
# (AWS App Mesh User Guide, "Exporting metrics": DogStatsD; "Monitoring your application using Envoy metrics").
ENVOY_RESPONSES = "envoy_http_downstream_rq_xx"
ENVOY_REQUESTS = "envoy_http_downstream_rq_total"
ENVOY_HEALTHY_HOSTS = "envoy_cluster_membership_healthy"
ENVOY_HOSTS = "envoy_cluster_membership_total"
VIRTUAL_NODE_TAG = "appmesh.virtual_node"
CONNECTION_MANAGER_TAG = "envoy.http_conn_manager_prefix"
RESPONSE_CLASS_TAG = "envoy.response_code_class"
CLUSTER_TAG = "envoy.cluster_name"
# App Mesh User Guide, "Envoy configuration variables".
XRAY_TRACING_VARIABLE = "ENABLE_ENVOY_XRAY_TRACING"
DOG_STATSD_VARIABLE = "ENABLE_ENVOY_DOG_STATSD"
STATS_TAGS_VARIABLE = "ENABLE_ENVOY_STATS_TAGS"
# CloudWatch User Guide, "CloudWatch agent ... on Amazon ECS": the agent reads its configuration from this variable.
AGENT_CONFIG_VARIABLE = "CW_CONFIG_CONTENT"
# IAM: "Actions, resources and condition keys for Amazon CloudWatch".
PUT_METRIC_DATA = "cloudwatch:PutMetricData"
NAMESPACE_CONDITION_KEY = "cloudwatch:namespace"
# What the daemon calls (X-Ray Developer Guide, "AWS X-Ray daemon": permissions); X-Ray has no resource-level ARNs.
XRAY_DAEMON_ACTIONS = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
XRAY_DAEMON_PORT = 2000  # AWS X-Ray Developer Guide, "AWS X-Ray daemon": UDP 2000
PROXY_IGNORED_UID = "1337"  # App Mesh User Guide, "Getting started with App Mesh and Amazon ECS": IgnoredUID


def _task_definitions(synth: Synthesized) -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
    """(construct path, containers by name) of every task definition of ``synth``."""
    for resource in synth.resources("AWS::ECS::TaskDefinition").values():
        containers = {c["Name"]: c for c in resource["Properties"]["ContainerDefinitions"]}
        yield resource["Metadata"]["aws:cdk:path"], containers


def _containers(synth: Synthesized, path: str) -> dict[str, dict[str, Any]]:
    task = synth.json["Resources"][synth.logical_id("AWS::ECS::TaskDefinition", path)]
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


def _environment(container: dict[str, Any]) -> dict[str, Any]:
    return {variable["Name"]: variable["Value"] for variable in container.get("Environment", [])}


def _agent_config(container: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(_environment(container)[AGENT_CONFIG_VARIABLE])
    return config


def _statements(synth: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    """(construct path of the policy, statement) of every IAM policy of ``synth``."""
    for resource in synth.resources("AWS::IAM::Policy").values():
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            yield resource["Metadata"]["aws:cdk:path"], statement


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def _alarms(synth: Synthesized, path_part: str = "") -> dict[str, dict[str, Any]]:
    """The alarms whose construct path contains ``path_part``, by the last part of their path."""
    return {
        resource["Metadata"]["aws:cdk:path"].split("/")[-2]: resource["Properties"]
        for resource in synth.resources("AWS::CloudWatch::Alarm").values()
        if path_part in resource["Metadata"]["aws:cdk:path"]
    }


def _metric_stats(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alarm's metrics by id: namespace, name, dimensions (name -> value), statistic, period."""
    return {
        query["Id"]: {
            "namespace": query["MetricStat"]["Metric"]["Namespace"],
            "name": query["MetricStat"]["Metric"]["MetricName"],
            "dimensions": {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"]["Dimensions"]},
            "stat": query["MetricStat"]["Stat"],
            "period": query["MetricStat"]["Period"],
        }
        for query in alarm["Metrics"]
        if "MetricStat" in query
    }


def _expression(alarm: dict[str, Any]) -> str:
    (expression,) = [query["Expression"] for query in alarm["Metrics"] if "Expression" in query]
    return str(expression)


def _services(app: CheckedApp, stack_name: str) -> dict[str, MeshedService]:
    return {
        construct.name: construct
        for construct in app.app.node.find_all()
        if isinstance(construct, MeshedService) and construct.node.path.startswith(f"{stack_name}/")
    }


@pytest.fixture(scope="module")
def opted_out_assembly() -> cx_api.CloudAssembly:
    """Opted-out stacks: "Quiet" (logs, statistics, alarms), "Unalarmed" and "QuietConnect" (alarms)."""
    app = new_app()
    quiet = Observability(access_logs=False, envoy_metrics=False, alarms=False)
    for name, data_plane in (
        ("Quiet", DataPlane.app_mesh(observability=quiet)),
        ("Unalarmed", DataPlane.app_mesh(observability=Observability(alarms=False))),
        ("QuietConnect", DataPlane.service_connect(observability=Observability(alarms=False))),
    ):
        stack = cdk.Stack(app, name, env=ENV)
        cluster = MeshedCluster(stack, "Cluster", namespace=f"{name.lower()}.local", data_plane=data_plane)
        MeshedService(stack, "Api", cluster=cluster, name="api", image=IMAGE)
    return app.synth()


@pytest.fixture(scope="module")
def opted_out(opted_out_assembly: cx_api.CloudAssembly) -> Synthesized:
    return Synthesized.from_assembly(opted_out_assembly, "Quiet")


@pytest.fixture(scope="module")
def unalarmed(opted_out_assembly: cx_api.CloudAssembly) -> Synthesized:
    return Synthesized.from_assembly(opted_out_assembly, "Unalarmed")


# Access logs


def test_every_virtual_node_logs_access_to_envoys_standard_output(mesh_shop: Synthesized, variants: Variants) -> None:
    nodes = [
        *mesh_shop.resources("AWS::AppMesh::VirtualNode").values(),
        *variants("Observed").resources("AWS::AppMesh::VirtualNode").values(),
    ]
    assert len(nodes) == 3 + 3  # shop: web, orders, inventory; Observed: ledger, orders, orders-v2
    for node in nodes:
        assert node["Properties"]["Spec"]["Logging"] == {"AccessLog": {"File": {"Path": obs.ACCESS_LOG_PATH}}}


def test_envoys_standard_output_goes_to_the_services_retained_log_group(mesh_shop: Synthesized) -> None:
    for service in ("Web", "Orders", "Inventory"):
        options = _containers(mesh_shop, f"/{service}/")[ENVOY_CONTAINER_NAME]["LogConfiguration"]
        log_group = mesh_shop.logical_id("AWS::Logs::LogGroup", f"/{service}/")
        assert options["LogDriver"] == "awslogs"
        assert options["Options"]["awslogs-group"] == {"Ref": log_group}
        assert mesh_shop.json["Resources"][log_group]["DeletionPolicy"] == "Retain"


# Tracing


def test_tracing_turns_on_envoys_xray_tracer_in_every_version(variants: Variants) -> None:
    synth = variants("Observed")
    for path, containers in _task_definitions(synth):
        assert _environment(containers[ENVOY_CONTAINER_NAME])[XRAY_TRACING_VARIABLE] == "1", path


def test_tracing_adds_an_xray_daemon_whose_calls_bypass_envoy(variants: Variants) -> None:
    synth = variants("Observed")
    for path, containers in _task_definitions(synth):
        daemon = containers[obs.XRAY_DAEMON_CONTAINER_NAME]
        assert daemon["User"] == PROXY_IGNORED_UID, path  # the proxy configuration's ignored uid
        assert daemon["Essential"] is True
        assert daemon["Image"] == obs.XRAY_DAEMON_IMAGE
        assert daemon["LogConfiguration"]["LogDriver"] == "awslogs"
        # Envoy sends segments from its start; the application still waits for Envoy only.
        assert {"ContainerName": obs.XRAY_DAEMON_CONTAINER_NAME, "Condition": "START"} in (
            containers[ENVOY_CONTAINER_NAME]["DependsOn"]
        )
        assert containers["app"]["DependsOn"] == [{"ContainerName": ENVOY_CONTAINER_NAME, "Condition": "HEALTHY"}]


def test_tracing_lets_each_services_task_role_send_traces(variants: Variants) -> None:
    # Orders' versions share its task role: one grant reaches both.
    synth = variants("Observed")
    granted = [
        path
        for path, statement in _statements(synth)
        if sorted(_actions(statement)) == sorted(XRAY_DAEMON_ACTIONS) and statement["Resource"] == "*"
    ]
    assert sorted(granted) == [
        "Observed/Ledger/TaskDefinition/TaskRole/DefaultPolicy/Resource",
        "Observed/Orders/TaskDefinition/TaskRole/DefaultPolicy/Resource",
    ]


def test_tracing_is_off_by_default(mesh_shop: Synthesized) -> None:
    for path, containers in _task_definitions(mesh_shop):
        assert obs.XRAY_DAEMON_CONTAINER_NAME not in containers, path
        assert XRAY_TRACING_VARIABLE not in _environment(containers[ENVOY_CONTAINER_NAME])
    assert not [s for _, s in _statements(mesh_shop) if any(a.startswith("xray:") for a in _actions(s))]


def test_tracing_reserves_the_daemons_port_for_itself() -> None:
    stack = cdk.Stack(new_app(), "Clash", env=ENV)
    cluster = MeshedCluster(
        stack,
        "Cluster",
        namespace="clash.local",
        data_plane=DataPlane.app_mesh(observability=Observability(tracing=True)),
    )
    with pytest.raises(ValueError, match=f"port={XRAY_DAEMON_PORT} is reserved"):
        MeshedService(stack, "Api", cluster=cluster, name="api", image=IMAGE, port=XRAY_DAEMON_PORT)


# Envoy statistics


def test_envoy_sends_its_statistics_to_the_agent_in_its_task(mesh_shop: Synthesized) -> None:
    for path, containers in _task_definitions(mesh_shop):
        environment = _environment(containers[ENVOY_CONTAINER_NAME])
        assert environment[DOG_STATSD_VARIABLE] == "1", path
        assert environment[STATS_TAGS_VARIABLE] == "1"  # appmesh.virtual_node on every statistic
        listener = _agent_config(containers[obs.CLOUDWATCH_AGENT_CONTAINER_NAME])["metrics"]["metrics_collected"]
        assert listener["statsd"]["service_address"] == f"{environment['STATSD_ADDRESS']}:{environment['STATSD_PORT']}"


def test_the_agent_publishes_envoys_statistics_in_one_namespace(mesh_shop: Synthesized, variants: Variants) -> None:
    for synth, namespace in ((mesh_shop, obs.DEFAULT_METRICS_NAMESPACE), (variants("Observed"), "Observed/Envoy")):
        for path, containers in _task_definitions(synth):
            agent = containers[obs.CLOUDWATCH_AGENT_CONTAINER_NAME]
            config = _agent_config(agent)
            assert config["metrics"]["namespace"] == namespace, path
            assert config["agent"]["omit_hostname"] is True  # tasks share metrics; no per-host dimension
            assert agent["Essential"] is True
            assert agent["Image"] == obs.CLOUDWATCH_AGENT_IMAGE
            assert agent["LogConfiguration"]["LogDriver"] == "awslogs"
            # The image writes its configuration where root owns it; its calls to CloudWatch
            # reach *.amazonaws.com through Envoy, which App Mesh always allows.
            assert "User" not in agent


def test_metrics_may_be_published_in_the_agents_namespace_only(mesh_shop: Synthesized, variants: Variants) -> None:
    for synth, namespace in ((mesh_shop, obs.DEFAULT_METRICS_NAMESPACE), (variants("Observed"), "Observed/Envoy")):
        granted = [(path, s) for path, s in _statements(synth) if PUT_METRIC_DATA in _actions(s)]
        policies = synth.resources("AWS::IAM::Policy").values()
        task_roles = [p for p in policies if p["Metadata"]["aws:cdk:path"].endswith("/TaskRole/DefaultPolicy/Resource")]
        assert len(granted) == len(task_roles)  # one per service's task role, which its versions share
        for path, statement in granted:
            assert path.endswith("/TaskRole/DefaultPolicy/Resource")
            assert _actions(statement) == [PUT_METRIC_DATA]
            assert statement["Condition"] == {"StringEquals": {NAMESPACE_CONDITION_KEY: namespace}}


def test_the_telemetry_grants_are_acknowledged_on_the_task_role_policy_with_reasons(variants: Variants) -> None:
    synth = variants("Observed")
    acknowledged = {f["path"]: f["reason"] for f in synth.acknowledged if f["rule"] == "AwsSolutions-IAM5[Resource::*]"}
    policies = [
        r["Metadata"]["aws:cdk:path"]
        for r in synth.resources("AWS::IAM::Policy").values()
        if r["Metadata"]["aws:cdk:path"].endswith("/TaskRole/DefaultPolicy/Resource")
    ]
    assert len(policies) == 2  # Ledger's, and the one Orders' versions share
    for path in policies:
        for action in (*obs.XRAY_ACTIONS, PUT_METRIC_DATA):
            assert UNSCOPABLE_ACTIONS[action] in acknowledged[path]
    assert synth.findings == []


def test_the_sidecars_variables_are_acknowledged_together(mesh_shop: Synthesized) -> None:
    reasons = {f["path"]: f["reason"] for f in mesh_shop.acknowledged if f["rule"] == "AwsSolutions-ECS2"}
    for service in ("Web", "Orders", "Inventory"):
        reason = reasons[f"Shop/{service}/TaskDefinition/Resource"]
        assert AGENT_CONFIG_VARIABLE in reason and DOG_STATSD_VARIABLE in reason


# Alarms


def test_each_service_has_a_5xx_alarm_and_an_unhealthy_hosts_alarm(mesh_shop: Synthesized) -> None:
    for service in ("Web", "Orders", "Inventory"):
        assert set(_alarms(mesh_shop, f"/{service}/AppMesh/Alarms/")) == {"ServerErrors", "UnhealthyHosts"}
    assert len(mesh_shop.resources("AWS::CloudWatch::Alarm")) == 6


def test_alarms_read_exactly_what_the_agent_publishes(mesh_shop: Synthesized, variants: Variants) -> None:
    for synth in (mesh_shop, variants("Observed")):
        configs = [_agent_config(c[obs.CLOUDWATCH_AGENT_CONTAINER_NAME]) for _, c in _task_definitions(synth)]
        namespaces = {config["metrics"]["namespace"] for config in configs}
        rollups = {frozenset(d) for config in configs for d in config["metrics"]["aggregation_dimensions"]}
        for alarm in _alarms(synth).values():
            for metric in _metric_stats(alarm).values():
                assert metric["namespace"] in namespaces
                # A roll-up the agent publishes has exactly these dimensions.
                assert frozenset(metric["dimensions"]) in rollups
                assert metric["name"] in {ENVOY_RESPONSES, ENVOY_REQUESTS, ENVOY_HEALTHY_HOSTS, ENVOY_HOSTS}


def test_the_5xx_alarm_divides_the_ingress_5xx_by_all_ingress_requests(mesh_shop: Synthesized) -> None:
    alarm = _alarms(mesh_shop, "/Orders/AppMesh/Alarms/")["ServerErrors"]
    metrics = _metric_stats(alarm)
    assert metrics["errors0"]["name"] == ENVOY_RESPONSES
    assert metrics["errors0"]["dimensions"] == {
        VIRTUAL_NODE_TAG: "orders_shop.local",
        CONNECTION_MANAGER_TAG: "ingress",  # App Mesh's single-listener ingress stat prefix
        RESPONSE_CLASS_TAG: "5",
    }
    assert metrics["requests0"]["name"] == ENVOY_REQUESTS
    assert metrics["requests0"]["dimensions"] == {
        VIRTUAL_NODE_TAG: "orders_shop.local",
        CONNECTION_MANAGER_TAG: "ingress",
    }
    assert {m["stat"] for m in metrics.values()} == {"Sum"}
    assert _expression(alarm) == "IF((FILL(requests0, 0)) > 0, 100 * (FILL(errors0, 0)) / (FILL(requests0, 0)), 0)"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5, "GreaterThanThreshold")
    assert (alarm["EvaluationPeriods"], {m["period"] for m in metrics.values()}) == (5, {60})


def test_the_5xx_alarm_counts_every_versions_requests(variants: Variants) -> None:
    alarm = _alarms(variants("Observed"), "/Orders/AppMesh/Alarms/")["ServerErrors"]
    nodes = {m["dimensions"][VIRTUAL_NODE_TAG] for m in _metric_stats(alarm).values()}
    assert nodes == {"orders_observed.local", "orders-v2_observed.local"}
    assert "FILL(errors0, 0) + FILL(errors1, 0)" in _expression(alarm)


def test_the_unhealthy_hosts_alarm_reads_callers_health_checks_of_every_version(variants: Variants) -> None:
    synth = variants("Observed")
    alarm = _alarms(synth, "/Orders/AppMesh/Alarms/")["UnhealthyHosts"]
    metrics = _metric_stats(alarm)
    mesh = synth.logical_id("AWS::AppMesh::Mesh", "/Cluster/")
    for index, node in enumerate(("orders_observed.local", "orders-v2_observed.local")):
        cluster = {"Fn::Join": ["", ["cds_egress_", {"Fn::GetAtt": [mesh, "MeshName"]}, f"_{node}_http_8080"]]}
        assert metrics[f"hosts{index}"] == {
            "namespace": "Observed/Envoy",
            "name": ENVOY_HOSTS,
            "dimensions": {CLUSTER_TAG: cluster},
            "stat": "Average",
            "period": 120,
        }
        assert metrics[f"healthy{index}"]["name"] == ENVOY_HEALTHY_HOSTS
        assert metrics[f"healthy{index}"]["dimensions"] == {CLUSTER_TAG: cluster}
    assert _expression(alarm) == "(FILL(hosts0, 0) + FILL(hosts1, 0)) - (FILL(healthy0, 0) + FILL(healthy1, 0))"


def test_alarm_thresholds_and_periods_follow_the_options(variants: Variants) -> None:
    alarms = _alarms(variants("Observed"), "/Orders/AppMesh/Alarms/")
    assert alarms["ServerErrors"]["Threshold"] == 2
    assert (alarms["UnhealthyHosts"]["Threshold"], alarms["UnhealthyHosts"]["ComparisonOperator"]) == (
        2,
        "GreaterThanOrEqualToThreshold",
    )
    for alarm in alarms.values():
        assert alarm["EvaluationPeriods"] == 3
        assert {m["period"] for m in _metric_stats(alarm).values()} == {120}
        assert alarm["TreatMissingData"] == "notBreaching"


def test_alarms_have_no_actions_until_the_application_adds_them(mesh_shop: Synthesized) -> None:
    for alarm in _alarms(mesh_shop).values():
        assert not {"AlarmActions", "OKActions", "InsufficientDataActions"} & set(alarm)


def test_tcp_services_have_no_5xx_alarm(variants: Variants) -> None:
    synth = variants("Observed")
    assert set(_alarms(synth, "/Ledger/AppMesh/Alarms/")) == {"UnhealthyHosts"}
    cluster = _metric_stats(_alarms(synth, "/Ledger/")["UnhealthyHosts"])["hosts0"]["dimensions"]
    assert cluster[CLUSTER_TAG]["Fn::Join"][1][-1] == "_ledger_observed.local_tcp_5432"


def test_alarms_are_typed_attributes_an_application_can_act_on(variants_app: CheckedApp) -> None:
    services = _services(variants_app, "Observed")
    orders, ledger = services["orders"].app_mesh.alarms, services["ledger"].app_mesh.alarms
    assert isinstance(orders, ServiceAlarms) and isinstance(ledger, ServiceAlarms)
    assert isinstance(orders.server_errors, cloudwatch.Alarm)
    assert isinstance(orders.unhealthy_hosts, cloudwatch.Alarm)
    assert orders.all == [orders.server_errors, orders.unhealthy_hosts]
    assert ledger.server_errors is None and ledger.all == [ledger.unhealthy_hosts]
    telemetry = services["orders"].app_mesh.telemetry
    assert set(telemetry) == {"v1", "v2"}
    assert all(t.xray_daemon is not None and t.cloudwatch_agent is not None for t in telemetry.values())


# Opting out


def test_opting_out_removes_access_logs_sidecars_grants_and_alarms(opted_out: Synthesized) -> None:
    (node,) = opted_out.resources("AWS::AppMesh::VirtualNode").values()
    assert "Logging" not in node["Properties"]["Spec"]
    ((_, containers),) = _task_definitions(opted_out)
    assert set(containers) == {"app", ENVOY_CONTAINER_NAME}
    assert set(_environment(containers[ENVOY_CONTAINER_NAME])) == {"APPMESH_RESOURCE_ARN"}
    assert not [s for _, s in _statements(opted_out) if PUT_METRIC_DATA in _actions(s)]
    assert opted_out.resources("AWS::CloudWatch::Alarm") == {}


def test_alarms_can_be_turned_off_alone(unalarmed: Synthesized) -> None:
    assert unalarmed.resources("AWS::CloudWatch::Alarm") == {}
    ((_, containers),) = _task_definitions(unalarmed)
    assert obs.CLOUDWATCH_AGENT_CONTAINER_NAME in containers


# Bad input


@pytest.mark.parametrize(
    ("observability", "error", "fragment"),
    [
        ("on", TypeError, "observability='on' is a str"),
        (Observability(tracing="yes"), TypeError, "observability.tracing='yes'"),  # type: ignore[arg-type]
        (Observability(server_error_percent_threshold=-1), ValueError, "server_error_percent_threshold=-1"),
        (Observability(server_error_percent_threshold=100), ValueError, "server_error_percent_threshold=100"),
        (
            Observability(server_error_percent_threshold="5"),  # type: ignore[arg-type]
            TypeError,
            "server_error_percent_threshold='5'",
        ),
        (Observability(unhealthy_hosts_threshold=0), ValueError, "unhealthy_hosts_threshold=0"),
        (Observability(unhealthy_hosts_threshold=1.5), TypeError, "unhealthy_hosts_threshold=1.5"),  # type: ignore[arg-type]
        (Observability(alarm_evaluation_periods=-2), ValueError, "alarm_evaluation_periods=-2"),
        (Observability(alarm_period=cdk.Duration.seconds(90)), ValueError, "alarm_period=1 minute 30 seconds"),
        (Observability(alarm_period=cdk.Duration.hours(12), alarm_evaluation_periods=3), ValueError, "exceed"),
        (Observability(alarm_period=60), TypeError, "alarm_period=60"),  # type: ignore[arg-type]
        (Observability(metrics_namespace="AWS/ECS"), ValueError, "metrics_namespace='AWS/ECS'"),
        (Observability(metrics_namespace=""), ValueError, "metrics_namespace=''"),
        (Observability(envoy_metrics=False), ValueError, "alarms=True reads the Envoy statistics"),
        (
            Observability(xray_daemon_image="public.ecr.aws/xray/aws-xray-daemon"),  # type: ignore[arg-type]
            TypeError,
            "observability.xray_daemon_image=",
        ),
    ],
)
def test_bad_observability_is_refused_before_anything_is_created(
    observability: Any, error: type[Exception], fragment: str
) -> None:
    stack = cdk.Stack(new_app(), "Refused", env=ENV)
    before = [c.node.path for c in stack.node.find_all()]
    with pytest.raises(error) as raised:
        MeshedCluster(
            stack, "Cluster", namespace="refused.local", data_plane=DataPlane.app_mesh(observability=observability)
        )
    assert fragment in str(raised.value)
    assert [c.node.path for c in stack.node.find_all()] == before


def test_every_problem_is_reported_at_once() -> None:
    stack = cdk.Stack(new_app(), "Refused", env=ENV)
    with pytest.raises(ValueError) as raised:
        MeshedCluster(
            stack,
            "Cluster",
            namespace="refused.local",
            data_plane=DataPlane.app_mesh(
                observability=Observability(unhealthy_hosts_threshold=0, metrics_namespace="AWS/Mine")
            ),
        )
    assert "unhealthy_hosts_threshold=0" in str(raised.value) and "metrics_namespace='AWS/Mine'" in str(raised.value)


def test_http2_and_grpc_services_get_a_5xx_alarm_too(variants: Variants) -> None:
    # HTTP/2 and gRPC go through Envoy's HTTP connection manager, with its status classes; TCP does not.
    synth = variants("Protocols")
    assert set(_alarms(synth, "/Http2/")) == {"ServerErrors", "UnhealthyHosts"}
    assert set(_alarms(synth, "/Grpc/")) == {"ServerErrors", "UnhealthyHosts"}
    assert set(_alarms(synth, "/Tcp/")) == {"UnhealthyHosts"}
    grpc = _metric_stats(_alarms(synth, "/Grpc/")["UnhealthyHosts"])["hosts0"]["dimensions"]
    assert grpc[CLUSTER_TAG]["Fn::Join"][1][-1] == "_rpc_proto.local_grpc_50051"


@pytest.fixture(scope="module")
def quiet_connect(opted_out_assembly: cx_api.CloudAssembly) -> Synthesized:
    return Synthesized.from_assembly(opted_out_assembly, "QuietConnect")


# Service Connect: access logs


def _service_connect_configuration(synth: Synthesized, path: str) -> dict[str, Any]:
    service = synth.json["Resources"][synth.logical_id("AWS::ECS::Service", f"/{path}/")]
    configuration: dict[str, Any] = service["Properties"]["ServiceConnectConfiguration"]
    return configuration


def test_service_connect_writes_the_proxys_access_log_by_default(variants: Variants) -> None:
    for service in ("Web", "Orders", "Inventory", "Ledger"):
        configuration = _service_connect_configuration(variants("ServiceConnect"), service)
        assert configuration["AccessLogConfiguration"]["Format"] == "JSON"


def test_access_logs_off_on_service_connect_keep_only_the_proxys_own_log(variants: Variants) -> None:
    synth = variants("ServiceConnectObserved")
    for service in ("Api", "Rpc"):
        configuration = _service_connect_configuration(synth, service)
        assert "AccessLogConfiguration" not in configuration
        assert configuration["LogConfiguration"]["LogDriver"] == "awslogs"


# Service Connect: alarms


def _alarm(synth: Synthesized, path: str) -> dict[str, Any]:
    """The properties of the alarm at construct path ``*<path>/Resource``."""
    (found,) = [
        resource["Properties"]
        for resource in synth.resources("AWS::CloudWatch::Alarm").values()
        if resource["Metadata"]["aws:cdk:path"].endswith(f"{path}/Resource")
    ]
    return found


def test_each_http_service_on_service_connect_has_a_5xx_alarm_and_a_response_time_alarm(
    variants: Variants,
) -> None:
    synth = variants("ServiceConnect")
    for service in ("Web", "Orders", "Inventory"):
        assert set(_alarms(synth, f"ServiceConnect/{service}/Alarms/")) == {"ServerErrors", "ResponseTime"}
    assert len(synth.resources("AWS::CloudWatch::Alarm")) == 6


def test_the_5xx_alarm_on_service_connect_divides_callers_5xx_by_their_requests(variants: Variants) -> None:
    alarm = _alarm(variants("ServiceConnect"), "ServiceConnect/Orders/Alarms/ServerErrors")
    metrics = _metric_stats(alarm)
    # AWS/ECS publishes responses per target on TargetDiscoveryName (the callers' proxies measure them).
    assert metrics == {
        "errors": {
            "namespace": "AWS/ECS",
            "name": "HTTPCode_Target_5XX_Count",
            "dimensions": {"TargetDiscoveryName": "orders"},
            "stat": "Sum",
            "period": 60,
        },
        "requests": {
            "namespace": "AWS/ECS",
            "name": "RequestCount",
            "dimensions": {"TargetDiscoveryName": "orders"},
            "stat": "Sum",
            "period": 60,
        },
    }
    assert _expression(alarm) == "IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5, "GreaterThanThreshold")
    assert (alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (5, "notBreaching")


def test_the_response_time_alarm_reads_the_average_target_response_time_in_milliseconds(
    variants: Variants,
) -> None:
    alarm = _alarm(variants("ServiceConnect"), "ServiceConnect/Orders/Alarms/ResponseTime")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ECS", "TargetResponseTime")
    assert alarm["Dimensions"] == [{"Name": "TargetDiscoveryName", "Value": "orders"}]
    assert (alarm["Statistic"], alarm["Period"]) == ("Average", 60)
    assert alarm["Threshold"] == sc_alarms.DEFAULT_RESPONSE_TIME_THRESHOLD.to_milliseconds()
    assert (alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == ("GreaterThanThreshold", 5)
    assert alarm["TreatMissingData"] == "notBreaching"


def test_service_connect_alarm_thresholds_and_periods_follow_the_options(variants: Variants) -> None:
    synth = variants("ServiceConnectObserved")
    errors = _alarm(synth, "ServiceConnectObserved/Api/Alarms/ServerErrors")
    response_time = _alarm(synth, "ServiceConnectObserved/Api/Alarms/ResponseTime")
    assert errors["Threshold"] == 2
    assert response_time["Threshold"] == 2000  # TargetResponseTime is in milliseconds: 2 seconds
    assert {m["period"] for m in _metric_stats(errors).values()} == {120}
    assert response_time["Period"] == 120
    assert errors["EvaluationPeriods"] == response_time["EvaluationPeriods"] == 3


def test_tcp_and_grpc_services_on_service_connect_have_no_alarms(variants: Variants) -> None:
    # TCP has no HTTP metrics; gRPC calls fail in grpc-status, not with a 5xx.
    assert _alarms(variants("ServiceConnect"), "/Ledger/") == {}
    assert _alarms(variants("ServiceConnectObserved"), "/Rpc/") == {}


def test_service_connect_alarms_have_no_actions(variants: Variants) -> None:
    for alarm in _alarms(variants("ServiceConnect")).values():
        assert not {"AlarmActions", "OKActions", "InsufficientDataActions"} & set(alarm)


def test_service_connect_alarms_can_be_turned_off(quiet_connect: Synthesized) -> None:
    assert quiet_connect.resources("AWS::CloudWatch::Alarm") == {}
    assert "AccessLogConfiguration" in _service_connect_configuration(quiet_connect, "Api")


def test_every_service_exposes_its_alarms_whatever_the_plane(variants_app: CheckedApp) -> None:
    mesh = _services(variants_app, "Observed")
    assert mesh["orders"].alarms is mesh["orders"].app_mesh.alarms
    connect = _services(variants_app, "ServiceConnect")
    orders = connect["orders"].alarms
    assert isinstance(orders, ServiceAlarms)
    assert isinstance(orders.server_errors, cloudwatch.Alarm) and isinstance(orders.response_time, cloudwatch.Alarm)
    assert orders.unhealthy_hosts is None
    assert orders.all == [orders.server_errors, orders.response_time]
    assert connect["ledger"].alarms is None
    assert mesh["orders"].app_mesh.alarms is not None and mesh["orders"].app_mesh.alarms.response_time is None


# Options of the other plane


ENVOY_ONLY: list[tuple[str, Any]] = [
    ("tracing", True),
    ("tracing", False),
    ("envoy_metrics", False),
    ("metrics_namespace", "Shop/Envoy"),
    ("unhealthy_hosts_threshold", 2),
    ("xray_daemon_image", IMAGE),
    ("cloudwatch_agent_image", IMAGE),
]


@pytest.mark.parametrize(("field", "value"), ENVOY_ONLY)
def test_envoy_options_are_refused_on_service_connect_by_name(field: str, value: Any) -> None:
    stack = cdk.Stack(new_app(), "Refused", env=ENV)
    before = [c.node.path for c in stack.node.find_all()]
    plane = DataPlane.service_connect(observability=Observability(**{field: value}))
    with pytest.raises(ValueError) as raised:
        MeshedCluster(stack, "Cluster", namespace="refused.local", data_plane=plane)
    message = str(raised.value)
    assert f"observability.{field}=" in message and "is an App Mesh option" in message
    assert f"Remove {field}= from Observability(...) on DataPlane.service_connect()" in message
    assert "stay on DataPlane.app_mesh()" in message
    assert [c.node.path for c in stack.node.find_all()] == before


def test_every_envoy_option_set_on_service_connect_is_named_at_once() -> None:
    stack = cdk.Stack(new_app(), "Refused", env=ENV)
    given = dict(ENVOY_ONLY[1:])  # one value per field
    with pytest.raises(ValueError) as raised:
        MeshedCluster(
            stack,
            "Cluster",
            namespace="refused.local",
            data_plane=DataPlane.service_connect(observability=Observability(**given)),
        )
    for field in given:
        assert f"observability.{field}=" in str(raised.value)


def test_response_time_threshold_is_refused_on_app_mesh_by_name() -> None:
    stack = cdk.Stack(new_app(), "Refused", env=ENV)
    plane = DataPlane.app_mesh(observability=Observability(response_time_threshold=cdk.Duration.seconds(2)))
    with pytest.raises(ValueError) as raised:
        MeshedCluster(stack, "Cluster", namespace="refused.local", data_plane=plane)
    message = str(raised.value)
    assert "observability.response_time_threshold=2 seconds is a Service Connect option" in message
    assert "or use DataPlane.service_connect()" in message


@pytest.mark.parametrize(
    ("observability", "error", "fragment"),
    [
        (Observability(response_time_threshold=cdk.Duration.seconds(0)), ValueError, "response_time_threshold=0"),
        (Observability(response_time_threshold=1000), TypeError, "response_time_threshold=1000"),  # type: ignore[arg-type]
        (Observability(access_logs="no"), TypeError, "observability.access_logs='no'"),  # type: ignore[arg-type]
        (Observability(alarm_period=cdk.Duration.seconds(30)), ValueError, "alarm_period=30 seconds"),
        (Observability(server_error_percent_threshold=150), ValueError, "server_error_percent_threshold=150"),
    ],
)
def test_bad_observability_is_refused_on_service_connect(
    observability: Any, error: type[Exception], fragment: str
) -> None:
    stack = cdk.Stack(new_app(), "Refused", env=ENV)
    with pytest.raises(error) as raised:
        MeshedCluster(
            stack,
            "Cluster",
            namespace="refused.local",
            data_plane=DataPlane.service_connect(observability=observability),
        )
    assert fragment in str(raised.value)
