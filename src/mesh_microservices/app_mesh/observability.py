"""Observability of the App Mesh data plane: access logs, X-Ray tracing, Envoy statistics, alarms.

``Observability`` (the plane-neutral option, ``mesh_microservices.observability``) is given to
``DataPlane.app_mesh(observability=...)`` and applies to every service of the cluster;
``AppMeshObservability.of`` puts App Mesh's defaults in place of the fields left to the plane.
This module is the one home of how Envoy's statistics reach the alarms:

1. Envoy (``ENABLE_ENVOY_DOG_STATSD=1``, ``ENABLE_ENVOY_STATS_TAGS=1``) sends its statistics
   over DogStatsD to the CloudWatch agent sidecar at ``STATSD_ADDRESS:STATSD_PORT``, each under
   its tag-extracted name with its tags: ``http.ingress.downstream_rq_5xx`` arrives as
   ``envoy.http.downstream_rq_xx`` tagged ``envoy.http_conn_manager_prefix:ingress`` and
   ``envoy.response_code_class:5``; ``cluster.<name>.membership_healthy`` as
   ``envoy.cluster.membership_healthy`` tagged ``envoy.cluster_name:<name>``. App Mesh adds
   ``appmesh.mesh`` and ``appmesh.virtual_node`` (the node's name) to every statistic (App Mesh
   user guide, "Envoy configuration variables").
2. The agent's StatsD listener replaces the dots of names with underscores
   (``envoy_http_downstream_rq_xx``), makes tags dimensions, and publishes into
   ``Observability.metrics_namespace``: each statistic with all its tags, and also the roll-ups
   of ``AGGREGATION_DIMENSIONS``, the same statistic with exactly those dimensions. The alarms
   read the roll-ups, whose dimensions this module chooses, not the full tag sets.
3. Per service, summed over its versions' virtual nodes:

   - server errors, percent: ``100 * Sum(SERVER_RESPONSES_METRIC)`` with
     ``{VIRTUAL_NODE_DIMENSION: <node>, CONNECTION_MANAGER_DIMENSION: INGRESS_PREFIX,
     RESPONSE_CLASS_DIMENSION: "5"}`` over ``Sum(REQUESTS_METRIC)`` with
     ``{VIRTUAL_NODE_DIMENSION: <node>, CONNECTION_MANAGER_DIMENSION: INGRESS_PREFIX}``: the
     requests the service's own Envoys answered with 5xx (HTTP, HTTP/2 and gRPC services);
   - unhealthy hosts: ``Average(HOSTS_METRIC) - Average(HEALTHY_HOSTS_METRIC)`` with
     ``{CLUSTER_DIMENSION: egress_cluster_name(...)}``: App Mesh runs a listener's health
     check from the callers' Envoys, each through its egress cluster for the node, so this is
     how many of the service's tasks its callers' Envoys count as unhealthy, on average.

Envoy emits hundreds of statistics and CloudWatch bills each distinct name and dimension set as
a custom metric; ``Observability(envoy_metrics=False, alarms=False)`` turns that off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from aws_cdk import Duration
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._acknowledgments import acknowledge_sidecar_environment
from .._validate import ValidationProblems
from ..observability import METRICS_INTERVAL_SECONDS, Observability, ServiceAlarms, shown
from ..options import ListenerProtocol
from ..security import ALL_CAPABILITIES, DEFAULT_DROPPED_CAPABILITIES, ContainerSecurity, container_options
from .envoy import ENVOY_CONTAINER_NAME, ENVOY_USER_ID

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch

_T = TypeVar("_T")

# Envoy writes its access log here; the Envoy container's awslogs driver ships it.
ACCESS_LOG_PATH = "/dev/stdout"

# X-Ray: Envoy sends segments to the daemon at 127.0.0.1:2000 (App Mesh's default endpoint).
ENVOY_XRAY_TRACING_VARIABLE = "ENABLE_ENVOY_XRAY_TRACING"
XRAY_DAEMON_PORT = 2000  # UDP for segments, TCP for the sampling proxy of X-Ray SDKs
XRAY_DAEMON_CONTAINER_NAME = "xray-daemon"
# Pinned releases, never ``:latest``: a moving tag makes two tasks of one deployment run different
# code. Override with ``Observability(xray_daemon_image=..., cloudwatch_agent_image=...)``.
XRAY_DAEMON_VERSION = "3.6.6"  # aws/aws-xray-daemon release, 2026-07
XRAY_DAEMON_IMAGE = f"public.ecr.aws/xray/aws-xray-daemon:{XRAY_DAEMON_VERSION}"
XRAY_ACTIONS = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)

# Envoy statistics over DogStatsD to the CloudWatch agent in the same task.
ENVOY_DOG_STATSD_VARIABLE = "ENABLE_ENVOY_DOG_STATSD"
ENVOY_STATS_TAGS_VARIABLE = "ENABLE_ENVOY_STATS_TAGS"
STATSD_ADDRESS = "127.0.0.1"
STATSD_PORT = 8125
CLOUDWATCH_AGENT_CONTAINER_NAME = "cloudwatch-agent"
CLOUDWATCH_AGENT_VERSION = "1.300072.0b1766"  # aws/amazon-cloudwatch-agent release 1.300072.0, 2026-08
CLOUDWATCH_AGENT_IMAGE = f"public.ecr.aws/cloudwatch-agent/cloudwatch-agent:{CLOUDWATCH_AGENT_VERSION}"
CLOUDWATCH_AGENT_CONFIG_VARIABLE = "CW_CONFIG_CONTENT"
DEFAULT_METRICS_NAMESPACE = "MeshMicroservices/Envoy"
# The daemon runs as Envoy's ignored uid (its calls to X-Ray bypass Envoy) and writes no file: a
# read-only root file system and no capability.
XRAY_DAEMON_SECURITY = ContainerSecurity(
    readonly_root_filesystem=True, user=str(ENVOY_USER_ID), drop_capabilities=ALL_CAPABILITIES
)
# The agent runs as its image's root and writes its translated configuration and its own logs
# under /opt/aws/amazon-cloudwatch-agent, beside files the image ships there: a scratch volume
# would hide them, so its root file system stays writable. It drops what a root process that
# binds a UDP port above 1024 and writes its own files never needs.
CLOUDWATCH_AGENT_SECURITY = ContainerSecurity(drop_capabilities=DEFAULT_DROPPED_CAPABILITIES)
# The agent publishes StatsD metrics as statistic sets at the interval alarm periods are multiples of.
METRICS_AGGREGATION_SECONDS = METRICS_INTERVAL_SECONDS
PUT_METRIC_DATA_ACTION = "cloudwatch:PutMetricData"
NAMESPACE_CONDITION_KEY = "cloudwatch:namespace"

# What the alarms read (see the module docstring).
SERVER_RESPONSES_METRIC = "envoy_http_downstream_rq_xx"
REQUESTS_METRIC = "envoy_http_downstream_rq_total"
HEALTHY_HOSTS_METRIC = "envoy_cluster_membership_healthy"
HOSTS_METRIC = "envoy_cluster_membership_total"
VIRTUAL_NODE_DIMENSION = "appmesh.virtual_node"
CONNECTION_MANAGER_DIMENSION = "envoy.http_conn_manager_prefix"
RESPONSE_CLASS_DIMENSION = "envoy.response_code_class"
CLUSTER_DIMENSION = "envoy.cluster_name"
INGRESS_PREFIX = "ingress"  # the stat prefix of the HTTP connection manager of App Mesh's ingress listener
SERVER_ERROR_CLASS = "5"
AGGREGATION_DIMENSIONS = (
    (VIRTUAL_NODE_DIMENSION, CONNECTION_MANAGER_DIMENSION, RESPONSE_CLASS_DIMENSION),
    (VIRTUAL_NODE_DIMENSION, CONNECTION_MANAGER_DIMENSION),
    (CLUSTER_DIMENSION,),
)

# App Mesh's values of the fields ``Observability`` leaves to the plane (None there).
DEFAULT_TRACING = False
DEFAULT_ENVOY_METRICS = True
DEFAULT_UNHEALTHY_HOSTS_THRESHOLD = 1
# What App Mesh cannot do, by field: a Service Connect option set on App Mesh is refused.
REFUSED_FIELDS = {
    "response_time_threshold": "App Mesh's alarms watch 5xx responses and unhealthy tasks, not response time",
}


@dataclass(frozen=True, kw_only=True)
class AppMeshObservability:
    """An ``Observability`` with App Mesh's defaults in place of its Nones: what App Mesh records.

    Attributes are those of ``Observability`` that App Mesh reads (see there), each with its
    effective value.
    """

    access_logs: bool
    tracing: bool
    envoy_metrics: bool
    alarms: bool
    metrics_namespace: str
    server_error_percent_threshold: float
    unhealthy_hosts_threshold: int
    alarm_period: Duration
    alarm_evaluation_periods: int
    xray_daemon_image: ecs.ContainerImage | None
    cloudwatch_agent_image: ecs.ContainerImage | None

    @classmethod
    def of(cls, observability: Observability) -> AppMeshObservability:
        """``observability`` as App Mesh applies it (call after ``check_app_mesh_observability``)."""

        def default(value: _T | None, fallback: _T) -> _T:
            return fallback if value is None else value

        return cls(
            access_logs=observability.access_logs,
            tracing=default(observability.tracing, DEFAULT_TRACING),
            envoy_metrics=default(observability.envoy_metrics, DEFAULT_ENVOY_METRICS),
            alarms=observability.alarms,
            metrics_namespace=default(observability.metrics_namespace, DEFAULT_METRICS_NAMESPACE),
            server_error_percent_threshold=observability.server_error_percent_threshold,
            unhealthy_hosts_threshold=default(
                observability.unhealthy_hosts_threshold, DEFAULT_UNHEALTHY_HOSTS_THRESHOLD
            ),
            alarm_period=observability.alarm_period,
            alarm_evaluation_periods=observability.alarm_evaluation_periods,
            xray_daemon_image=observability.xray_daemon_image,
            cloudwatch_agent_image=observability.cloudwatch_agent_image,
        )

    def reserved_ports(self) -> frozenset[int]:
        """Ports the observability sidecars listen on inside every task."""
        return frozenset({XRAY_DAEMON_PORT}) if self.tracing else frozenset()


@dataclass(frozen=True)
class VersionTelemetry:
    """The observability sidecars of one version's task (their grants are on its task role).

    Attributes:
        xray_daemon: The X-Ray daemon sidecar; None unless ``tracing``.
        cloudwatch_agent: The CloudWatch agent sidecar; None unless ``envoy_metrics``.
    """

    xray_daemon: ecs.ContainerDefinition | None
    cloudwatch_agent: ecs.ContainerDefinition | None


def check_app_mesh_observability(problems: ValidationProblems, parameter: str, value: object) -> None:
    """Record what in an ``Observability`` App Mesh cannot do, after ``check_observability``."""
    if not isinstance(value, Observability):
        return  # check_observability has recorded it
    for field, reason in REFUSED_FIELDS.items():
        given = getattr(value, field)
        if given is not None:
            problems.add(
                f"{parameter}.{field}={shown(given)} is a Service Connect option: {reason}. Remove {field}= "
                "from Observability(...) on DataPlane.app_mesh(), or use DataPlane.service_connect()."
            )
    if value.alarms is True and value.envoy_metrics is False:
        problems.add(
            f"{parameter}: alarms=True reads the Envoy statistics that envoy_metrics=False turns off; "
            "pass alarms=False as well, or keep envoy_metrics=True."
        )


def access_log(observability: AppMeshObservability) -> appmesh.AccessLog | None:
    """The access log of every virtual node: Envoy's standard output, or none."""
    return appmesh.AccessLog.from_file_path(ACCESS_LOG_PATH) if observability.access_logs else None


def add_telemetry(
    observability: AppMeshObservability,
    *,
    task_definition: ecs.TaskDefinition,
    envoy: ecs.ContainerDefinition,
    log_group: logs.ILogGroup,
    stream_suffix: str,
) -> VersionTelemetry:
    """Turn on Envoy's tracing and statistics in one task, with the sidecars and grants they need.

    The grants join the task role's default policy (no resource of their own: a stack holds at
    most 500), where ``acknowledge_task_findings`` acknowledges them.

    Args:
        observability: What to record.
        task_definition: The task holding ``envoy``.
        envoy: The task's Envoy container.
        log_group: Where the sidecars' output goes.
        stream_suffix: Appended to the sidecars' log stream prefixes (a version's "-v2").
    """
    statements: list[iam.PolicyStatement] = []
    variables: list[str] = []
    daemon = agent = None
    if observability.tracing:
        daemon = _add_xray_daemon(observability, task_definition, envoy, log_group, stream_suffix)
        variables.append(ENVOY_XRAY_TRACING_VARIABLE)
        statements.append(iam.PolicyStatement(actions=list(XRAY_ACTIONS), resources=["*"]))
    if observability.envoy_metrics:
        variables += _send_envoy_statistics(envoy)
        agent = _add_cloudwatch_agent(observability, task_definition, log_group, stream_suffix)
        statements.append(
            iam.PolicyStatement(
                actions=[PUT_METRIC_DATA_ACTION],
                resources=["*"],
                conditions={"StringEquals": {NAMESPACE_CONDITION_KEY: observability.metrics_namespace}},
            )
        )
    if variables:
        acknowledge_sidecar_environment(
            task_definition,
            container_name=ENVOY_CONTAINER_NAME,
            variables=f"{', '.join(variables)}, switches and the local address of its telemetry sidecars",
        )
    for statement in statements:
        task_definition.add_to_task_role_policy(statement)
    return VersionTelemetry(xray_daemon=daemon, cloudwatch_agent=agent)


def _add_xray_daemon(
    observability: AppMeshObservability,
    task_definition: ecs.TaskDefinition,
    envoy: ecs.ContainerDefinition,
    log_group: logs.ILogGroup,
    stream_suffix: str,
) -> ecs.ContainerDefinition:
    """Envoy traces to an X-Ray daemon beside it, which starts first."""
    envoy.add_environment(ENVOY_XRAY_TRACING_VARIABLE, "1")
    daemon = task_definition.add_container(
        "XRayDaemon",
        container_name=XRAY_DAEMON_CONTAINER_NAME,
        image=observability.xray_daemon_image or ecs.ContainerImage.from_registry(XRAY_DAEMON_IMAGE),
        # Essential: a task never serves without the tracing it was declared with, and a
        # daemon that cannot start fails the deployment, which the circuit breaker rolls back.
        essential=True,
        **container_options(task_definition, XRAY_DAEMON_SECURITY, id="XRayDaemonLinuxParameters"),
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix=f"{XRAY_DAEMON_CONTAINER_NAME}{stream_suffix}", log_group=log_group
        ),
    )
    # Envoy sends its first segments as soon as it starts.
    envoy.add_container_dependencies(
        ecs.ContainerDependency(container=daemon, condition=ecs.ContainerDependencyCondition.START)
    )
    return daemon


def _send_envoy_statistics(envoy: ecs.ContainerDefinition) -> list[str]:
    """Envoy sends its statistics, tagged, over DogStatsD to the agent beside it: the variables set."""
    variables = []
    for name, value in (
        (ENVOY_DOG_STATSD_VARIABLE, "1"),
        (ENVOY_STATS_TAGS_VARIABLE, "1"),
        ("STATSD_ADDRESS", STATSD_ADDRESS),
        ("STATSD_PORT", str(STATSD_PORT)),
    ):
        envoy.add_environment(name, value)
        variables.append(name)
    return variables


def _add_cloudwatch_agent(
    observability: AppMeshObservability,
    task_definition: ecs.TaskDefinition,
    log_group: logs.ILogGroup,
    stream_suffix: str,
) -> ecs.ContainerDefinition:
    """The CloudWatch agent that publishes Envoy's statistics in the observability's namespace."""
    agent = task_definition.add_container(
        "CloudWatchAgent",
        container_name=CLOUDWATCH_AGENT_CONTAINER_NAME,
        image=observability.cloudwatch_agent_image or ecs.ContainerImage.from_registry(CLOUDWATCH_AGENT_IMAGE),
        essential=True,  # as the X-Ray daemon: the alarms go blind without it
        **container_options(task_definition, CLOUDWATCH_AGENT_SECURITY, id="CloudWatchAgentLinuxParameters"),
        # The image's own user: it writes its translated configuration to a directory root
        # owns, so it cannot run as 1337. Its calls to CloudWatch pass through Envoy, which
        # App Mesh always lets reach *.amazonaws.com, even with egress filter DROP_ALL.
        environment={CLOUDWATCH_AGENT_CONFIG_VARIABLE: cloudwatch_agent_config(observability.metrics_namespace)},
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix=f"{CLOUDWATCH_AGENT_CONTAINER_NAME}{stream_suffix}", log_group=log_group
        ),
    )
    acknowledge_sidecar_environment(
        task_definition,
        container_name=CLOUDWATCH_AGENT_CONTAINER_NAME,
        variables=f"{CLOUDWATCH_AGENT_CONFIG_VARIABLE}, the agent's configuration (StatsD listener, namespace)",
    )
    return agent


def cloudwatch_agent_config(namespace: str) -> str:
    """The CloudWatch agent's JSON configuration: a StatsD listener for Envoy, publishing in ``namespace``."""
    config = {
        # No "host" dimension: every task of a version publishes into the same metrics.
        "agent": {"omit_hostname": True},
        "metrics": {
            "namespace": namespace,
            "aggregation_dimensions": [list(dimensions) for dimensions in AGGREGATION_DIMENSIONS],
            "metrics_collected": {
                "statsd": {
                    "service_address": f"{STATSD_ADDRESS}:{STATSD_PORT}",
                    "metrics_aggregation_interval": METRICS_AGGREGATION_SECONDS,
                }
            },
        },
    }
    return json.dumps(config, separators=(",", ":"))


def egress_cluster_name(mesh_name: str, node_name: str, protocol: ListenerProtocol, port: int) -> str:
    """The name of a caller's Envoy cluster for a virtual node: App Mesh's ``cds_egress_...``."""
    return f"cds_egress_{mesh_name}_{node_name}_{protocol.value}_{port}"


def add_alarms(
    scope: Construct,
    observability: AppMeshObservability,
    *,
    service_name: str,
    mesh: appmesh.IMesh,
    node_names: list[str],
    protocol: ListenerProtocol,
    port: int,
) -> ServiceAlarms | None:
    """The alarms of one service, over the virtual nodes of all its versions; None when off.

    Args:
        scope: Where the alarms' construct ("Alarms") is created.
        observability: Thresholds and periods.
        service_name: The name callers dial, for the alarms' descriptions.
        mesh: The mesh (its name is part of callers' cluster names).
        node_names: The virtual node name of each version.
        protocol: The service's listener protocol.
        port: The service's listener port.
    """
    if not (observability.alarms and observability.envoy_metrics):
        return None
    scope = Construct(scope, "Alarms")
    mesh_name = mesh.mesh_name
    server_errors = None
    if protocol is not ListenerProtocol.TCP:
        server_errors = _server_errors_alarm(scope, observability, service_name, node_names)
    cluster_names = [egress_cluster_name(mesh_name, node, protocol, port) for node in node_names]
    unhealthy_hosts = _unhealthy_hosts_alarm(scope, observability, service_name, cluster_names)
    return ServiceAlarms(server_errors=server_errors, unhealthy_hosts=unhealthy_hosts)


def _metric(
    observability: AppMeshObservability, name: str, statistic: str, dimensions: dict[str, str]
) -> cloudwatch.Metric:
    """An Envoy statistic as the CloudWatch agent publishes it, over one alarm period."""
    # Imported when used: every aws_cdk module loaded delays each synth's start.
    from aws_cdk import aws_cloudwatch as cloudwatch

    return cloudwatch.Metric(
        namespace=observability.metrics_namespace,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=observability.alarm_period,
    )


def _total(prefix: str, count: int) -> str:
    """The sum of the metrics ``<prefix>0`` .. ``<prefix><count - 1>``, a missing one counting 0."""
    return " + ".join(f"FILL({prefix}{index}, 0)" for index in range(count))


def _server_errors_alarm(
    scope: Construct, observability: AppMeshObservability, service_name: str, node_names: list[str]
) -> cloudwatch.Alarm:
    """The share of the service's requests its Envoys answered with 5xx, over every version."""
    from aws_cdk import aws_cloudwatch as cloudwatch

    period, periods = observability.alarm_period, observability.alarm_evaluation_periods
    using: dict[str, cloudwatch.IMetric] = {}
    for index, node in enumerate(node_names):
        ingress = {VIRTUAL_NODE_DIMENSION: node, CONNECTION_MANAGER_DIMENSION: INGRESS_PREFIX}
        using[f"errors{index}"] = _metric(
            observability, SERVER_RESPONSES_METRIC, "Sum", {**ingress, RESPONSE_CLASS_DIMENSION: SERVER_ERROR_CLASS}
        )
        using[f"requests{index}"] = _metric(observability, REQUESTS_METRIC, "Sum", ingress)
    errors, requests = _total("errors", len(node_names)), _total("requests", len(node_names))
    return cloudwatch.Alarm(
        scope,
        "ServerErrors",
        metric=cloudwatch.MathExpression(
            expression=f"IF(({requests}) > 0, 100 * ({errors}) / ({requests}), 0)",
            using_metrics=using,
            period=period,
            label="5xx responses (%)",
        ),
        threshold=observability.server_error_percent_threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=periods,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=(
            f"{service_name}: more than {observability.server_error_percent_threshold:g}% of its requests "
            f"answered with 5xx by its Envoys, for {periods} periods of {period.to_human_string()}."
        ),
    )


def _unhealthy_hosts_alarm(
    scope: Construct, observability: AppMeshObservability, service_name: str, cluster_names: list[str]
) -> cloudwatch.Alarm:
    """How many of the service's tasks its callers' Envoys count unhealthy, over every version's cluster."""
    from aws_cdk import aws_cloudwatch as cloudwatch

    period, periods = observability.alarm_period, observability.alarm_evaluation_periods
    using: dict[str, cloudwatch.IMetric] = {}
    for index, cluster_name in enumerate(cluster_names):
        cluster = {CLUSTER_DIMENSION: cluster_name}
        using[f"hosts{index}"] = _metric(observability, HOSTS_METRIC, "Average", cluster)
        using[f"healthy{index}"] = _metric(observability, HEALTHY_HOSTS_METRIC, "Average", cluster)
    count = len(cluster_names)
    return cloudwatch.Alarm(
        scope,
        "UnhealthyHosts",
        metric=cloudwatch.MathExpression(
            expression=f"({_total('hosts', count)}) - ({_total('healthy', count)})",
            using_metrics=using,
            period=period,
            label="Unhealthy tasks",
        ),
        threshold=observability.unhealthy_hosts_threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=periods,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=(
            f"{service_name}: its callers' Envoys count {observability.unhealthy_hosts_threshold} or more of its "
            f"tasks as unhealthy, for {periods} periods of {period.to_human_string()}."
        ),
    )
