"""A service's ``Rollout`` on Service Connect: ECS's deployment strategies, shifting traffic in the mesh.

With a canary, linear or blue/green rollout, ECS starts the new revision beside the old one and
registers it in Cloud Map as a test endpoint: callers' Service Connect proxies send it the
requests that carry the test header, then a growing share of production traffic. No load
balancer and no IAM role are needed for that; the deployment controller is ECS (aws-cdk-lib
writes it, with the circuit breaker). The rollout's alarms (the service's own, then the user's)
become the ECS service's deployment alarms, so a firing alarm rolls the deployment back.

Amazon ECS Developer Guide, "Service Connect resources for Amazon ECS blue/green, linear, and
canary deployments"; CloudFormation ``AWS::ECS::Service`` ``DeploymentConfiguration`` and
``ServiceConnectClientAlias.TestTrafficRules``.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import aws_ecs as ecs

from .._contract import DeploymentOptions, ServiceSpec
from .._validate import ValidationProblems
from ..observability import ServiceAlarms
from ..rollout import Rollout

# The header Service Connect sends to the new revision when the client alias names none.
DEFAULT_TEST_HEADER_NAME = "x-amzn-ecs-blue-green-test"
# Where the test header goes in the ECS service: the only client alias of its only Service
# Connect service (aws-cdk-lib's ServiceConnectService has no property for it).
TEST_TRAFFIC_RULES_PATH = "ServiceConnectConfiguration.Services.0.ClientAliases.0.TestTrafficRules"


def check_rollout_alarms(problems: ValidationProblems, spec: ServiceSpec, *, service_has_alarms: bool) -> None:
    """Refuse ``rollback_on_alarm=False`` where no alarm would watch the deployment: it would do nothing."""
    rollout = spec.rollout
    watched = bool(rollout.alarms) or (service_has_alarms and rollout.watches_service_alarms)
    if rollout.rollback_on_alarm is False and not watched:
        problems.add(
            f"rollout.rollback_on_alarm=False: no alarm watches the deployment of {spec.name!r} (the service has "
            "no alarms of its own on Service Connect: TCP and gRPC services, or Observability(alarms=False)), so "
            "it would change nothing. Pass alarms=[...] to the rollout, or drop rollback_on_alarm."
        )


def deployment_options(rollout: Rollout, service_alarms: ServiceAlarms | None) -> DeploymentOptions:
    """The ``FargateService`` arguments of ``rollout``: nothing for a plain rolling update.

    Args:
        rollout: The service's rollout.
        service_alarms: The service's own alarms, which fail the deployment when the rollout
            watches them.
    """
    alarms = _deployment_alarms(rollout, service_alarms)
    if rollout.strategy is ecs.DeploymentStrategy.ROLLING:
        return DeploymentOptions(deployment_alarms=alarms, lifecycle_hooks=rollout.lifecycle_hooks)
    shift = rollout.traffic_shift
    config = (
        None if shift is None else ecs.TrafficShiftConfig(step_percent=shift.percent, step_bake_time=shift.step_bake)
    )
    return DeploymentOptions(
        deployment_strategy=rollout.strategy,
        canary_configuration=config if rollout.strategy is ecs.DeploymentStrategy.CANARY else None,
        linear_configuration=config if rollout.strategy is ecs.DeploymentStrategy.LINEAR else None,
        bake_time=rollout.bake,
        deployment_alarms=alarms,
        lifecycle_hooks=rollout.lifecycle_hooks,
    )


def _deployment_alarms(rollout: Rollout, service_alarms: ServiceAlarms | None) -> ecs.DeploymentAlarmConfig | None:
    """The service's own alarms (when the rollout watches them), then the rollout's; None without any."""
    own = service_alarms.all if service_alarms is not None and rollout.watches_service_alarms else []
    names = [alarm.alarm_name for alarm in (*own, *rollout.alarms)]
    if not names:
        return None
    behavior = ecs.AlarmBehavior.ROLLBACK_ON_ALARM if rollout.rollback_on_alarm else ecs.AlarmBehavior.FAIL_ON_ALARM
    # The service's own alarms read AWS/ECS by discovery name, not the ECS service: naming them
    # in the service makes no dependency cycle.
    return ecs.DeploymentAlarmConfig(alarm_names=names, behavior=behavior)


def route_test_traffic(service: ecs.FargateService, rollout: Rollout) -> None:
    """Send the requests carrying the rollout's test header to the new revision in its test phase."""
    if rollout.test_header is None:
        return  # Service Connect then routes requests carrying DEFAULT_TEST_HEADER_NAME
    name, value = rollout.test_header
    resource = cast(ecs.CfnService, service.node.default_child)
    # Escape hatch: aws-cdk-lib's ServiceConnectService has no property for CloudFormation's
    # AWS::ECS::Service ServiceConnectClientAlias.TestTrafficRules (Header: Name, Value.Exact).
    resource.add_property_override(TEST_TRAFFIC_RULES_PATH, {"Header": {"Name": name, "Value": {"Exact": value}}})
