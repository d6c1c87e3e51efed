"""CDK idioms: a MeshedService is IGrantable (one task role for every version) and IConnectable (its security group)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from mesh_microservices import MeshedService
from production_stacks import CONNECT_STACK, DATABASE_PORT, MESH_STACK, SECRET_ARN
from synthesized import Synthesized

Variants = Callable[[str], Synthesized]

# Secrets Manager's actions behind ISecret.grant_read, and App Mesh's for Envoy (AWS docs).
SECRET_READ_ACTIONS = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
STREAM_ACTION = "appmesh:StreamAggregatedResources"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _task_role_of(synth: Synthesized, service_path: str) -> Any:
    """The TaskRoleArn of the task definition at ``service_path``."""
    task_definition = synth.logical_id("AWS::ECS::TaskDefinition", service_path)
    return synth.json["Resources"][task_definition]["Properties"]["TaskRoleArn"]


def _statements_of(synth: Synthesized, role_id: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role ``role_id``."""
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in _as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    ]


def test_a_service_is_grantable_and_connectable() -> None:
    # What jsii reads when a service is passed where aws-cdk-lib takes an IGrantable or IConnectable.
    declared = MeshedService.__dict__["__jsii_ifaces__"]
    assert iam.IGrantable in declared and ec2.IConnectable in declared


def test_every_version_runs_with_the_one_task_role(variants: Variants) -> None:
    synth = variants(MESH_STACK)
    role = synth.logical_id("AWS::IAM::Role", "/Orders/TaskDefinition/TaskRole/")
    assert _task_role_of(synth, "/Orders/TaskDefinition/") == {"Fn::GetAtt": [role, "Arn"]}
    assert _task_role_of(synth, "/Orders/Version-v2/TaskDefinition/") == {"Fn::GetAtt": [role, "Arn"]}
    task_roles = [
        logical_id
        for logical_id, r in synth.resources("AWS::IAM::Role").items()
        if r["Metadata"]["aws:cdk:path"].endswith("/TaskRole/Resource")
    ]
    assert task_roles == [role]


def test_a_grant_to_the_service_reaches_every_version(variants: Variants) -> None:
    synth = variants(MESH_STACK)
    role = synth.logical_id("AWS::IAM::Role", "/Orders/TaskDefinition/TaskRole/")
    reads = [s for s in _statements_of(synth, role) if sorted(_as_list(s["Action"])) == SECRET_READ_ACTIONS]
    assert reads == [{"Action": reads[0]["Action"], "Effect": "Allow", "Resource": SECRET_ARN}]


def test_the_shared_role_streams_each_versions_own_node_only(variants: Variants) -> None:
    # The one role holds each version's node grant: still the service's own nodes, never "*".
    synth = variants(MESH_STACK)
    role = synth.logical_id("AWS::IAM::Role", "/Orders/TaskDefinition/TaskRole/")
    streaming = [s for s in _statements_of(synth, role) if STREAM_ACTION in _as_list(s["Action"])]
    nodes = sorted(str(s["Resource"]).rsplit("/virtualNode/", 1)[1].split("'")[0] for s in streaming)
    assert nodes == ["orders-v2_scalemesh.local", "orders_scalemesh.local"]


def test_each_version_keeps_its_own_execution_role(variants: Variants) -> None:
    # Image pulls and log writes stay per task definition: only the task role is shared.
    synth = variants(MESH_STACK)
    primary = synth.logical_id("AWS::ECS::TaskDefinition", "/Orders/TaskDefinition/")
    canary = synth.logical_id("AWS::ECS::TaskDefinition", "/Orders/Version-v2/TaskDefinition/")
    roles = [synth.json["Resources"][t]["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0] for t in (primary, canary)]
    assert len(set(roles)) == 2


def test_connections_allow_to_opens_the_peer_to_the_services_group(variants: Variants) -> None:
    synth = variants(CONNECT_STACK)
    service_group = synth.logical_id("AWS::EC2::SecurityGroup", "/Api/SecurityGroup/")
    database = synth.logical_id("AWS::EC2::SecurityGroup", "/Database/")
    rules = [
        r["Properties"]
        for r in synth.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [database, "GroupId"]}
    ]
    assert rules == [
        {
            "Description": "api reads the database",
            "FromPort": DATABASE_PORT,
            "GroupId": {"Fn::GetAtt": [database, "GroupId"]},
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {"Fn::GetAtt": [service_group, "GroupId"]},
            "ToPort": DATABASE_PORT,
        }
    ]
