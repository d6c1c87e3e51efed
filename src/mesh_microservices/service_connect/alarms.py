"""The alarms of a service on Service Connect, read from the metrics ECS publishes in ``AWS/ECS``.

ECS publishes the Service Connect proxy's metrics in CloudWatch namespace ``AWS/ECS`` once a
minute (Amazon ECS Developer Guide, "Amazon ECS CloudWatch metrics"), in two families:

- inbound, measured by the proxy in the server's own tasks, with dimensions ``DiscoveryName``
  (or ``DiscoveryName, ServiceName, ClusterName``, ServiceName being the server's ECS service):
  connection and request counts;
- target, measured by the callers' proxies for the service they call, with dimensions
  ``TargetDiscoveryName`` (or ``TargetDiscoveryName, ServiceName, ClusterName``, ServiceName
  being the *caller's* ECS service): ``RequestCount``, the response classes
  ``HTTPCode_Target_2XX_Count`` to ``HTTPCode_Target_5XX_Count`` and ``TargetResponseTime``
  (milliseconds). The response metrics exist only in this family.

So a service's alarms read the target family with ``TargetDiscoveryName`` = its discovery name
alone (the set with ServiceName would need every caller's name), over all its callers:

- server errors, percent: ``100 * Sum(SERVER_ERRORS_METRIC) / Sum(REQUESTS_METRIC)``;
- response time: ``Average(RESPONSE_TIME_METRIC)`` against the threshold in milliseconds. ECS
  aggregates each minute's data points into one before sending them, so percentiles are not
  read.

What they do not see: requests from outside Service Connect (a load balancer's, whose own target
group metrics count them), and — CloudWatch keeping metrics per account and region — a
discovery name is not tied to a namespace: services of the same name in two namespaces of one
account and region share these metrics. HTTP and HTTP/2 services get both alarms; TCP services
have no HTTP metrics and gRPC calls report failure in ``grpc-status``, not as an HTTP 5xx, so
neither gets alarms on Service Connect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration
from constructs import Construct

from ..observability import Observability, ServiceAlarms
from ..options import ListenerProtocol

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch

NAMESPACE = "AWS/ECS"
SERVER_ERRORS_METRIC = "HTTPCode_Target_5XX_Count"
REQUESTS_METRIC = "RequestCount"
RESPONSE_TIME_METRIC = "TargetResponseTime"  # in milliseconds
TARGET_DISCOVERY_NAME_DIMENSION = "TargetDiscoveryName"
COUNT_STATISTIC = "Sum"
RESPONSE_TIME_STATISTIC = "Average"
# The response-time threshold when Observability leaves it to the plane.
DEFAULT_RESPONSE_TIME_THRESHOLD = Duration.seconds(1)
# The protocols ECS publishes HTTP status and response-time metrics for.
ALARMED_PROTOCOLS = frozenset({ListenerProtocol.HTTP, ListenerProtocol.HTTP2})


def response_time_threshold(observability: Observability) -> Duration:
    """The response-time threshold: the option's, or ``DEFAULT_RESPONSE_TIME_THRESHOLD``."""
    threshold = observability.response_time_threshold
    return DEFAULT_RESPONSE_TIME_THRESHOLD if threshold is None else threshold


def add_alarms(
    scope: Construct,
    observability: Observability,
    *,
    service_name: str,
    discovery_name: str,
    protocol: ListenerProtocol,
) -> ServiceAlarms | None:
    """The alarms of one service; None when alarms are off or its protocol has no HTTP metrics.

    Args:
        scope: Where the alarms' construct ("Alarms") is created: the service.
        observability: Thresholds and periods.
        service_name: The name callers dial, for the alarms' descriptions.
        discovery_name: The service's Service Connect discovery name.
        protocol: The service's listener protocol.
    """
    if not observability.alarms or protocol not in ALARMED_PROTOCOLS:
        return None
    scope = Construct(scope, "Alarms")
    about = _Subject(observability, service_name, discovery_name, _window(observability))
    return ServiceAlarms(
        server_errors=_server_errors_alarm(scope, about), response_time=_response_time_alarm(scope, about)
    )


@dataclass(frozen=True)
class _Subject:
    """What a service's alarms watch and say: its thresholds, names and the window of a verdict."""

    observability: Observability
    service_name: str
    discovery_name: str
    window: str

    def metric(self, name: str, statistic: str) -> cloudwatch.Metric:
        """One of the service's Service Connect metrics, over the alarms' period."""
        from aws_cdk import aws_cloudwatch as cloudwatch

        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map={TARGET_DISCOVERY_NAME_DIMENSION: self.discovery_name},
            statistic=statistic,
            period=self.observability.alarm_period,
        )


def _window(observability: Observability) -> str:
    """How long a threshold must be crossed, for the alarms' descriptions."""
    periods = observability.alarm_evaluation_periods
    return f"for {periods} periods of {observability.alarm_period.to_human_string()}"


def _server_errors_alarm(scope: Construct, about: _Subject) -> cloudwatch.Alarm:
    """The share of the service's requests answered with 5xx, as its Service Connect callers see them."""
    # Imported when used: every aws_cdk module loaded delays each synth's start.
    from aws_cdk import aws_cloudwatch as cloudwatch

    observability = about.observability
    percent = observability.server_error_percent_threshold
    return cloudwatch.Alarm(
        scope,
        "ServerErrors",
        metric=cloudwatch.MathExpression(
            expression="IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)",
            using_metrics={
                "errors": about.metric(SERVER_ERRORS_METRIC, COUNT_STATISTIC),
                "requests": about.metric(REQUESTS_METRIC, COUNT_STATISTIC),
            },
            period=observability.alarm_period,
            label="5xx responses (%)",
        ),
        threshold=percent,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=observability.alarm_evaluation_periods,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=(
            f"{about.service_name}: more than {percent:g}% of its Service Connect callers' requests answered "
            f"with 5xx, {about.window}."
        ),
    )


def _response_time_alarm(scope: Construct, about: _Subject) -> cloudwatch.Alarm:
    """The service's average response time to its Service Connect callers."""
    from aws_cdk import aws_cloudwatch as cloudwatch

    observability = about.observability
    threshold = response_time_threshold(observability)
    return cloudwatch.Alarm(
        scope,
        "ResponseTime",
        metric=about.metric(RESPONSE_TIME_METRIC, RESPONSE_TIME_STATISTIC),
        threshold=threshold.to_milliseconds(integral=False),
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=observability.alarm_evaluation_periods,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=(
            f"{about.service_name}: its responses to Service Connect callers took more than "
            f"{threshold.to_human_string()} on average, {about.window}."
        ),
    )
