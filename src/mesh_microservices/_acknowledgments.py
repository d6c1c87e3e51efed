"""cdk-nag AwsSolutions findings that the library's design causes, acknowledged where they arise.

Each function acknowledges one finding on the narrowest construct that causes it (the
CloudFormation resource), with its reason, so ``Validations.of(app).add_plugins(
AwsSolutionsChecks(app))`` leaves an application only the findings of its own choices. Every
other finding is fixed in the constructs' defaults.

The ids carry the plugin's name (``AwsSolutions::``): CDK then lists each acknowledged finding,
with its reason and where it was acknowledged, among the ``suppressedViolations`` of the cloud
assembly's ``validation-report.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jsii
from aws_cdk import Acknowledgment, Aspects, CfnResource, IAspect, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

AWS_SOLUTIONS_PLUGIN = "AwsSolutions"
CONTAINER_ENVIRONMENT_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-ECS2"
WILDCARD_RESOURCE_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-IAM5[Resource::*]"
OPEN_INGRESS_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-EC23"
SERVER_ACCESS_LOGS_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-S1"

# IAM actions without resource-level permissions (IAM service authorization reference: no
# resource type), which can only be granted on "*"; with why the library grants each.
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
    "cloudwatch:PutMetricData": (
        "CloudWatch metrics have no resource ARN; the CloudWatch agent sidecar publishes Envoy's "
        "statistics with it, and the grant's cloudwatch:namespace condition keeps it to that one namespace."
    ),
}

# AWS managed policies the library attaches, with why a policy AWS maintains beats an inline copy.
AWS_MANAGED_POLICIES: Mapping[str, str] = {
    "service-role/AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity": (
        "The policy ECS documents for the infrastructure role that issues Service Connect TLS "
        "certificates (Amazon ECS developer guide, 'Amazon ECS infrastructure IAM role'). AWS revises "
        "it as ECS's TLS feature changes, which an inline copy would not follow; only "
        "ecs.amazonaws.com can assume the role."
    ),
}


def acknowledge_sidecar_environment(
    task_definition: ecs.TaskDefinition, *, sidecar: ecs.ContainerDefinition, variables: str
) -> None:
    """Acknowledge AwsSolutions-ECS2 (plain environment variables) for a sidecar's own variables.

    Decided at synthesis, once the application has added what it adds: only when no container
    but the library's sidecars has plain variables; the application's are its own to judge. A
    task's sidecars (and further variables of one sidecar) share one acknowledgment.

    Args:
        task_definition: The task definition holding the sidecar.
        sidecar: The container whose environment the library sets.
        variables: What the sidecar's variables hold, for the reason.
    """
    resource = task_definition.node.default_child
    assert isinstance(resource, ecs.CfnTaskDefinition)
    # Aspects created here come back as the same objects: one per task definition collects all.
    found = [aspect for aspect in Aspects.of(resource).all if isinstance(aspect, _SidecarEnvironment)]
    aspect = found[0] if found else _SidecarEnvironment(resource)
    if not found:
        Aspects.of(resource).add(aspect)
    aspect.variables.setdefault(sidecar.container_name, []).append(variables)


def acknowledge_unscopable_actions(task_definition: ecs.TaskDefinition) -> None:
    """Acknowledge AwsSolutions-IAM5[Resource::*] on the execution role's and the task role's policies.

    Decided at synthesis, once the application has added its own grants: for each policy, only
    when every action it grants on "*" is one of ``UNSCOPABLE_ACTIONS``.

    Args:
        task_definition: The task definition whose execution role pulls images and writes logs,
            and whose task role holds the sidecars' grants (e.g. the observability sidecars').
    """
    resource = task_definition.node.default_child
    assert isinstance(resource, CfnResource)
    Aspects.of(resource).add(_AtSynthesis(lambda: _acknowledge_unscopable_actions(task_definition)))


def _acknowledge_unscopable_actions(task_definition: ecs.TaskDefinition) -> None:
    for role in (task_definition.execution_role, task_definition.task_role):
        policy = role.node.try_find_child("DefaultPolicy") if role is not None else None
        if isinstance(policy, iam.Policy):
            _acknowledge_policy(policy)


def _acknowledge_policy(policy: iam.Policy) -> None:
    statements = Stack.of(policy).resolve(policy.document).get("Statement", [])
    wildcard_actions = {
        str(action)
        for statement in statements
        if "*" in _as_list(statement.get("Resource"))
        for action in _as_list(statement.get("Action"))
    }
    if not wildcard_actions or not wildcard_actions <= UNSCOPABLE_ACTIONS.keys():
        return
    reason = " ".join(f"{action}: {UNSCOPABLE_ACTIONS[action]}" for action in sorted(wildcard_actions))
    resource = policy.node.default_child
    assert isinstance(resource, CfnResource)
    Validations.of(resource).acknowledge(Acknowledgment(id=WILDCARD_RESOURCE_RULE, reason=reason))


def acknowledge_aws_managed_policy(role: iam.Role, policy_name: str) -> None:
    """Acknowledge AwsSolutions-IAM4 on ``role`` for one policy of ``AWS_MANAGED_POLICIES``.

    Args:
        role: The role the policy is attached to.
        policy_name: The policy's name, as given to ``ManagedPolicy.from_aws_managed_policy_name``.
    """
    arn = f"arn:<AWS::Partition>:iam::aws:policy/{policy_name}"  # how cdk-nag spells it
    rule = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-IAM4[Policy::{arn}]"
    resource = role.node.default_child
    assert isinstance(resource, CfnResource)
    Validations.of(resource).acknowledge(Acknowledgment(id=rule, reason=AWS_MANAGED_POLICIES[policy_name]))


def acknowledge_public_load_balancer(security_group: ec2.SecurityGroup, *, ports: str) -> None:
    """Acknowledge AwsSolutions-EC23 (ingress from anywhere) on a public load balancer's security group.

    Args:
        security_group: The load balancer's own group, the only one the library opens to the internet.
        ports: The listener ports it opens, for the reason.
    """
    reason = (
        f"The group of a public load balancer: the internet reaches the listener ports ({ports}) on purpose. "
        "Behind it only the gateway's group admits the load balancer, and only routed services admit the gateway."
    )
    resource = security_group.node.default_child
    assert isinstance(resource, CfnResource)
    Validations.of(resource).acknowledge(Acknowledgment(id=OPEN_INGRESS_RULE, reason=reason))


def acknowledge_access_log_bucket(bucket: s3.Bucket) -> None:
    """Acknowledge AwsSolutions-S1 (no server access logs) on a bucket that holds access logs itself.

    Args:
        bucket: The bucket the library created for a load balancer's access logs.
    """
    reason = (
        "This bucket receives the load balancer's access logs; logging the writes to it in another bucket "
        "would only log the logging. It is encrypted, private, SSL-only and retained."
    )
    resource = bucket.node.default_child
    assert isinstance(resource, CfnResource)
    Validations.of(resource).acknowledge(Acknowledgment(id=SERVER_ACCESS_LOGS_RULE, reason=reason))


@jsii.implements(IAspect)
class _AtSynthesis:
    """Runs ``action`` once, when synthesis visits the resource: after all application code."""

    def __init__(self, action: Callable[[], None]) -> None:
        self._action: Callable[[], None] | None = action

    def visit(self, node: IConstruct) -> None:
        """Run the action the first time."""
        action, self._action = self._action, None
        if action is not None:
            action()


@jsii.implements(IAspect)
class _SidecarEnvironment:
    """Acknowledges AwsSolutions-ECS2 on a task definition for its sidecars' variables, at synthesis."""

    def __init__(self, resource: ecs.CfnTaskDefinition) -> None:
        self._resource: ecs.CfnTaskDefinition | None = resource
        self.variables: dict[str, list[str]] = {}  # container name -> what its variables hold

    def visit(self, node: IConstruct) -> None:
        """Acknowledge the first time, unless a container other than the sidecars has variables."""
        resource, self._resource = self._resource, None
        if resource is None:
            return
        # What cdk-nag's rule reads: the rendered container definitions.
        containers = Stack.of(resource).resolve(resource.container_definitions) or []
        if any(c.get("environment") for c in containers if c.get("name") not in self.variables):
            return
        held = "; ".join(f"{name}: {', '.join(texts)}" for name, texts in self.variables.items())
        reason = (
            f"The only plain environment variables are the library sidecars' ({held}): configuration "
            "that holds no secret. Application secrets go through MeshedService(secrets=...)."
        )
        Validations.of(resource).acknowledge(Acknowledgment(id=CONTAINER_ENVIRONMENT_RULE, reason=reason))


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
