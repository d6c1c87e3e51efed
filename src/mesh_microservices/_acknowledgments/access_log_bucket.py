"""AwsSolutions-S1 and CKV_AWS_18: no server access logs, on a bucket that holds access logs itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core import acknowledge, aws_solutions_rule

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

SERVER_ACCESS_LOGS_RULE = aws_solutions_rule("AwsSolutions-S1")
CHECKOV_ACCESS_LOGGING = "CKV_AWS_18"  # S3 bucket server access logging
ACCESS_LOG_BUCKET_REASON = (
    "This bucket receives the load balancer's access logs; logging the writes to it in another bucket "
    "would only log the logging. It is encrypted, private, SSL-only, versioned and retained."
)


def acknowledge_access_log_bucket(bucket: s3.Bucket) -> None:
    """Acknowledge no server access logs on ``bucket``.

    Args:
        bucket: The bucket the library created for a load balancer's access logs.
    """
    acknowledge(bucket, ACCESS_LOG_BUCKET_REASON, cdk_nag=[SERVER_ACCESS_LOGS_RULE], checkov=[CHECKOV_ACCESS_LOGGING])
