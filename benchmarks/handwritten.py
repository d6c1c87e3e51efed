"""The benchmark app written directly against aws-cdk-lib L2 constructs, without mesh-microservices.

It declares the same resources as ``library_app``: a platform stack (VPC with flow logs, ECS
cluster, Cloud Map namespace, App Mesh mesh) and N Envoy-meshed Fargate services, 25 per stack,
with an ingress and an egress rule per call, and on each log group the checkov acknowledgment the
examples need. It is the baseline the library's synthesis time is compared to; where the templates
hold free text (descriptions, the acknowledgment's reason) it writes the library's, so that the two
compare the cost of templates of the same size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk.region_info import RegionInfo
from constructs import Construct
from graphs import Edge
from handwritten_platform import (
    APP_DROPPED_CAPABILITIES,
    DESIRED_COUNT,
    ENV,
    HTTP,
    HTTPS,
    IMAGE,
    NAMESPACE,
    PORT,
    SERVICES_PER_STACK,
    Platform,
    acknowledge_default_encryption,
    build_platform,
    linux_parameters,
)

ENVOY_TAG = "v1.39.1.0-prod"
ENVOY_REPOSITORY = "aws-appmesh-envoy"
# The library's description of the outbound rule, so that both apps write templates of the same size.
AWS_API_EGRESS = "AWS APIs: ECR image pulls, logs, secrets; App Mesh control plane (Envoy configuration)"
ENVOY_HEALTH_CHECK = ecs.HealthCheck(
    command=["CMD-SHELL", "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE"],
    interval=cdk.Duration.seconds(5),
    timeout=cdk.Duration.seconds(2),
    retries=3,
    start_period=cdk.Duration.seconds(10),
)


@dataclass(frozen=True)
class Service:
    """The parts of one service that its callers need."""

    name: str
    stack: cdk.Stack
    security_group: ec2.SecurityGroup
    virtual_node: appmesh.VirtualNode
    virtual_service: appmesh.VirtualService


class StackGraph:
    """Stack dependencies kept in Python, so each placement decision is a dict walk, not jsii calls."""

    def __init__(self) -> None:
        self._after: dict[str, set[str]] = {}

    def depends_on(self, stack: cdk.Stack, other: cdk.Stack) -> bool:
        """Whether ``stack`` already deploys after ``other``, directly or through other stacks."""
        pending, seen = list(self._after.get(stack.stack_name, ())), set()
        while pending:
            current = pending.pop()
            if current == other.stack_name:
                return True
            if current not in seen:
                seen.add(current)
                pending.extend(self._after.get(current, ()))
        return False

    def deploy_after(self, later: cdk.Stack, earlier: cdk.Stack) -> None:
        """Record (and declare to CDK) that ``later`` deploys after ``earlier``; callers avoid loops."""
        if earlier.stack_name not in self._after.setdefault(later.stack_name, set()):
            self._after[later.stack_name].add(earlier.stack_name)
            later.add_stack_dependency(earlier)


def build(app: cdk.App, n: int, edges: list[Edge]) -> None:
    """Declare the platform, ``n`` services in stacks of 25 and one ingress rule per edge."""
    platform = _platform(cdk.Stack(app, "Platform", env=ENV))
    graph = StackGraph()
    image = ecs.ContainerImage.from_registry(IMAGE)
    stacks: list[cdk.Stack] = []
    envoy_images: dict[str, ecs.ContainerImage] = {}
    services: list[Service] = []
    for i in range(n):
        if i % SERVICES_PER_STACK == 0:
            stack = cdk.Stack(app, f"Services{len(stacks) + 1}", env=ENV)
            stacks.append(stack)
            envoy_images[stack.stack_name] = _envoy_image(stack)
            graph.deploy_after(stack, platform.stack)
        services.append(
            _service(
                stacks[-1], f"Service{i:03d}", f"svc-{i:03d}", platform, image, envoy_images[stacks[-1].stack_name]
            )
        )
    for caller, callee in edges:
        _connect(graph, services[caller], services[callee])


def _platform(stack: cdk.Stack) -> Platform:
    """The shared platform and, on it, the mesh."""
    shared = build_platform(stack)
    mesh = appmesh.Mesh(stack, "Mesh", egress_filter=appmesh.MeshFilterType.DROP_ALL)
    mesh.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    return dataclasses.replace(shared, mesh=mesh)


def _envoy_image(stack: cdk.Stack) -> ecs.ContainerImage:
    """AWS's Envoy image in the stack's region; importing the repository grants pulls on it only."""
    account = RegionInfo.get(stack.region).app_mesh_repository_account
    repository = ecr.Repository.from_repository_attributes(
        stack,
        "EnvoyRepository",
        repository_name=ENVOY_REPOSITORY,
        repository_arn=stack.format_arn(
            service="ecr", account=account, resource="repository", resource_name=ENVOY_REPOSITORY
        ),
    )
    return ecs.ContainerImage.from_ecr_repository(repository, ENVOY_TAG)


def _service(
    stack: cdk.Stack, id: str, name: str, platform: Platform, image: ecs.ContainerImage, envoy_image: ecs.ContainerImage
) -> Service:
    scope = Construct(stack, id)  # logical ids then carry the service's id, as in the library
    mesh = platform.mesh
    assert mesh is not None
    node_name = f"{name}_{NAMESPACE}"
    log_group = logs.LogGroup(
        scope, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.RETAIN
    )
    acknowledge_default_encryption(log_group)
    task_definition = ecs.FargateTaskDefinition(
        scope,
        "TaskDefinition",
        cpu=256,
        memory_limit_mib=512,
        proxy_configuration=ecs.AppMeshProxyConfiguration(
            container_name="envoy",
            properties=ecs.AppMeshProxyConfigurationProps(
                app_ports=[PORT],
                proxy_ingress_port=15000,
                proxy_egress_port=15001,
                ignored_uid=1337,
                egress_ignored_i_ps=["169.254.170.2", "169.254.169.254"],
            ),
        ),
    )
    app_container = task_definition.add_container(
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
        allow_all_outbound=False,  # as the library: AWS APIs on 443 and the declared callees only
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
        max_healthy_percent=150,  # AWS's advice for two or three tasks
        cloud_map_options=ecs.CloudMapOptions(
            name=name,
            cloud_map_namespace=platform.namespace,
            dns_record_type=servicediscovery.DnsRecordType.A,
            dns_ttl=cdk.Duration.seconds(10),
        ),
    )
    assert service.cloud_map_service is not None  # set by cloud_map_options
    virtual_node = appmesh.VirtualNode(
        scope,
        "VirtualNode",
        mesh=mesh,
        virtual_node_name=node_name,
        service_discovery=appmesh.ServiceDiscovery.cloud_map(service.cloud_map_service),
        listeners=[appmesh.VirtualNodeListener.http(port=PORT, health_check=appmesh.HealthCheck.http(path="/"))],
    )
    router = appmesh.VirtualRouter(
        scope, "VirtualRouter", mesh=mesh, listeners=[appmesh.VirtualRouterListener.http(PORT)]
    )
    router.add_route(
        "Route",
        route_spec=appmesh.RouteSpec.http(
            weighted_targets=[appmesh.WeightedTarget(virtual_node=virtual_node, weight=1)],
            retry_policy=appmesh.HttpRetryPolicy(
                retry_attempts=2,
                retry_timeout=cdk.Duration.seconds(5),
                http_retry_events=[appmesh.HttpRetryEvent.STREAM_ERROR, appmesh.HttpRetryEvent.GATEWAY_ERROR],
                tcp_retry_events=[appmesh.TcpRetryEvent.CONNECTION_ERROR],
            ),
            timeout=appmesh.HttpTimeout(per_request=cdk.Duration.seconds(15), idle=cdk.Duration.seconds(15)),
        ),
    )
    virtual_service = appmesh.VirtualService(
        scope,
        "VirtualService",
        virtual_service_name=f"{name}.{NAMESPACE}",
        virtual_service_provider=appmesh.VirtualServiceProvider.virtual_router(router),
    )
    envoy = task_definition.add_container(
        "Envoy",
        container_name="envoy",
        image=envoy_image,
        essential=True,
        user="1337",
        environment={"APPMESH_RESOURCE_ARN": virtual_node.virtual_node_arn},
        health_check=ENVOY_HEALTH_CHECK,
        logging=ecs.LogDrivers.aws_logs(stream_prefix="envoy", log_group=log_group),
        linux_parameters=linux_parameters(scope, "EnvoyLinuxParameters", "ALL"),
    )
    envoy.add_ulimits(ecs.Ulimit(name=ecs.UlimitName.NOFILE, soft_limit=15000, hard_limit=15000))
    app_container.add_container_dependencies(
        ecs.ContainerDependency(container=envoy, condition=ecs.ContainerDependencyCondition.HEALTHY)
    )
    # By name: a reference to the node itself would close a cycle role -> node -> Cloud Map -> service -> role.
    appmesh.VirtualNode.from_virtual_node_attributes(
        scope, "VirtualNodeByName", mesh=mesh, virtual_node_name=node_name
    ).grant_stream_aggregated_resources(task_definition.task_role)
    return Service(name, stack, security_group, virtual_node, virtual_service)


def _connect(graph: StackGraph, caller: Service, callee: Service) -> None:
    """Declare the mesh backend and open callee's port to caller (both groups), without a stack reference loop."""
    caller.virtual_node.add_backend(appmesh.Backend.virtual_service(callee.virtual_service))
    if caller.stack is callee.stack:
        caller.virtual_node.node.add_dependency(callee.virtual_service)  # the backend is named literally
    # The rule goes to a stack that already deploys after the other; else the caller's, which then
    # deploys after the callee's. Either way no two stacks import from each other.
    owner = caller.stack
    if caller.stack is not callee.stack and not graph.depends_on(caller.stack, callee.stack):
        if graph.depends_on(callee.stack, caller.stack):
            owner = callee.stack
        else:
            graph.deploy_after(caller.stack, callee.stack)
    description = f"{caller.name} calls {callee.name}"
    callee.security_group.add_ingress_rule(
        caller.security_group,
        ec2.Port.tcp(PORT),
        description,
        remote_rule=owner is not callee.stack,  # CDK then puts the rule in the caller's stack
    )
    caller.security_group.add_egress_rule(
        callee.security_group,
        ec2.Port.tcp(PORT),
        description,
        remote_rule=owner is not caller.stack,  # CDK then puts the rule in the callee's stack
    )
