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
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import IConstruct

AWS_SOLUTIONS_PLUGIN = "AwsSolutions"
CONTAINER_ENVIRONMENT_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-ECS2"
WILDCARD_RESOURCE_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-IAM5[Resource::*]"

# IAM actions without resource-level permissions (IAM service authorization reference: no
# resource type), which can only be granted on "*"; with why the library grants each.
UNSCOPABLE_ACTIONS: Mapping[str, str] = {
    "ecr:GetAuthorizationToken": (
        "ECR's registry login token has no resource-level permissions; the execution role needs it "
        "to pull any ECR image (the Envoy image, ServiceRepository images), while each repository's "
        "pull actions stay granted on that repository only."
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

    Decided at synthesis, once the application has added what it adds: only when no other
    container of the task has plain variables, which are the application's to judge.

    Args:
        task_definition: The task definition holding the sidecar.
        sidecar: The container whose environment the library sets.
        variables: What the sidecar's variables hold, for the reason.
    """
    resource = task_definition.node.default_child
    assert isinstance(resource, ecs.CfnTaskDefinition)

    def acknowledge() -> None:
        # What cdk-nag's rule reads: the rendered container definitions.
        containers = Stack.of(resource).resolve(resource.container_definitions) or []
        if any(c.get("environment") for c in containers if c.get("name") != sidecar.container_name):
            return
        reason = (
            f"The {sidecar.container_name} sidecar's only plain environment variables are {variables}: "
            "configuration that holds no secret. Application secrets go through MeshedService(secrets=...)."
        )
        Validations.of(resource).acknowledge(Acknowledgment(id=CONTAINER_ENVIRONMENT_RULE, reason=reason))

    Aspects.of(resource).add(_AtSynthesis(acknowledge))


def acknowledge_unscopable_actions(task_definition: ecs.TaskDefinition) -> None:
    """Acknowledge AwsSolutions-IAM5[Resource::*] on the execution role's policy.

    Decided at synthesis, once the application has added its own grants: only when every action
    that policy grants on "*" is one of ``UNSCOPABLE_ACTIONS``.

    Args:
        task_definition: The task definition whose execution role pulls images and writes logs.
    """
    resource = task_definition.node.default_child
    assert isinstance(resource, CfnResource)
    Aspects.of(resource).add(_AtSynthesis(lambda: _acknowledge_unscopable_actions(task_definition)))


def _acknowledge_unscopable_actions(task_definition: ecs.TaskDefinition) -> None:
    role = task_definition.execution_role
    policy = role.node.try_find_child("DefaultPolicy") if role is not None else None
    if not isinstance(policy, iam.Policy):
        return
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


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
