"""Each finding kind the library acknowledges: the case it acknowledges, and the case it leaves reported.

As cdk-nag tests its rules, one compliant and one non-compliant case per kind, here on the kind's
predicate (``mesh_microservices._acknowledgments.<kind>``) and on what ``acknowledge`` writes. The
gates (test_aws_solutions_checks.py, test_checkov.py, test_cfn_lint.py) check the same on whole apps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mesh_microservices._acknowledgments import acknowledge
from mesh_microservices._acknowledgments.access_log_bucket import acknowledge_access_log_bucket
from mesh_microservices._acknowledgments.container_environment import only_sidecar_variables
from mesh_microservices._acknowledgments.core import ignore_cfn_lint
from mesh_microservices._acknowledgments.default_encryption import acknowledge_default_log_encryption
from mesh_microservices._acknowledgments.managed_policies import AWS_MANAGED_POLICIES, managed_policy_rule
from mesh_microservices._acknowledgments.public_load_balancer import (
    acknowledge_public_load_balancer,
    open_port_checks,
)
from mesh_microservices._acknowledgments.task_findings import _templates_with_findings
from mesh_microservices._acknowledgments.wildcard_resources import only_unscopable, wildcard_actions

SIDECARS = {"envoy": ["the virtual node's ARN"]}


def _container(name: str, environment: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"Name": name, **({"Environment": environment} if environment else {})}


# AwsSolutions-ECS2: plain environment variables.


def test_environment_of_the_library_sidecars_only_is_acknowledged() -> None:
    task = {"ContainerDefinitions": [_container("app"), _container("envoy", [{"Name": "A", "Value": "b"}])]}
    assert only_sidecar_variables(task, SIDECARS)


def test_environment_of_an_application_container_stays_reported() -> None:
    task = {
        "ContainerDefinitions": [
            _container("app", [{"Name": "PASSWORD", "Value": "x"}]),
            _container("envoy", [{"Name": "A", "Value": "b"}]),
        ]
    }
    assert not only_sidecar_variables(task, SIDECARS)
    assert not only_sidecar_variables({"ContainerDefinitions": {"Fn::If": []}}, SIDECARS)  # not knowably ours


# AwsSolutions-IAM5[Resource::*]: actions granted on "*".


def _policy(actions: list[str], resource: object = "*") -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}


def test_actions_without_resource_level_permissions_on_star_are_acknowledged() -> None:
    actions = wildcard_actions(_policy(["ecr:GetAuthorizationToken", "xray:PutTraceSegments"]))
    assert actions == {"ecr:GetAuthorizationToken", "xray:PutTraceSegments"}
    assert only_unscopable(actions)
    assert wildcard_actions(_policy(["s3:GetObject"], resource=["arn:aws:s3:::b/*"])) == set()  # not on "*"


def test_an_application_action_on_star_or_an_unreadable_policy_stays_reported() -> None:
    assert not only_unscopable(wildcard_actions(_policy(["ecr:GetAuthorizationToken", "s3:GetObject"])))
    assert not only_unscopable(wildcard_actions({"Statement": ["rendered by an intrinsic function"]}))


def test_only_templates_with_a_grant_on_star_are_read_for_it_without_sidecars(tmp_path: Path) -> None:
    def template(name: str, resource: object) -> str:
        document = _policy(["logs:PutLogEvents"], resource)
        policy = {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": document}}
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps({"Resources": {"Policy": policy}}, indent=1))  # as aws-cdk-lib writes it
        return str(path)

    on_star = template("OnStar", ["arn:aws:logs:eu-west-1:123456789012:log-group:app:*", "*"])
    scoped = template("Scoped", "arn:aws:logs:eu-west-1:123456789012:log-group:app:*")
    assert set(_templates_with_findings([on_star, scoped], sidecars=False)) == {Path(on_star)}
    assert set(_templates_with_findings([on_star, scoped], sidecars=True)) == {Path(on_star), Path(scoped)}


# AwsSolutions-IAM4: AWS managed policies.


def test_a_managed_policy_the_library_attaches_is_acknowledged_under_cdk_nags_id() -> None:
    name = "service-role/AWSLambdaBasicExecutionRole"
    assert name in AWS_MANAGED_POLICIES
    assert managed_policy_rule(name) == (
        "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
        "service-role/AWSLambdaBasicExecutionRole]"
    )


def test_a_managed_policy_the_library_does_not_attach_has_no_reason() -> None:
    assert "AdministratorAccess" not in AWS_MANAGED_POLICIES


# AwsSolutions-EC23 and CKV_AWS_260: a public load balancer's group.


def test_an_open_port_80_is_acknowledged_to_checkov() -> None:
    assert open_port_checks([80, 443]) == ["CKV_AWS_260"]


def test_a_group_without_port_80_has_no_checkov_acknowledgment() -> None:
    assert open_port_checks([443]) == []


# What acknowledge writes: only on the resource given, with one reason for both scanners.


@pytest.fixture(scope="module")
def stack() -> tuple[Template, cdk.Stack]:
    app = cdk.App()
    stack = cdk.Stack(app, "Acknowledgments")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[])
    group = ec2.SecurityGroup(stack, "LoadBalancerGroup", vpc=vpc)
    acknowledge_public_load_balancer(group, ports=[80])
    ec2.SecurityGroup(stack, "ApplicationGroup", vpc=vpc)
    acknowledge_access_log_bucket(s3.Bucket(stack, "AccessLogs"))
    s3.Bucket(stack, "ApplicationBucket")
    log_group = logs.LogGroup(stack, "Logs")
    acknowledge(log_group, "first", checkov=["CKV_AWS_66", "CKV_AWS_158"])
    acknowledge(log_group, "second", checkov=["CKV_AWS_158"])
    acknowledge_default_log_encryption(logs.LogGroup(stack, "Fresh"))
    ignore_cfn_lint(logs.LogGroup(stack, "Linted"), "W3005")
    return Template.from_stack(stack), stack


def _metadata(template: Template, resource_type: str, path: str) -> dict[str, Any]:
    found = template.find_resources(resource_type)
    (resource,) = (r for logical_id, r in found.items() if logical_id.startswith(path))
    return dict(resource.get("Metadata", {}))


def _acknowledged(stack: cdk.Stack, path: str) -> dict[str, str]:
    resource = stack.node.find_child(path).node.default_child
    assert resource is not None
    return {
        rule: reason
        for entry in resource.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in dict(entry.data).items()
    }


def test_the_acknowledged_resource_carries_the_same_reason_for_cdk_nag_and_checkov(
    stack: tuple[Template, cdk.Stack],
) -> None:
    template, construct = stack
    (skip,) = _metadata(template, "AWS::S3::Bucket", "AccessLogs")["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_18"
    assert _acknowledged(construct, "AccessLogs") == {"AwsSolutions::AwsSolutions-S1": skip["comment"]}
    (skip,) = _metadata(template, "AWS::EC2::SecurityGroup", "LoadBalancerGroup")["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_260"
    assert _acknowledged(construct, "LoadBalancerGroup") == {"AwsSolutions::AwsSolutions-EC23": skip["comment"]}


def test_a_resource_next_to_an_acknowledged_one_stays_reported(stack: tuple[Template, cdk.Stack]) -> None:
    template, construct = stack
    assert "checkov" not in _metadata(template, "AWS::S3::Bucket", "ApplicationBucket")
    assert _acknowledged(construct, "ApplicationBucket") == {}
    assert "checkov" not in _metadata(template, "AWS::EC2::SecurityGroup", "ApplicationGroup")
    assert _acknowledged(construct, "ApplicationGroup") == {}


def test_a_later_acknowledgment_keeps_the_other_checkov_skips(stack: tuple[Template, cdk.Stack]) -> None:
    template, _ = stack
    skips = {s["id"]: s["comment"] for s in _metadata(template, "AWS::Logs::LogGroup", "Logs")["checkov"]["skip"]}
    assert skips.keys() == {"CKV_AWS_66", "CKV_AWS_158"}
    assert skips["CKV_AWS_66"] == "first"
    assert skips["CKV_AWS_158"] == "second"


def test_a_new_log_group_is_acknowledged_with_the_way_to_a_customer_key(stack: tuple[Template, cdk.Stack]) -> None:
    template, _ = stack
    (skip,) = _metadata(template, "AWS::Logs::LogGroup", "Fresh")["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_158"
    assert "MeshedCluster(log_encryption_key=...)" in skip["comment"]


def test_cfn_lint_reads_its_ignored_checks_from_the_resource_metadata(stack: tuple[Template, cdk.Stack]) -> None:
    template, _ = stack
    assert _metadata(template, "AWS::Logs::LogGroup", "Linted")["cfn-lint"] == {"config": {"ignore_checks": ["W3005"]}}
