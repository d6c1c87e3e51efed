"""What a data plane records about every service of a cluster: the ``Observability`` option.

``Observability`` is given to ``DataPlane.app_mesh(observability=...)`` or
``DataPlane.service_connect(observability=...)``. Some fields mean the same on both planes,
others only on one; each field's docstring names its plane. A field of one plane that is set on
the other is refused by name (each plane's package says which it refuses and why), never
ignored. Fields that only one plane reads default to None, "the plane's default", so that a
value the user set can be told from a default.

This module holds what is common: the option type, the checks of its values, and
``ServiceAlarms``, how a service's alarms are exposed on either plane. How each plane records
and alarms lives in its package (``app_mesh/observability.py``, ``service_connect/alarms.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs

from ._validate import ValidationProblems, check_option, check_type, is_token, kind_of, refuse_token

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch

# Both data planes' metrics reach CloudWatch once a minute: alarm periods are whole minutes.
METRICS_INTERVAL_SECONDS = 60
# CloudWatch evaluates an alarm over at most one day (evaluation periods times period).
MAX_ALARM_WINDOW_SECONDS = 86400
# CloudWatch's rules for a namespace; "AWS/" belongs to AWS services.
_NAMESPACE = re.compile(r"^[0-9A-Za-z.\-_/#: ]{1,255}$")


@dataclass(frozen=True, kw_only=True)
class Observability:
    """What the data plane records about every service of a cluster, and the alarms it makes.

    Given to ``DataPlane.app_mesh(observability=...)`` or
    ``DataPlane.service_connect(observability=...)``; every service of the cluster gets the
    same. A field marked "App Mesh only" or "Service Connect only" is refused by name on the
    other plane when it is set; leave it at None there.

    Attributes:
        access_logs: Both planes. App Mesh: every virtual node has Envoy log each request to
            ``/dev/stdout``, which the Envoy container sends to the service's log group. Service
            Connect: ECS's proxy writes a JSON access log to the service's log group (its own
            log lines go there either way). Default: True.
        tracing: App Mesh only. Envoy traces requests with AWS X-Ray: an X-Ray daemon sidecar
            (uid 1337, so its calls to X-Ray bypass the proxy) in every task, and the task role
            may send trace segments. The application's X-Ray SDK reaches the same daemon at
            127.0.0.1:2000. Default: None, which is False on App Mesh.
        envoy_metrics: App Mesh only. Envoy's statistics go to CloudWatch through a CloudWatch
            agent sidecar in every task, in ``metrics_namespace``; the task role may publish
            metrics in that namespace only. Each distinct statistic is a billed custom metric.
            (ECS publishes Service Connect's metrics in ``AWS/ECS`` itself.) Default: None,
            which is True on App Mesh.
        alarms: Both planes. Alarms per service, without actions: add yours through
            ``service.alarms``. App Mesh: the share of requests answered with 5xx (HTTP, HTTP/2
            and gRPC services) and unhealthy tasks, read from the agent's metrics (needs
            ``envoy_metrics``). Service Connect: the share of requests answered with 5xx and the
            average response time, read from ``AWS/ECS``, for HTTP and HTTP/2 services only (TCP
            has no HTTP metrics; gRPC calls fail in grpc-status, not with a 5xx). Default: True.
        metrics_namespace: App Mesh only. The CloudWatch namespace of Envoy's statistics.
            Default: None, which is "MeshMicroservices/Envoy" on App Mesh.
        server_error_percent_threshold: Both planes. The 5xx alarm fires when more than this
            percentage of a service's requests get a 5xx answer; at least 0 and below 100.
            Default: 5.
        unhealthy_hosts_threshold: App Mesh only. The unhealthy-tasks alarm fires when callers'
            Envoys count at least this many of a service's tasks as unhealthy. Default: None,
            which is 1 on App Mesh.
        response_time_threshold: Service Connect only. The response-time alarm fires when a
            service's responses take longer than this on average. Default: None, which is one
            second on Service Connect.
        alarm_period: Both planes. The period over which each alarm's metrics are aggregated,
            a whole number of minutes. Default: one minute.
        alarm_evaluation_periods: Both planes. How many consecutive periods must breach before
            an alarm fires. Default: 5.
        xray_daemon_image: App Mesh only. The X-Ray daemon image. Default: None, which is AWS's
            image pinned to a release (``mesh_microservices.app_mesh.observability.XRAY_DAEMON_IMAGE``,
            ``public.ecr.aws/xray/aws-xray-daemon:3.6.6``); pass a copy in your registry, or a newer
            release, to override it.
        cloudwatch_agent_image: App Mesh only. The CloudWatch agent image. Default: None, which is
            AWS's image pinned to a release (``...observability.CLOUDWATCH_AGENT_IMAGE``,
            ``public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300072.0b1766``); override it the
            same way.
    """

    access_logs: bool = True
    tracing: bool | None = None
    envoy_metrics: bool | None = None
    alarms: bool = True
    metrics_namespace: str | None = None
    server_error_percent_threshold: float = 5.0
    unhealthy_hosts_threshold: int | None = None
    response_time_threshold: Duration | None = None
    alarm_period: Duration = Duration.minutes(1)
    alarm_evaluation_periods: int = 5
    xray_daemon_image: ecs.ContainerImage | None = None
    cloudwatch_agent_image: ecs.ContainerImage | None = None

    def _check(self, problems: ValidationProblems, where: str) -> None:
        """Record what is wrong with the values, naming each as ``<where>.<field>`` (not whether a plane takes them)."""
        for name in ("access_logs", "alarms"):
            check_type(problems, f"{where}.{name}", getattr(self, name), bool)
        for name in ("tracing", "envoy_metrics"):
            if getattr(self, name) is not None:
                check_type(problems, f"{where}.{name}", getattr(self, name), bool)
        if self.metrics_namespace is not None:
            _check_namespace(problems, f"{where}.metrics_namespace", self.metrics_namespace)
        _check_percent(problems, f"{where}.server_error_percent_threshold", self.server_error_percent_threshold)
        if self.unhealthy_hosts_threshold is not None:
            _check_count(problems, f"{where}.unhealthy_hosts_threshold", self.unhealthy_hosts_threshold)
        if self.response_time_threshold is not None:
            _check_response_time(problems, f"{where}.response_time_threshold", self.response_time_threshold)
        _check_count(problems, f"{where}.alarm_evaluation_periods", self.alarm_evaluation_periods)
        _check_period(problems, where, self)
        for name in ("xray_daemon_image", "cloudwatch_agent_image"):
            image = getattr(self, name)
            if image is not None:
                check_type(problems, f"{where}.{name}", image, ecs.ContainerImage)


@dataclass(frozen=True)
class ServiceAlarms:
    """The alarms of one service; they have no actions until you add some.

    Attributes:
        server_errors: The share of requests answered with 5xx, in percent; None for TCP
            services on App Mesh. (On Service Connect, TCP and gRPC services have no alarms.)
        unhealthy_hosts: How many of the service's tasks its callers' Envoys count as
            unhealthy (App Mesh); None on Service Connect.
        response_time: The service's average response time (Service Connect); None on App Mesh.
    """

    server_errors: cloudwatch.Alarm | None
    unhealthy_hosts: cloudwatch.Alarm | None = None
    response_time: cloudwatch.Alarm | None = None

    @property
    def all(self) -> list[cloudwatch.Alarm]:
        """Every alarm of the service, e.g. to add one SNS action to each."""
        alarms = (self.server_errors, self.unhealthy_hosts, self.response_time)
        return [alarm for alarm in alarms if alarm is not None]


def check_observability(problems: ValidationProblems, parameter: str, value: object) -> None:
    """Record what is wrong with an ``Observability`` option's values, naming each field.

    Whether a field may be set on a plane at all is each plane's check.
    """
    check_option(problems, parameter, value, Observability)


def shown(value: object) -> str:
    """A field's value as a message shows it: durations in words, images by their type."""
    if isinstance(value, Duration):
        return value.to_human_string()
    if isinstance(value, ecs.ContainerImage):
        return f"<{type(value).__name__}>"
    return repr(value)


def _check_namespace(problems: ValidationProblems, parameter: str, namespace: object) -> None:
    if not check_type(problems, parameter, namespace, str):
        return
    assert isinstance(namespace, str)
    if is_token(namespace):
        refuse_token(problems, parameter, namespace, "it is written into the agent's configuration, e.g. 'Shop/Envoy'")
    elif not _NAMESPACE.match(namespace) or not namespace.strip() or namespace.startswith("AWS/"):
        problems.add(
            f"{parameter}={namespace!r} is not a CloudWatch namespace of your own; use up to 255 letters, digits "
            "and . - _ / # : or spaces, not starting with 'AWS/', e.g. 'Shop/Envoy'."
        )


def _check_percent(problems: ValidationProblems, parameter: str, percent: object) -> None:
    if isinstance(percent, bool) or not isinstance(percent, (int, float)):
        problems.add(f"{parameter}={percent!r} is {kind_of(percent)}; pass a number.", kind=TypeError)
    elif not (is_token(percent) or 0 <= percent < 100):
        problems.add(
            f"{parameter}={percent} is not a percentage from 0 to 100 (exclusive); "
            "pass e.g. 5 to be alerted when more than 5% of requests fail."
        )


def _check_count(problems: ValidationProblems, parameter: str, value: object) -> None:
    if check_type(problems, parameter, value, int) and not is_token(value) and isinstance(value, int) and value < 1:
        problems.add(f"{parameter}={value} is too small; use 1 or more.")


def _check_response_time(problems: ValidationProblems, parameter: str, threshold: object) -> None:
    if not check_type(problems, parameter, threshold, Duration):
        return
    assert isinstance(threshold, Duration)
    if not threshold.is_unresolved() and threshold.to_milliseconds(integral=False) <= 0:
        problems.add(f"{parameter}={threshold.to_human_string()} is not above zero; use e.g. Duration.seconds(1).")


def _check_period(problems: ValidationProblems, parameter: str, value: Observability) -> None:
    period = value.alarm_period
    if not check_type(problems, f"{parameter}.alarm_period", period, Duration) or period.is_unresolved():
        return
    seconds = period.to_seconds()
    if seconds < METRICS_INTERVAL_SECONDS or seconds % METRICS_INTERVAL_SECONDS:
        problems.add(
            f"{parameter}.alarm_period={period.to_human_string()} is not a whole number of minutes; the data "
            "planes publish their metrics once a minute, so use e.g. Duration.minutes(1)."
        )
        return
    periods = value.alarm_evaluation_periods
    countable = isinstance(periods, int) and not isinstance(periods, bool) and not is_token(periods)
    if countable and seconds * periods > MAX_ALARM_WINDOW_SECONDS:
        problems.add(
            f"{parameter}: alarm_evaluation_periods={periods} periods of {period.to_human_string()} exceed "
            "the one day CloudWatch alarms evaluate; shorten the period or evaluate fewer periods."
        )
