"""What the two hand-written benchmark apps share: their settings and the platform without a mesh.

Kept apart from ``handwritten`` (the App Mesh app) so that the hand-written Service Connect app
imports no App Mesh module, as the library's Service Connect app imports none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_appmesh as appmesh

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
NAMESPACE = "bench.local"
IMAGE = "public.ecr.aws/nginx/nginx:1.27"
SERVICES_PER_STACK = 25
PORT = 8080
HTTPS = 443
DESIRED_COUNT = 2
HTTP = cast(ecs.AppProtocol, ecs.AppProtocol.http)  # a jsii class property, typed as a method
# The capabilities the library drops from an application container (Envoy drops them all).
APP_DROPPED_CAPABILITIES = ("NET_RAW", "MKNOD", "SYS_CHROOT", "SETFCAP", "SETPCAP", "AUDIT_WRITE")
# The examples pass checkov, so a log group without a customer managed key carries an
# acknowledgment of CKV_AWS_158; the library's text, so that both apps write templates of the
# same size.
LOG_GROUP_CHECKOV = {
    "skip": [
        {
            "id": "CKV_AWS_158",
            "comment": "Encrypted at rest by CloudWatch Logs; for a customer managed key: "
            "MeshedCluster(log_encryption_key=...).",
        }
    ]
}


@dataclass(frozen=True)
class Platform:
    """What every service shares."""

    stack: cdk.Stack
    vpc: ec2.Vpc
    cluster: ecs.Cluster
    namespace: servicediscovery.PrivateDnsNamespace
    mesh: appmesh.Mesh | None = None  # None on Service Connect (handwritten_connect)


def build_platform(stack: cdk.Stack) -> Platform:
    """The VPC with flow logs, the ECS cluster and the Cloud Map namespace, as the library's cluster."""
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
        ],
        restrict_default_security_group=False,  # as the library: no custom-resource Lambda
    )
    flow_logs = logs.LogGroup(
        stack, "FlowLogs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=cdk.RemovalPolicy.RETAIN
    )
    acknowledge_default_encryption(flow_logs)
    vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
    namespace = servicediscovery.PrivateDnsNamespace(stack, "Namespace", name=NAMESPACE, vpc=vpc)
    namespace.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    return Platform(stack, vpc, cluster, namespace)


def acknowledge_default_encryption(log_group: logs.LogGroup) -> None:
    """Acknowledge checkov's CKV_AWS_158 on ``log_group``, as the library does."""
    cast(cdk.CfnResource, log_group.node.default_child).add_metadata("checkov", LOG_GROUP_CHECKOV)


def linux_parameters(scope: Construct, id: str, *capabilities: str) -> ecs.LinuxParameters:
    """Linux parameters that drop ``capabilities`` from a container, as the library's containers do."""
    parameters = ecs.LinuxParameters(scope, id)
    parameters.drop_capabilities(*(ecs.Capability(c) for c in capabilities))
    return parameters
