"""ServiceRepository: scanned, immutable, bounded, retained unless asked otherwise."""

from __future__ import annotations

import json
import warnings
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from mesh_microservices import ServiceRepository
from synthesized import Synthesized


def _repository(synth: Synthesized, path: str) -> dict[str, Any]:
    return synth.json["Resources"][synth.logical_id("AWS::ECR::Repository", f"/{path}/")]


def test_repository_scans_on_push_with_immutable_tags_and_aes256(shop: Synthesized) -> None:
    properties = _repository(shop, "OrdersRepo")["Properties"]
    assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert properties["ImageTagMutability"] == "IMMUTABLE"
    # ECR encrypts with AES-256 when no encryption configuration is given.
    assert "EncryptionConfiguration" not in properties


def test_repository_encrypts_with_a_given_kms_key(variants: Any) -> None:
    synth = variants("CustomEnvoy")
    key_id = synth.logical_id("AWS::KMS::Key", "/ImageKey/")
    properties = _repository(synth, "Sealed")["Properties"]
    assert properties["EncryptionConfiguration"] == {"EncryptionType": "KMS", "KmsKey": {"Fn::GetAtt": [key_id, "Arn"]}}


def test_lifecycle_policy_expires_untagged_and_bounds_image_count(shop: Synthesized) -> None:
    policy = json.loads(_repository(shop, "OrdersRepo")["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])
    rules = {r["selection"]["tagStatus"]: r["selection"] for r in policy["rules"]}
    assert rules["untagged"]["countType"] == "sinceImagePushed"
    assert rules["untagged"]["countNumber"] == 14
    assert rules["any"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100}


def test_repository_is_retained_by_default(shop: Synthesized) -> None:
    repository = _repository(shop, "OrdersRepo")
    assert repository["DeletionPolicy"] == "Retain"
    assert repository["Properties"].get("EmptyOnDelete") is not True


def test_throwaway_repository_is_destroyed_and_emptied_without_a_lambda(variants: Any) -> None:
    synth = variants("CustomEnvoy")
    repository = _repository(synth, "Scratch")
    assert repository["DeletionPolicy"] == "Delete"
    assert repository["Properties"]["EmptyOnDelete"] is True
    synth.template.resource_count_is("AWS::Lambda::Function", 0)
    synth.template.resource_count_is("Custom::ECRAutoDeleteImages", 0)


def test_image_grants_pull_to_the_task_that_uses_it(shop: Synthesized) -> None:
    repository_id = shop.logical_id("AWS::ECR::Repository", "/OrdersRepo/")
    policy_id = shop.logical_id("AWS::IAM::Policy", "/Orders/TaskDefinition/ExecutionRole/")
    statements = shop.json["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
    pulls = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [repository_id, "Arn"]}]
    # The ECR actions an image pull needs (ECR User Guide, "Repository policy examples"); in any order,
    # as @aws-cdk/aws-iam:minimizePolicies sorts them.
    assert [(s["Effect"], sorted(s["Action"])) for s in pulls] == [
        ("Allow", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
    ]
    other = shop.logical_id("AWS::IAM::Policy", "/Web/TaskDefinition/ExecutionRole/")
    assert repository_id not in json.dumps(shop.json["Resources"][other])
    shop.template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": Match.array_with([Match.object_like({"Name": "app", "Image": Match.any_value()})])},
    )


# removal_policy, as aws-cdk-lib's ecr.Repository names it; destroy_on_delete until 2.0.


def test_removal_policy_decides_and_destroy_on_delete_is_its_deprecated_alias() -> None:
    stack = cdk.Stack(cdk.App(), "Removal")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new name warns of nothing
        ServiceRepository(stack, "Destroyed", removal_policy=cdk.RemovalPolicy.DESTROY)
        ServiceRepository(stack, "Kept", removal_policy=cdk.RemovalPolicy.RETAIN)
    with pytest.warns(DeprecationWarning, match=r"destroy_on_delete is deprecated: use removal_policy.*2\.0") as w:
        ServiceRepository(stack, "Aliased", destroy_on_delete=True)
        ServiceRepository(stack, "AliasKept", destroy_on_delete=False)
    assert {warning.filename for warning in w} == {__file__}  # the warnings point at the application's calls
    resources = Template.from_stack(stack).find_resources("AWS::ECR::Repository")
    policies = {
        path: (resource["DeletionPolicy"], resource["Properties"].get("EmptyOnDelete", False))
        for path in ("Destroyed", "Kept", "Aliased", "AliasKept")
        for logical_id, resource in resources.items()
        if logical_id.startswith(path)
    }
    assert policies == {
        "Destroyed": ("Delete", True),
        "Kept": ("Retain", False),
        "Aliased": ("Delete", True),
        "AliasKept": ("Retain", False),
    }


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (
            {"destroy_on_delete": True, "removal_policy": cdk.RemovalPolicy.DESTROY},
            ["destroy_on_delete=True and removal_policy=", "are both given", "Pass removal_policy only."],
        ),
        ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, ["removal_policy=RemovalPolicy.SNAPSHOT", "no snapshots"]),
    ],
)
def test_removal_policy_refusals(arguments: dict[str, Any], fragments: list[str]) -> None:
    stack = cdk.Stack(cdk.App(), "Refused")
    with pytest.raises(ValueError) as raised:
        ServiceRepository(stack, "Repo", **arguments)
    for fragment in fragments:
        assert fragment in str(raised.value)
    assert stack.node.try_find_child("Repo") is None
