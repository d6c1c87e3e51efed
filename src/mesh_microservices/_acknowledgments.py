"""cdk-nag AwsSolutions findings that the library's design causes, acknowledged where they arise.

Each acknowledgment covers only resources the library created and checked, with its reason, so
``Validations.of(app).add_plugins(AwsSolutionsChecks(app))`` leaves an application only the
findings of its own choices. One-off resources (a load balancer's group, its log bucket, a role)
are acknowledged on the resource itself. A task definition's findings are decided at synthesis,
once the application has added what it adds, and acknowledged on the task definition when they
hold for everything below it (one jsii call per task), else on each resource they hold for. Every
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

    - AwsSolutions-ECS2 (plain environment variables), when the only containers with plain
      variables are the sidecars recorded with ``acknowledge_sidecar_environment``;
    - AwsSolutions-IAM5[Resource::*], when every action a policy of the task's roles grants on
      "*" is one of ``UNSCOPABLE_ACTIONS`` (the execution role pulls images and writes logs, the
      task role holds the sidecars' grants).

    When both hold for everything below the task definition, they are acknowledged on it in one
    jsii call; otherwise each on the resources it holds for, and the application's stay reported.

    Args:
        task_definition: A task definition the library created, with its roles.
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
    """Decides the acknowledgments of the library's task definitions in one stack, when synthesis visits it.

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
        # Keyed, not listed: resolving drops what is undefined (an empty document), and a list would shift.
        rendered = self._stack.resolve({str(index): task.unresolved() for index, task in enumerate(tasks)}) or {}
        for index, task in enumerate(tasks):
            task.acknowledge(rendered.get(str(index), {}))


@dataclass(frozen=True)
class _TaskResources:
    """The CloudFormation resources below a library task definition that its checks read."""

    task_definition: ecs.TaskDefinition
    # Its task definition resource (an application's own below it too), with the sidecars' variables.
    resources: list[tuple[ecs.CfnTaskDefinition, Mapping[str, list[str]]]]
    policies: list[iam.CfnPolicy]

    @classmethod
    def of(cls, task_definition: ecs.TaskDefinition) -> _TaskResources:
        resources: list[tuple[ecs.CfnTaskDefinition, Mapping[str, list[str]]]] = []
        policies: list[iam.CfnPolicy] = []
        variables: Mapping[str, list[str]] = {}
        # One round trip for the subtree. In preorder, a task definition's resource is the first
        # task definition resource after it; any other one has no sidecars.
        for construct in task_definition.node.find_all():
            if isinstance(construct, ecs.TaskDefinition):
                variables = _SIDECAR_VARIABLES.get(construct, {})
            elif isinstance(construct, ecs.CfnTaskDefinition):
                resources.append((construct, variables))
                variables = {}
            elif isinstance(construct, iam.CfnPolicy):
                policies.append(construct)
        return cls(task_definition, resources, policies)

    def unresolved(self) -> dict[str, object]:
        """Each policy's document, and the container definitions when sidecars set variables."""
        unresolved: dict[str, object] = {
            "documents": {str(index): policy.policy_document for index, policy in enumerate(self.policies)}
        }
        if any(variables for _, variables in self.resources):
            unresolved["containers"] = {
                str(index): resource.container_definitions for index, (resource, _) in enumerate(self.resources)
            }
        return unresolved

    def acknowledge(self, rendered: Mapping[str, Any]) -> None:
        """Acknowledge on the task definition what holds below it throughout, on single resources the rest."""
        on_task: list[Acknowledgment] = []
        containers = rendered.get("containers")
        if containers is not None:
            on_task.extend(self._acknowledge_environment(containers))
        on_task.extend(self._acknowledge_policies(rendered.get("documents", {})))
        if on_task:
            Validations.of(self.task_definition).acknowledge(*on_task)

    def _acknowledge_environment(self, containers: Mapping[str, Any]) -> list[Acknowledgment]:
        # The L1 shape the resource renders from (camelCase keys), as the containers declared it.
        clean = [
            (resource, variables)
            for index, (resource, variables) in enumerate(self.resources)
            if not any(c.get("environment") for c in containers.get(str(index), []) if c.get("name") not in variables)
        ]
        ours = [(resource, variables) for resource, variables in clean if variables]
        if not ours:
            return []
        if len(clean) == len(self.resources):
            return [_environment_acknowledgment([variables for _, variables in ours])]
        for resource, variables in ours:  # the application's variables are its own to judge
            Validations.of(resource).acknowledge(_environment_acknowledgment([variables]))
        return []

    def _acknowledge_policies(self, documents: Mapping[str, Any]) -> list[Acknowledgment]:
        wildcards = [
            (policy, _wildcard_actions(documents.get(str(index), {}))) for index, policy in enumerate(self.policies)
        ]
        ours = [(policy, actions) for policy, actions in wildcards if actions and actions <= UNSCOPABLE_ACTIONS.keys()]
        if not ours:
            return []
        if all(not actions or actions <= UNSCOPABLE_ACTIONS.keys() for _, actions in wildcards):
            return [_wildcard_acknowledgment(set().union(*(actions for _, actions in ours)))]
        for policy, actions in ours:  # a grant of the application's own on "*" stays reported
            Validations.of(policy).acknowledge(_wildcard_acknowledgment(actions))
        return []


def _environment_acknowledgment(variables: list[Mapping[str, list[str]]]) -> Acknowledgment:
    texts: dict[str, list[str]] = {}
    for held in variables:
        for name, what in held.items():
            texts.setdefault(name, []).extend(text for text in what if text not in texts.get(name, []))
    held_text = "; ".join(f"{name}: {', '.join(what)}" for name, what in texts.items())
    reason = (
        f"The only plain environment variables are the library sidecars' ({held_text}): configuration "
        "that holds no secret. Application secrets go through MeshedService(secrets=...)."
    )
    return Acknowledgment(id=CONTAINER_ENVIRONMENT_RULE, reason=reason)


def _wildcard_actions(document: Mapping[str, Any]) -> set[str]:
    return {
        str(action)
        for statement in document.get("Statement", [])
        if "*" in _as_list(statement.get("Resource"))
        for action in _as_list(statement.get("Action"))
    }


def _wildcard_acknowledgment(actions: set[str]) -> Acknowledgment:
    reason = " ".join(f"{action}: {UNSCOPABLE_ACTIONS[action]}" for action in sorted(actions))
    return Acknowledgment(id=WILDCARD_RESOURCE_RULE, reason=reason)


# What the library recorded, by task definition and by stack (jsii hands out one Python object
# per construct, so identity is equality).
_SIDECAR_VARIABLES: weakref.WeakKeyDictionary[ecs.TaskDefinition, dict[str, list[str]]] = weakref.WeakKeyDictionary()
_STACK_CHECKS: weakref.WeakKeyDictionary[Stack, _StackChecks] = weakref.WeakKeyDictionary()


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
