"""Restarting a caller's tasks once a callee it could not deploy after exists.

A task resolves only the Service Connect endpoints that existed when it started. Where calls run
round a loop, the call that closes the loop has no deployment order: its callee deploys after
its caller (the callee's stack, or the callee's ECS service in one stack, already waits for the
caller). So CloudFormation itself restarts the caller once the callee exists: a custom resource
in the callee's stack, after the callee's ECS service, calls ECS ``UpdateService`` with
``forceNewDeployment`` for the caller's service. It runs when it is created (on the deployment
that creates the call, or the callee), again only if what it restarts changes (the caller's
service or cluster; the rollback of such an update restarts the caller once more), and never when
it is deleted, with its stack or by the rollback of its creation. A new callee round a loop brings
its own restart. Forcing a deployment of a service with no tasks is harmless.

aws-cdk-lib's ``AwsCustomResource`` makes the call from one provider Lambda per stack (a singleton
with its own role); each restart adds its custom resource and one policy that allows
``ecs:UpdateService`` on the caller's service only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Annotations, CfnResource
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._acknowledgments import acknowledge_custom_resource_provider
from .._placement import stack_of

if TYPE_CHECKING:
    from aws_cdk import custom_resources as cr

# The custom resource's type, as `cdk deploy` and the CloudFormation console list it.
RESTART_RESOURCE_TYPE = "Custom::ServiceConnectCallerRestart"
# Its construct id below the callee's service: this prefix and the caller's service name.
RESTART_ID_PREFIX = "RestartCaller-"
UPDATE_SERVICE_ACTION = "ecs:UpdateService"
# UpdateService answers with the whole service (its last 100 events included), over CloudFormation's
# 4 KB limit on a custom resource's response: the resource keeps only the service's ARN.
RESTART_OUTPUT_PATHS = ("service.serviceArn",)
RESTART_INFO_ID = "mesh-microservices:ServiceConnectCallerRestart"


def restart_marker(caller_dns_name: str, callee_dns_name: str) -> str:
    """The restart's physical resource id: the call it restarts the caller for."""
    return f"restart {caller_dns_name} after {callee_dns_name}"


def provider_id() -> str:
    """The construct id, at the top of each stack, of aws-cdk-lib's one provider Lambda for AwsCustomResource.

    aws-cdk-lib names a singleton function by its purpose ("AWS" here) and its uuid without dashes.
    """
    from aws_cdk import custom_resources as cr

    return "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")


def restart_caller_after(
    scope: Construct,
    *,
    caller: ecs.FargateService,
    caller_name: str,
    caller_dns_name: str,
    callee: ecs.FargateService,
    callee_dns_name: str,
) -> cr.AwsCustomResource:
    """Restart ``caller``'s tasks once ``callee`` exists, from ``scope``'s stack.

    Args:
        scope: Where the restart goes: below the callee's service, in a stack that deploys after
            the caller's (or the same stack).
        caller: The ECS service to restart.
        caller_name: The caller's service name, unique in its cluster: the restart's construct id.
        caller_dns_name: The name callers dial to reach the caller, for the marker and the message.
        callee: The ECS service that must exist first.
        callee_dns_name: The name the caller dials to reach the callee.
    """
    from aws_cdk import custom_resources as cr

    call = cr.AwsSdkCall(
        service="ECS",
        action="UpdateService",
        parameters={
            "cluster": caller.cluster.cluster_name,
            "service": caller.service_name,
            "forceNewDeployment": True,
        },
        physical_resource_id=cr.PhysicalResourceId.of(restart_marker(caller_dns_name, callee_dns_name)),
        output_paths=list(RESTART_OUTPUT_PATHS),
    )
    restart = cr.AwsCustomResource(
        scope,
        f"{RESTART_ID_PREFIX}{caller_name}",
        resource_type=RESTART_RESOURCE_TYPE,
        on_create=call,
        on_update=call,  # only when the call changes: another caller service or cluster
        policy=cr.AwsCustomResourcePolicy.from_statements(
            [iam.PolicyStatement(actions=[UPDATE_SERVICE_ACTION], resources=[caller.service_arn])]
        ),
        install_latest_aws_sdk=False,  # Lambda's own SDK has UpdateService; no download from npm
    )
    resource = restart.node.default_child
    assert resource is not None
    callee_resource = callee.node.default_child
    assert isinstance(callee_resource, CfnResource)
    resource.node.add_dependency(callee_resource)
    acknowledge_custom_resource_provider(stack_of(scope).node.find_child(provider_id()))
    Annotations.of(restart).add_info_v2(
        RESTART_INFO_ID,
        f"{caller_dns_name} calls {callee_dns_name}, which already waits for it (calls run both ways, directly or "
        f"through other services), so no deployment order starts {callee_dns_name} first. Once {callee_dns_name} "
        f"exists, this custom resource restarts the tasks of {caller_dns_name} (ECS UpdateService with "
        "forceNewDeployment), so that they reach it: on the deployment that creates the call, not on later ones.",
    )
    return restart
