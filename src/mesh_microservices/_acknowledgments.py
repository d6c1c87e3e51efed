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

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    task_definition: ecs.TaskDefinition, *, container_name: str, variables: str
) -> None:
    """Record a sidecar's plain variables, for the AwsSolutions-ECS2 decision of ``acknowledge_task_findings``.

    Args:
        task_definition: The task definition holding the sidecar.
        container_name: The name of the container whose environment the library sets.
        variables: What the sidecar's variables hold, for the reason.
    """
    held = _SIDECAR_VARIABLES.setdefault(task_definition, {})
    held.setdefault(container_name, []).append(variables)


def acknowledge_task_findings(task_definition: ecs.TaskDefinition, *, stack: Stack) -> None:
    """Acknowledge, at synthesis, the findings the library's design causes on a task definition.

    Decided once the application has added what it adds, so that its own choices stay reported:

    - AwsSolutions-ECS2 on the task definition, when the only containers with plain variables
      are the sidecars recorded with ``acknowledge_sidecar_environment``;
    - AwsSolutions-IAM5[Resource::*] on each policy of the task's roles (the execution role
      pulls images and writes logs, the task role holds the sidecars' grants), when every
      action it grants on "*" is one of ``UNSCOPABLE_ACTIONS``.

    Args:
        task_definition: The task definition, with its roles, created by the library.
        stack: The stack that holds it.
    """
    checks = _STACK_CHECKS.get(stack)
    if checks is None:
        checks = _STACK_CHECKS[stack] = _StackChecks(stack)
        # On a leaf resource, the aspect visits one construct: a single callback per stack.
        anchor = task_definition.node.default_child
        assert isinstance(anchor, CfnResource)
        Aspects.of(anchor).add(checks)
    checks.task_definitions.append(task_definition)


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
class _StackChecks:
    """Decides the acknowledgments of a stack's library task definitions, when synthesis visits it.

    One aspect per stack reads every task's container definitions and policies in a single
    resolve: each jsii round trip costs about as much as declaring a resource property.
    """

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self.task_definitions: list[ecs.TaskDefinition] = []
        self._done = False

    def visit(self, node: IConstruct) -> None:
        """Acknowledge what the library caused, the first time."""
        if self._done:
            return
        self._done = True
        tasks = [_TaskResources.of(task_definition) for task_definition in self.task_definitions]
        # What cdk-nag's rules read: rendered container definitions and policy documents.
        rendered = self._stack.resolve({str(index): task.unresolved() for index, task in enumerate(tasks)}) or {}
        for index, task in enumerate(tasks):
            found = rendered.get(str(index), {})
            containers = found.get("containers")
            if task.resource is not None and containers is not None:
                _acknowledge_environment(task.resource, task.sidecar_variables, containers)
            documents = found.get("documents", {})
            for index, policy in enumerate(task.policies):
                _acknowledge_policy(policy, documents.get(str(index), {}))


@dataclass(frozen=True)
class _TaskResources:
    """A task definition's CloudFormation resources that the checks read and acknowledge."""

    resource: ecs.CfnTaskDefinition | None
    policies: list[iam.CfnPolicy]  # the roles' policies
    sidecar_variables: Mapping[str, list[str]]  # container name -> what its variables hold

    @classmethod
    def of(cls, task_definition: ecs.TaskDefinition) -> _TaskResources:
        # One round trip for the whole subtree: the resource, the roles and their policies.
        below = task_definition.node.find_all()
        resources = [c for c in below if isinstance(c, ecs.CfnTaskDefinition)]
        return cls(
            resource=resources[0] if resources else None,
            policies=[c for c in below if isinstance(c, iam.CfnPolicy)],
            sidecar_variables=_SIDECAR_VARIABLES.get(task_definition, {}),
        )

    def unresolved(self) -> dict[str, object]:
        """The container definitions (only when sidecars set variables) and each policy's document."""
        # Keyed, not listed: resolving drops what is undefined (an empty document), and a list would shift.
        documents = {str(index): policy.policy_document for index, policy in enumerate(self.policies)}
        unresolved: dict[str, object] = {"documents": documents}
        if self.resource is not None and self.sidecar_variables:
            unresolved["containers"] = self.resource.container_definitions
        return unresolved


def _acknowledge_environment(
    resource: ecs.CfnTaskDefinition, sidecar_variables: Mapping[str, list[str]], containers: list[dict[str, Any]]
) -> None:
    # The L1 shape the resource renders from (camelCase keys), as the containers declared it.
    if any(c.get("environment") for c in containers if c.get("name") not in sidecar_variables):
        return  # the application's variables are its own to judge
    held = "; ".join(f"{name}: {', '.join(texts)}" for name, texts in sidecar_variables.items())
    reason = (
        f"The only plain environment variables are the library sidecars' ({held}): configuration "
        "that holds no secret. Application secrets go through MeshedService(secrets=...)."
    )
    Validations.of(resource).acknowledge(Acknowledgment(id=CONTAINER_ENVIRONMENT_RULE, reason=reason))


def _acknowledge_policy(policy: iam.CfnPolicy, document: Mapping[str, Any]) -> None:
    wildcard_actions = {
        str(action)
        for statement in document.get("Statement", [])
        if "*" in _as_list(statement.get("Resource"))
        for action in _as_list(statement.get("Action"))
    }
    if not wildcard_actions or not wildcard_actions <= UNSCOPABLE_ACTIONS.keys():
        return
    reason = " ".join(f"{action}: {UNSCOPABLE_ACTIONS[action]}" for action in sorted(wildcard_actions))
    Validations.of(policy).acknowledge(Acknowledgment(id=WILDCARD_RESOURCE_RULE, reason=reason))


# What the library recorded, by task definition and by stack (jsii hands out one Python object
# per construct, so identity is equality).
_SIDECAR_VARIABLES: weakref.WeakKeyDictionary[ecs.TaskDefinition, dict[str, list[str]]] = weakref.WeakKeyDictionary()
_STACK_CHECKS: weakref.WeakKeyDictionary[Stack, _StackChecks] = weakref.WeakKeyDictionary()


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
