"""AwsSolutions-IAM5[Resource::*]: IAM actions granted on "*".

Some actions have no resource-level permissions (IAM service authorization reference: no
resource type) and can only be granted on "*". The finding is acknowledged where every action a
policy grants on "*" is one of ``UNSCOPABLE_ACTIONS``, with why the library grants each; a grant
of the application's own on "*" stays reported.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from aws_cdk import Acknowledgment, CfnResource, Validations
from aws_cdk import aws_iam as iam

from .core import aws_solutions_rule

WILDCARD_RESOURCE_RULE = aws_solutions_rule("AwsSolutions-IAM5[Resource::*]")
UNREADABLE_POLICY = "<a policy document the check cannot read>"

# Why the role ECS shifts a load balancer's traffic with may read on "*" (see UNSCOPABLE_ACTIONS).
_LOAD_BALANCER_READS = "Elastic Load Balancing's Describe actions have no resource-level permissions"
_TRAFFIC_SHIFT_ROLE = (
    "The role ECS shifts a Service Connect service's load balancer traffic with (canary, linear, blue/green) "
    "writes to that service's two target groups and two listener rules only; only ecs.amazonaws.com assumes it."
)

# IAM actions without resource-level permissions, which can only be granted on "*"; with why the
# library grants each.
UNSCOPABLE_ACTIONS: Mapping[str, str] = {
    "ecr:GetAuthorizationToken": (
        "ECR's registry login token has no resource-level permissions; the execution role needs it "
        "to pull any ECR image (the Envoy image, ServiceRepository images), while each repository's "
        "pull actions stay granted on that repository only."
    ),
    "xray:PutTraceSegments": (
        "X-Ray has no resource-level permissions for sending traces; with tracing on, the X-Ray daemon "
        "sidecar uploads the segments Envoy and the application record, from the task role."
    ),
    "xray:PutTelemetryRecords": (
        "X-Ray has no resource-level permissions for telemetry; the X-Ray daemon sidecar reports its own "
        "health (segments received, rejected, failed) with it."
    ),
    "xray:GetSamplingRules": (
        "X-Ray sampling-rule reads have no resource-level permissions; the X-Ray daemon sidecar fetches "
        "them for the application's X-Ray SDK (centralized sampling)."
    ),
    "xray:GetSamplingTargets": (
        "X-Ray sampling targets have no resource-level permissions; the X-Ray daemon sidecar requests "
        "them for the application's X-Ray SDK (centralized sampling)."
    ),
    "elasticloadbalancing:DescribeListeners": (
        f"{_LOAD_BALANCER_READS}; ECS reads the listeners with it. {_TRAFFIC_SHIFT_ROLE}"
    ),
    "elasticloadbalancing:DescribeRules": (
        f"{_LOAD_BALANCER_READS}; ECS reads the listener rules with it. {_TRAFFIC_SHIFT_ROLE}"
    ),
    "elasticloadbalancing:DescribeTargetGroups": (
        f"{_LOAD_BALANCER_READS}; ECS reads the target groups with it. {_TRAFFIC_SHIFT_ROLE}"
    ),
    "elasticloadbalancing:DescribeTargetHealth": (
        f"{_LOAD_BALANCER_READS}; ECS reads the new revision's target health with it. {_TRAFFIC_SHIFT_ROLE}"
    ),
    "cloudwatch:PutMetricData": (
        "CloudWatch metrics have no resource ARN; the CloudWatch agent sidecar publishes Envoy's "
        "statistics with it, and the grant's cloudwatch:namespace condition keeps it to that one namespace."
    ),
}


def only_unscopable(actions: Collection[str]) -> bool:
    """Whether every action of ``actions`` (granted on "*") is one the library may grant there."""
    return all(action in UNSCOPABLE_ACTIONS for action in actions)


def wildcard_actions(document: object) -> set[str]:
    """The actions a policy document grants on "*"; one that no action matches if it is not readable."""
    if document is None:
        return set()
    statements = as_list(document.get("Statement")) if isinstance(document, dict) else [None]
    readable = [statement for statement in statements if isinstance(statement, dict)]
    if len(readable) < len(statements):
        return {UNREADABLE_POLICY}  # built by an intrinsic function: not knowably the library's
    return {
        str(action)
        for statement in readable
        if "*" in as_list(statement.get("Resource"))
        for action in as_list(statement.get("Action"))
    }


def wildcard_acknowledgment(actions: Collection[str]) -> Acknowledgment:
    """The acknowledgment of ``actions`` (each one of ``UNSCOPABLE_ACTIONS``), with each one's reason."""
    reason = " ".join(f"{action}: {UNSCOPABLE_ACTIONS[action]}" for action in sorted(actions))
    return Acknowledgment(id=WILDCARD_RESOURCE_RULE, reason=reason)


def acknowledge_load_balancer_reads(role: iam.Role, *, actions: Collection[str]) -> None:
    """Acknowledge AwsSolutions-IAM5[Resource::*] on the role ECS shifts a load balancer's traffic with.

    Args:
        role: The role, whose only grant on "*" is ``actions``; its other grants name the
            service's target groups and listener rules.
        actions: Elastic Load Balancing's Describe actions, which take no resource: each one of
            ``UNSCOPABLE_ACTIONS``, whose reasons the acknowledgment gives.
    """
    resource = role.node.default_child
    assert isinstance(resource, CfnResource)
    Validations.of(resource).acknowledge(wildcard_acknowledgment(set(actions)))


def as_list(value: object) -> list[object]:
    """``value`` as a list: CloudFormation takes one item or a list of them."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
