"""ServiceRepository: scanned, immutable, bounded, retained unless asked otherwise."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

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
    assert {
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [repository_id, "Arn"]},
    } in statements
    other = shop.logical_id("AWS::IAM::Policy", "/Web/TaskDefinition/ExecutionRole/")
    assert repository_id not in json.dumps(shop.json["Resources"][other])
    shop.template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": Match.array_with([Match.object_like({"Name": "app", "Image": Match.any_value()})])},
    )
