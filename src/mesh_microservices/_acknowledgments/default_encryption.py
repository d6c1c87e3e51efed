"""CKV_AWS_158 and CKV_AWS_136: a log group or an ECR repository encrypted without a customer key.

Both are encrypted at rest by their service; a customer managed key is an option of the
construct, and with it the acknowledgment is not made.
"""

from __future__ import annotations

from constructs import IConstruct

from .core import acknowledge

CHECKOV_LOG_GROUP_KMS = "CKV_AWS_158"  # CloudWatch log group encrypted with KMS
CHECKOV_ECR_KMS = "CKV_AWS_136"  # ECR repository encrypted with KMS
# Short: it is written into every log group's template metadata, one per service.
LOG_ENCRYPTION_REASON = (
    "Encrypted at rest by CloudWatch Logs; for a customer managed key: MeshedCluster(log_encryption_key=...)."
)
IMAGE_ENCRYPTION_REASON = (
    "Encrypted at rest by ECR with AES-256 (Amazon S3 managed keys); a customer managed KMS key is an option: "
    "ServiceRepository(encryption_key=...)."
)


def acknowledge_default_log_encryption(log_group: IConstruct) -> None:
    """Acknowledge a log group without a customer key: CloudWatch Logs encrypts it itself.

    Args:
        log_group: A log group the library has just created, for a cluster without ``log_encryption_key``.
    """
    acknowledge(log_group, LOG_ENCRYPTION_REASON, checkov=[CHECKOV_LOG_GROUP_KMS], just_created=True)


def acknowledge_default_image_encryption(repository: IConstruct) -> None:
    """Acknowledge an ECR repository without a customer key: ECR encrypts it with AES-256.

    Args:
        repository: A repository the library created without ``encryption_key``.
    """
    acknowledge(repository, IMAGE_ENCRYPTION_REASON, checkov=[CHECKOV_ECR_KMS])
