"""What aws-cdk-lib's provider Lambda for AwsCustomResource causes, acknowledged once per provider.

- AwsSolutions-IAM4 for ``LAMBDA_BASIC_EXECUTION_POLICY``, on the role aws-cdk-lib created for it
  (the function's child ``ServiceRole``) only;
- cfn-lint W3005 (obsolete DependsOn) on the function;
- checkov's concurrency limit, dead-letter queue and VPC checks on the function.
"""

from __future__ import annotations

import weakref

from aws_cdk import CfnResource
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from .core import acknowledge, ignore_cfn_lint
from .managed_policies import LAMBDA_BASIC_EXECUTION_POLICY, acknowledge_aws_managed_policy

# The child of aws-cdk-lib's Lambda function that is the role it created for the function.
LAMBDA_ROLE_ID = "ServiceRole"
OBSOLETE_DEPENDS_ON_CHECK = "W3005"  # cfn-lint
CHECKOV_LAMBDA_CONCURRENCY = "CKV_AWS_115"  # Lambda function-level concurrency limit
CHECKOV_LAMBDA_DEAD_LETTER_QUEUE = "CKV_AWS_116"  # Lambda dead-letter queue
CHECKOV_LAMBDA_IN_VPC = "CKV_AWS_117"  # Lambda inside a VPC
PROVIDER_REASON = (
    "aws-cdk-lib's provider for AwsCustomResource: CloudFormation invokes it synchronously (no queue to "
    "dead-letter: a failure fails the deployment), once per restart of a Service Connect caller, so it "
    "needs no concurrency limit; it calls only the regional ECS API, with a role allowed "
    "ecs:UpdateService on the callers' services alone, and holds no data a VPC would protect."
)

_PROVIDERS: weakref.WeakSet[IConstruct] = weakref.WeakSet()


def acknowledge_custom_resource_provider(provider: IConstruct) -> None:
    """Acknowledge what aws-cdk-lib's provider Lambda for AwsCustomResource causes, once per provider.

    The provider is one Lambda function per stack, shared by every AwsCustomResource there. A
    role an application gave the stack's first AwsCustomResource stays the application's to
    judge. aws-cdk-lib makes every function depend on its role, which the function's ``Role``
    attribute already references (W3005). CloudFormation invokes the function synchronously,
    rarely, and it calls only the ECS API (the checkov checks).

    Args:
        provider: The provider Lambda function (aws-cdk-lib's singleton for AwsCustomResource).
    """
    if provider in _PROVIDERS:
        return
    _PROVIDERS.add(provider)
    role = provider.node.try_find_child(LAMBDA_ROLE_ID)
    if isinstance(role, iam.Role):
        acknowledge_aws_managed_policy(role, LAMBDA_BASIC_EXECUTION_POLICY)
    function = provider.node.default_child
    if isinstance(function, CfnResource):
        ignore_cfn_lint(function, OBSOLETE_DEPENDS_ON_CHECK)
        acknowledge(
            function,
            PROVIDER_REASON,
            checkov=[CHECKOV_LAMBDA_CONCURRENCY, CHECKOV_LAMBDA_DEAD_LETTER_QUEUE, CHECKOV_LAMBDA_IN_VPC],
        )
