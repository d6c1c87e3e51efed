"""AwsSolutions-IAM4: AWS managed policies attached to a role.

Acknowledged only for the policies of ``AWS_MANAGED_POLICIES``, which the library attaches (or
aws-cdk-lib attaches for it), with why a policy AWS maintains beats an inline copy.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_iam as iam

from .core import acknowledge, aws_solutions_rule

LAMBDA_BASIC_EXECUTION_POLICY = "service-role/AWSLambdaBasicExecutionRole"

AWS_MANAGED_POLICIES: Mapping[str, str] = {
    "service-role/AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity": (
        "The policy ECS documents for the infrastructure role that issues Service Connect TLS "
        "certificates (Amazon ECS developer guide, 'Amazon ECS infrastructure IAM role'). AWS revises "
        "it as ECS's TLS feature changes, which an inline copy would not follow; only "
        "ecs.amazonaws.com can assume the role."
    ),
    LAMBDA_BASIC_EXECUTION_POLICY: (
        "The policy aws-cdk-lib's AwsCustomResource attaches to the role of its provider Lambda (one per "
        "stack), which restarts Service Connect callers whose callee deploys after them: it lets the function "
        "write its own logs to CloudWatch Logs, as AWS's Lambda developer guide documents, and nothing else. "
        "Each restart's ECS permission is a separate policy on that caller's service ARN only."
    ),
}


def managed_policy_rule(policy_name: str) -> str:
    """The rule id cdk-nag reports a managed policy under, with the policy's ARN as cdk-nag spells it."""
    arn = f"arn:<AWS::Partition>:iam::aws:policy/{policy_name}"
    return aws_solutions_rule(f"AwsSolutions-IAM4[Policy::{arn}]")


def acknowledge_aws_managed_policy(role: iam.Role, policy_name: str) -> None:
    """Acknowledge AwsSolutions-IAM4 on ``role`` for one policy of ``AWS_MANAGED_POLICIES``.

    Args:
        role: The role the policy is attached to.
        policy_name: The policy's name, as given to ``ManagedPolicy.from_aws_managed_policy_name``.

    Raises:
        KeyError: ``policy_name`` is not one of ``AWS_MANAGED_POLICIES``.
    """
    acknowledge(role, AWS_MANAGED_POLICIES[policy_name], cdk_nag=[managed_policy_rule(policy_name)])
