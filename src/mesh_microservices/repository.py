"""ServiceRepository: the ECR repository a service's images come from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from ._acknowledgments import acknowledge_default_image_encryption
from ._deprecation import renamed
from ._validate import (
    ValidationProblems,
    check_image_tag,
    check_interface,
    check_positive,
    check_repository_name,
    check_type,
)

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms


class ServiceRepository(Construct):
    """An ECR repository for one service's images: scanned on push, immutable tags, bounded, retained.

    Attributes:
        repository: The ECR repository.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        max_image_count: int = 100,
        untagged_image_expiry_days: int = 14,
        removal_policy: RemovalPolicy | None = None,
        destroy_on_delete: bool | None = None,
    ) -> None:
        """Create the repository.

        Args:
            scope: The parent construct.
            id: The construct id.
            repository_name: The repository name. Default: a name CloudFormation generates.
            encryption_key: A KMS key to encrypt images with. Default: AES-256 (ECR-managed).
            max_image_count: How many images the lifecycle policy keeps at most. Default: 100.
            untagged_image_expiry_days: After how many days untagged images are removed. Default: 14.
            removal_policy: What happens to the repository when it leaves the stack, as
                aws-cdk-lib's ``ecr.Repository`` names it. ``RemovalPolicy.DESTROY``, for throw-away
                environments only, deletes the repository and its images (``empty_on_delete``);
                SNAPSHOT is refused (ECR keeps no snapshots). Default: ``RemovalPolicy.RETAIN``, the
                repository and its images are retained.
            destroy_on_delete: Deprecated: use ``removal_policy``; removed in 2.0. True is
                ``removal_policy=RemovalPolicy.DESTROY``, False is RETAIN. Passing both is refused.
        """
        problems = ValidationProblems(f"ServiceRepository {id!r}")
        if repository_name is not None:
            check_repository_name(problems, "repository_name", repository_name)
        if encryption_key is not None:
            # Imported when used: every aws_cdk module loaded delays each synth's start.
            from aws_cdk import aws_kms as kms

            check_interface(problems, "encryption_key", encryption_key, kms.IKey)
        # The lifecycle policy is JSON text in the template: CloudFormation would not resolve a token in it.
        literal = "it is written into the ECR lifecycle policy's JSON text, where CloudFormation resolves nothing"
        check_positive(problems, "max_image_count", max_image_count, literal=literal)
        check_positive(problems, "untagged_image_expiry_days", untagged_image_expiry_days, literal=literal)
        policy = _removal_policy(problems, removal_policy, destroy_on_delete)
        problems.raise_if_any()

        # Imported when used: every aws_cdk module loaded delays each synth's start (this one 60 ms).
        from aws_cdk import aws_ecr as ecr

        super().__init__(scope, id)
        self.repository = ecr.Repository(
            self,
            "Resource",
            repository_name=repository_name,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS if encryption_key else ecr.RepositoryEncryption.AES_256,
            encryption_key=encryption_key,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="Remove untagged images",
                    rule_priority=1,
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(untagged_image_expiry_days),
                ),
                ecr.LifecycleRule(
                    description=f"Keep the newest {max_image_count} images",
                    rule_priority=2,
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=max_image_count,
                ),
            ],
            removal_policy=policy,
            empty_on_delete=policy is RemovalPolicy.DESTROY,
        )
        if encryption_key is None:
            acknowledge_default_image_encryption(self.repository)

    def image(self, tag: str) -> ecs.ContainerImage:
        """The image with ``tag`` in this repository; the task that uses it is granted pulls.

        Args:
            tag: An image tag you pushed, e.g. ``"1.4.2"``.
        """
        problems = ValidationProblems(f"ServiceRepository {self.node.id!r}.image")
        check_image_tag(problems, "tag", tag)
        problems.raise_if_any()
        return ecs.ContainerImage.from_ecr_repository(self.repository, tag)


def _removal_policy(problems: ValidationProblems, removal_policy: object, destroy_on_delete: object) -> RemovalPolicy:
    """The repository's removal policy, given as ``removal_policy`` or as the deprecated ``destroy_on_delete``."""
    if destroy_on_delete is not None and check_type(problems, "destroy_on_delete", destroy_on_delete, bool):
        parameter, _ = renamed(
            problems,
            old="destroy_on_delete",
            old_value=destroy_on_delete,
            new="removal_policy",
            new_value=removal_policy,
        )
        if parameter == "destroy_on_delete":
            return RemovalPolicy.DESTROY if destroy_on_delete else RemovalPolicy.RETAIN
    if removal_policy is None or not check_type(problems, "removal_policy", removal_policy, RemovalPolicy):
        return RemovalPolicy.RETAIN
    if removal_policy is RemovalPolicy.SNAPSHOT:
        problems.add(
            "removal_policy=RemovalPolicy.SNAPSHOT: an ECR repository has no snapshots, and CloudFormation refuses a "
            "Snapshot deletion policy on it. Pass RemovalPolicy.RETAIN to keep the repository and its images, or "
            "RemovalPolicy.DESTROY to delete them with the stack."
        )
        return RemovalPolicy.RETAIN
    assert isinstance(removal_policy, RemovalPolicy)
    return removal_policy
