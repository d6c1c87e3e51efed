"""What of ``Observability`` Service Connect applies, and what it refuses.

ECS's Service Connect proxy is not an Envoy the library configures: there is no sidecar to
trace through an X-Ray daemon, no statistics to ship through a CloudWatch agent, no namespace of
its own (ECS publishes the proxy's metrics in ``AWS/ECS``). The fields for those are App Mesh
options, refused here by name when set. Access logs and alarms apply (see ``alarms.py``).
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs

from .._validate import ValidationProblems
from ..observability import Observability, shown

# The App Mesh options of Observability, and why Service Connect has no use for each.
REFUSED_FIELDS = {
    "tracing": (
        "it turns on Envoy's X-Ray tracing through a daemon sidecar, and ECS's Service Connect proxy has no "
        "such setting"
    ),
    "envoy_metrics": (
        "it ships Envoy's statistics through a CloudWatch agent sidecar, and ECS publishes Service Connect's "
        "metrics in AWS/ECS itself"
    ),
    "metrics_namespace": "it names the namespace of Envoy's statistics, and Service Connect's metrics are in AWS/ECS",
    "unhealthy_hosts_threshold": (
        "its alarm counts the tasks callers' Envoys see as unhealthy, a figure Service Connect does not publish"
    ),
    "xray_daemon_image": "it is the image of the X-Ray daemon sidecar, which Service Connect does not add",
    "cloudwatch_agent_image": "it is the image of the CloudWatch agent sidecar, which Service Connect does not add",
}


def check_service_connect_observability(problems: ValidationProblems, parameter: str, value: object) -> None:
    """Record every App Mesh option set in an ``Observability``, after ``check_observability``."""
    if not isinstance(value, Observability):
        return  # check_observability has recorded it
    for field, reason in REFUSED_FIELDS.items():
        given = getattr(value, field)
        if given is not None:
            problems.add(
                f"{parameter}.{field}={shown(given)} is an App Mesh option: {reason}. Remove {field}= from "
                "Observability(...) on DataPlane.service_connect(), or stay on DataPlane.app_mesh()."
            )


def access_log_configuration(observability: Observability) -> ecs.ServiceConnectAccessLogConfiguration | None:
    """The proxy's access log, in JSON, beside its own log lines; None when access logs are off."""
    if not observability.access_logs:
        return None
    return ecs.ServiceConnectAccessLogConfiguration(format=ecs.ServiceConnectAccessLogFormat.JSON)
