"""The Fargate task definitions and ECS services the library runs: a MeshedService's versions and App Mesh's gateway.

Every one runs in the cluster's private subnets without a public IP, rolls back a deployment
whose tasks never turn healthy, and never takes a healthy task away before its replacement is up.
A leaf module: the public constructs and the data-plane packages both build on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs

from ._contract import DeploymentOptions, Registration
from ._deployment import MIN_HEALTHY_PERCENT, max_healthy_percent

if TYPE_CHECKING:
    from aws_cdk import Duration
    from aws_cdk import aws_iam as iam
    from constructs import Construct

# The construct id of a task definition, in the construct that owns it.
TASK_DEFINITION_ID = "TaskDefinition"


def fargate_task_definition(
    scope: Construct,
    *,
    cpu: int,
    memory_limit_mib: int,
    proxy_configuration: ecs.ProxyConfiguration | None = None,
    task_role: iam.IRole | None = None,
) -> ecs.FargateTaskDefinition:
    """A task definition of ``cpu`` units and ``memory_limit_mib``, with id ``TASK_DEFINITION_ID`` in ``scope``.

    Args:
        scope: The construct that owns the task definition.
        cpu: Task CPU units.
        memory_limit_mib: Task memory in MiB.
        proxy_configuration: The data plane's proxy configuration. Default: none.
        task_role: The role the tasks run with. Default: a new role.
    """
    return ecs.FargateTaskDefinition(
        scope,
        TASK_DEFINITION_ID,
        cpu=cpu,
        memory_limit_mib=memory_limit_mib,
        proxy_configuration=proxy_configuration,
        task_role=task_role,
    )


def fargate_service(
    scope: Construct,
    id: str,
    *,
    cluster: ecs.ICluster,
    task_definition: ecs.TaskDefinition,
    desired_count: int,
    security_group: ec2.ISecurityGroup,
    registration: Registration | None = None,
    release: DeploymentOptions | None = None,
    health_check_grace_period: Duration | None = None,
) -> ecs.FargateService:
    """An ECS service in ``cluster``'s private subnets, with the library's deployment limits.

    Args:
        scope: The construct that owns the service.
        id: Its construct id.
        cluster: The ECS cluster.
        task_definition: What each task runs.
        desired_count: How many tasks run; a deployment may run more (``max_healthy_percent``).
        security_group: The tasks' only security group.
        registration: How the tasks are made known (Cloud Map or Service Connect). Default: not at all.
        release: How a new revision is released. Default: ECS's rolling update.
        health_check_grace_period: How long a load balancer's verdict is ignored after a task
            starts. Default: ECS's.
    """
    registration = registration or Registration()
    release = release or DeploymentOptions()
    return ecs.FargateService(
        scope,
        id,
        cluster=cluster,
        task_definition=task_definition,
        desired_count=desired_count,
        assign_public_ip=False,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        security_groups=[security_group],
        circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        min_healthy_percent=MIN_HEALTHY_PERCENT,
        max_healthy_percent=max_healthy_percent(desired_count),
        health_check_grace_period=health_check_grace_period,
        cloud_map_options=registration.cloud_map_options,
        service_connect_configuration=registration.service_connect,
        deployment_strategy=release.deployment_strategy,
        canary_configuration=release.canary_configuration,
        linear_configuration=release.linear_configuration,
        bake_time=release.bake_time,
        deployment_alarms=release.deployment_alarms,
        lifecycle_hooks=list(release.lifecycle_hooks) or None,
    )
