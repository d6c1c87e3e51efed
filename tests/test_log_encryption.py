"""A cluster's customer key encrypts every log group the library creates, and CloudWatch Logs may use it.

Also the ingress's own access-log bucket: versioned, with a lifecycle rule.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match

from checked_apps import CheckedApp
from conftest import ENV, new_app
from mesh_microservices import DataPlane, MeshedCluster
from mesh_microservices.ingress import ACCESS_LOGS_EXPIRATION, ACCESS_LOGS_NONCURRENT_EXPIRATION

# CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS", step 2.
LOGS_PRINCIPAL = f"logs.{ENV.region}.amazonaws.com"
LOGS_KEY_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:logs:arn"


@pytest.mark.parametrize("stack", ["SealedLogs", "SealedMeshLogs"])
def test_every_log_group_of_the_library_takes_the_cluster_key(encrypted_logs_app: CheckedApp, stack: str) -> None:
    synthesized = encrypted_logs_app.stack(stack)
    key_id = synthesized.logical_id("AWS::KMS::Key", "LogKey")
    log_groups = synthesized.resources("AWS::Logs::LogGroup")
    paths = sorted(g["Metadata"]["aws:cdk:path"].split("/", 1)[1] for g in log_groups.values())
    expected = ["Api/Logs/Resource", "Cluster/FlowLogs/Resource"]
    if stack == "SealedMeshLogs":  # the gateway's Envoy logs
        expected.append("Ingress/Logs/Resource")
    assert paths == sorted(expected)
    for group in log_groups.values():
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert "checkov" not in group["Metadata"]


def test_the_key_policy_lets_cloudwatch_logs_use_the_key_for_its_account_and_region(
    encrypted_logs_app: CheckedApp,
) -> None:
    synthesized = encrypted_logs_app.stack("SealedLogs")
    synthesized.template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": Match.any_value(),
                            "Effect": "Allow",
                            "Principal": {"Service": LOGS_PRINCIPAL},
                            "Action": LOGS_KEY_ACTIONS,
                            "Resource": "*",
                            "Condition": {
                                "ArnLike": {
                                    ENCRYPTION_CONTEXT: {
                                        "Fn::Join": [
                                            "",
                                            [
                                                "arn:",
                                                {"Ref": "AWS::Partition"},
                                                f":logs:{ENV.region}:{ENV.account}:log-group:*",
                                            ],
                                        ]
                                    }
                                }
                            },
                        }
                    ]
                )
            }
        },
    )


def test_without_a_key_each_log_group_is_acknowledged_for_checkov(shop_app_stack: dict[str, object]) -> None:
    for group in shop_app_stack.values():
        skips = group["Metadata"]["checkov"]["skip"]  # type: ignore[index]
        assert [skip["id"] for skip in skips] == ["CKV_AWS_158"]
        assert "log_encryption_key" in skips[0]["comment"]


@pytest.fixture
def shop_app_stack(example_apps: dict[str, CheckedApp]) -> dict[str, object]:
    """The log groups of the shop example, which gives no key."""
    return example_apps["shop"].stack("Shop").resources("AWS::Logs::LogGroup")


def test_a_key_of_another_region_is_refused() -> None:
    app = new_app()
    keys = cdk.Stack(app, "Keys", env=cdk.Environment(account=ENV.account, region="us-east-1"))
    key = kms.Key(keys, "Key")
    stack = cdk.Stack(app, "Cluster", env=ENV)
    with pytest.raises(ValueError, match=r"log_encryption_key is a key of region 'us-east-1'.*'eu-west-1'"):
        MeshedCluster(
            stack, "Cluster", namespace="x.local", data_plane=DataPlane.service_connect(), log_encryption_key=key
        )


def test_a_key_that_is_not_a_key_is_refused() -> None:
    stack = cdk.Stack(new_app(), "Cluster", env=ENV)
    with pytest.raises(TypeError, match=r"log_encryption_key='alias/logs' is a str; pass an IKey"):
        MeshedCluster(
            stack,
            "Cluster",
            namespace="x.local",
            data_plane=DataPlane.service_connect(),
            log_encryption_key="alias/logs",  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("stack", ["SealedLogs", "SealedMeshLogs"])
def test_the_access_log_bucket_is_versioned_and_expires_what_it_holds(
    encrypted_logs_app: CheckedApp, stack: str
) -> None:
    encrypted_logs_app.stack(stack).template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": Match.any_value(),
                        "Status": "Enabled",
                        "ExpirationInDays": 90,  # given
                        "NoncurrentVersionExpiration": {"NoncurrentDays": ACCESS_LOGS_NONCURRENT_EXPIRATION.to_days()},
                    }
                ]
            },
        },
    )


def test_the_access_log_bucket_keeps_logs_for_the_default_expiration(example_apps: dict[str, CheckedApp]) -> None:
    example_apps["shop"].stack("Shop").template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": ACCESS_LOGS_EXPIRATION.to_days()})]
            },
        },
    )


def _ingress(**options: object) -> None:
    from aws_cdk import aws_ecs as ecs
    from aws_cdk import aws_s3 as s3

    from conftest import NGINX
    from mesh_microservices import IngressRoute, MeshedService, MeshIngress

    stack = cdk.Stack(new_app(), "Edge", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="edge.local", data_plane=DataPlane.service_connect())
    api = MeshedService(stack, "Api", cluster=cluster, name="api", image=ecs.ContainerImage.from_registry(NGINX))
    if options.pop("own_bucket", False):
        options["access_logs_bucket"] = s3.Bucket.from_bucket_name(stack, "Logs", "edge-logs")
    MeshIngress(stack, "Ingress", cluster=cluster, routes=[IngressRoute(service=api)], allow_plain_http=True, **options)  # type: ignore[arg-type]


def test_an_expiration_for_a_bucket_of_the_application_is_refused() -> None:
    with pytest.raises(ValueError, match=r"access_logs_expiration=90 days is given with access_logs_bucket.*Remove"):
        _ingress(own_bucket=True, access_logs_expiration=cdk.Duration.days(90))


def test_an_expiration_of_part_of_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match=r"access_logs_expiration=1 day 12 hours is not a whole number of days"):
        _ingress(access_logs_expiration=cdk.Duration.hours(36))


def test_clusters_sharing_a_key_from_another_stack_add_one_statement() -> None:
    app = new_app()
    keys = cdk.Stack(app, "Keys", env=ENV)
    key = kms.Key(keys, "Key", enable_key_rotation=True)
    for index in range(2):
        stack = cdk.Stack(app, f"Cluster{index}", env=ENV)
        MeshedCluster(
            stack,
            "Cluster",
            namespace=f"c{index}.local",
            data_plane=DataPlane.service_connect(),
            log_encryption_key=key,
        )
    (resource,) = app.synth().get_stack_by_name("Keys").template["Resources"].values()
    statements = resource["Properties"]["KeyPolicy"]["Statement"]
    assert [s["Principal"] for s in statements].count({"Service": LOGS_PRINCIPAL}) == 1
