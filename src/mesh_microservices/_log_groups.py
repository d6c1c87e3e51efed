"""The library's log groups: encrypted with the cluster's customer managed key when it has one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._acknowledgments import acknowledge_default_log_encryption

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms

# What CloudWatch Logs does with a log group's key, and the encryption context naming the log
# group (CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS").
LOGS_KEY_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
LOGS_ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:logs:arn"


def new_log_group(
    scope: Construct,
    id: str,
    *,
    retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
    encryption_key: kms.IKey | None,
) -> logs.LogGroup:
    """A log group of the library's, encrypted with the cluster's key when it has one."""
    log_group = logs.LogGroup(
        scope, id, retention=retention, removal_policy=removal_policy, encryption_key=encryption_key
    )
    if encryption_key is None:
        acknowledge_default_log_encryption(log_group)
    return log_group


def allow_cloudwatch_logs(key: kms.IKey) -> None:
    """Let CloudWatch Logs use ``key`` for the log groups of its account and region, as AWS documents.

    The statement of the CloudWatch Logs user guide ("Encrypt log data in CloudWatch Logs using
    AWS KMS", step 2); ``LogGroup(encryption_key=...)`` does not add it. Log group names are
    CloudFormation's, so the condition covers every log group of the key's account and region.
    A key imported into the app ignores it (its policy is not the app's).
    """
    stack = Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccountAndRegion",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=LOGS_KEY_ACTIONS,
            resources=["*"],
            conditions={
                "ArnLike": {
                    LOGS_ENCRYPTION_CONTEXT: stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
