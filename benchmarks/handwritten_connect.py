"""The Service Connect benchmark app written directly against aws-cdk-lib L2 constructs.

It declares the same resources as ``library_app.build_service_connect``: the platform stack of
``handwritten_platform`` (no mesh), and N Fargate services on ECS Service Connect, 25 per stack, each
with its log group (acknowledged for checkov, as in ``handwritten``), a security group open
outbound on 443 only, and per call an egress rule on the caller's group and an ingress rule on
the callee's; a caller's ECS service starts after its callee's, with the library's start-order
marker, and containers drop the capabilities the library drops. Stacks then deploy after the
stacks they call, so a call graph with calls both ways between two stacks would need what the
library does for it (a restart of the caller): this app takes the chain graph only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct
from graphs import Edge
from handwritten_platform import (
    APP_DROPPED_CAPABILITIES,
    DESIRED_COUNT,
    ENV,
    HTTP,
    HTTPS,
    NAMESPACE,
    PORT,
    SERVICES_PER_STACK,
    Platform,
    acknowledge_default_encryption,
    build_platform,
    linux_parameters,
)

IDLE_TIMEOUT = cdk.Duration.minutes(5)  # Service Connect's default for HTTP
PER_REQUEST_TIMEOUT = cdk.Duration.seconds(15)
AWS_API_EGRESS = "AWS APIs: ECR image pulls, logs, secrets; ECS Service Connect (agent endpoints)"  # as the library


@dataclass(frozen=True)
class Service:
    """The parts of one service that its callers need."""

    name: str
    security_group: ec2.SecurityGroup
    service: ecs.FargateService


def build(app: cdk.App, n: int, edges: list[Edge]) -> None:
    """Declare the platform, ``n`` services in stacks of 25 and the rules of each call."""
    if any(callee < caller for caller, callee in edges):
        raise ValueError("handwritten_connect takes call graphs whose calls go to later services (chain) only")
    platform = build_platform(cdk.Stack(app, "Platform", env=ENV))
    image = ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27")
    stack: cdk.Stack | None = None
    services: list[Service] = []
    for i in range(n):
        if i % SERVICES_PER_STACK == 0:
            stack = cdk.Stack(app, f"Services{i // SERVICES_PER_STACK + 1}", env=ENV)
        assert stack is not None
        services.append(_service(stack, f"Service{i:03d}", f"svc-{i:03d}", platform, image))
    for caller, callee in edges:
        _connect(services[caller], services[callee])


def _service(stack: cdk.Stack, id: str, name: str, platform: Platform, image: ecs.ContainerImage) -> Service:
    scope = Construct(stack, id)
    log_group = logs.LogGroup(
        scope, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.RETAIN
    )
    acknowledge_default_encryption(log_group)
    task_definition = ecs.FargateTaskDefinition(scope, "TaskDefinition", cpu=256, memory_limit_mib=512)
    task_definition.add_container(
        "App",
        container_name="app",
        image=image,
        essential=True,
        port_mappings=[ecs.PortMapping(container_port=PORT, name=name, app_protocol=HTTP)],
        logging=ecs.LogDrivers.aws_logs(stream_prefix="app", log_group=log_group),
        linux_parameters=linux_parameters(scope, "AppLinuxParameters", *APP_DROPPED_CAPABILITIES),
    )
    security_group = ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=platform.vpc,
        description=f"{name}: reachable from declared callers only",
        allow_all_outbound=False,
    )
    security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS), AWS_API_EGRESS)
    service = ecs.FargateService(
        scope,
        "Service",
        cluster=platform.cluster,
        task_definition=task_definition,
        desired_count=DESIRED_COUNT,
        assign_public_ip=False,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        security_groups=[security_group],
        circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        min_healthy_percent=100,
        max_healthy_percent=150,
        service_connect_configuration=ecs.ServiceConnectProps(
            namespace=platform.namespace.namespace_arn,
            services=[
                ecs.ServiceConnectService(
                    port_mapping_name=name,
                    discovery_name=name,
                    dns_name=f"{name}.{NAMESPACE}",
                    port=PORT,
                    idle_timeout=IDLE_TIMEOUT,
                    per_request_timeout=PER_REQUEST_TIMEOUT,
                )
            ],
            log_driver=ecs.LogDrivers.aws_logs(stream_prefix="service-connect", log_group=log_group),
        ),
    )
    return Service(name, security_group, service)


def _connect(caller: Service, callee: Service) -> None:
    """Open callee's port to caller (both rules in the caller's stack); the caller starts after the callee."""
    caller.security_group.connections.allow_to(
        callee.security_group, ec2.Port.tcp(PORT), f"{caller.name} calls {callee.name}"
    )
    caller.service.node.add_dependency(callee.service)
    # As the library: a marker that replaces the caller's tasks when the callees it starts after change.
    digest = hashlib.sha256(callee.name.encode()).hexdigest()[:16]
    resource = cast(ecs.CfnService, caller.service.node.default_child)
    resource.force_new_deployment = ecs.CfnService.ForceNewDeploymentProperty(
        enable_force_new_deployment=True, force_new_deployment_nonce=f"callees-{digest}"
    )
