"""MeshedService: one Fargate service, registered in Cloud Map and joined to its cluster's data plane."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct, IValidation

from ._acknowledgments import acknowledge_task_findings
from ._contract import AWS_API_EGRESS, DeploymentOptions, Egress, ServiceMeshing, ServiceSpec, Workload
from ._deployment import MIN_HEALTHY_PERCENT, max_healthy_percent
from ._log_groups import new_log_group
from ._placement import begin_round, check_same_environment, depends_on, deploy_after, rule_owner, stack_of
from ._traffic_checks import check_route_policy, check_traffic
from ._validate import (
    ValidationProblems,
    check_environment_names,
    check_http_path,
    check_interface,
    check_port,
    check_positive,
    check_service_name,
    check_task_size,
    check_type,
    is_token,
)
from .app_mesh import AppMeshService
from .cluster import MeshedCluster
from .observability import ServiceAlarms
from .options import PATH_PROTOCOLS, Discovery, ListenerProtocol, RoutePolicy
from .rollout import Rollout, check_rollout
from .scaling import Scaling
from .security import ContainerSecurity, add_scratch_volumes, check_container_security, container_options
from .traffic import ConnectionPool, Deployment, OutlierDetection, RouteRule, ServiceVersion

APP_CONTAINER_NAME = "app"
# The path probed when a service names none: the root, which every HTTP application serves.
DEFAULT_HEALTH_CHECK_PATH = "/"


@jsii.implements(iam.IGrantable, ec2.IConnectable)
class MeshedService(Construct):
    """A Fargate service that callers reach at ``<name>.<namespace>`` through the cluster's data plane.

    One construct creates the task definition (application container plus, on App Mesh, the
    Envoy sidecar and proxy configuration), the ECS service registered in the cluster's Cloud
    Map namespace, its security group, its log group, and the data plane's resources.

    The service takes part in CDK's idioms: it is an ``iam.IGrantable`` whose principal is the
    task role every version shares (``bucket.grant_read(service)`` reaches every version's
    tasks), and an ``ec2.IConnectable`` whose connections are its security group
    (``service.connections.allow_to(database, ec2.Port.tcp(5432))``).

    Attributes:
        cluster: The MeshedCluster the service runs in.
        name: The service name; callers dial ``dns_name``.
        port: The port the application listens on.
        protocol: The application's protocol.
        health_check_path: The HTTP path probed for the service's health: the one given, or "/".
            The App Mesh listener of an HTTP or HTTP/2 service probes it, and so should a load
            balancer's target group in front of the service.
        task_definition: The primary version's Fargate task definition.
        app_container: The primary version's application container.
        service: The primary version's ECS Fargate service.
        route_rules: The route rules tried before the default route.
        rollout: How ECS releases a new revision of the service (read-only).
        deployments: Every version's deployment (task definition, container, ECS service), by
            version name, the primary version first.
        security_group: The service's security group; only declared callers may reach ``port``, and
            unless ``allow_all_outbound`` it reaches only its callees' ports and HTTPS.
        container_security: How every version's application container runs.
        allow_all_outbound: Whether the tasks may connect anywhere (False: callees and HTTPS only).
        task_role: The IAM role every version's tasks run with (the primary task definition's),
            which ``grant_principal`` is.
        scaling: How the task count scales, or None when it stays at ``desired_count``.
        log_group: The log group of the application and sidecar containers, encrypted with the
            cluster's ``log_encryption_key`` when it has one.
        cloud_map_service: The Cloud Map service the ECS service registers its tasks in through
            Cloud Map options (App Mesh); None on Service Connect, which registers the tasks itself.
        meshing: The data plane's parts of this service.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: MeshedCluster,
        name: str,
        image: ecs.ContainerImage,
        port: int = 8080,
        protocol: ListenerProtocol = ListenerProtocol.HTTP,
        health_check_path: str | None = None,
        container_health_check: ecs.HealthCheck | None = None,
        cpu: int = 256,
        memory_mib: int = 512,
        desired_count: int = 2,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, ecs.Secret] | None = None,
        discovery: Discovery | None = None,
        route_policy: RoutePolicy | None = None,
        version: str = "v1",
        weight: int = 100,
        versions: Sequence[ServiceVersion] = (),
        routes: Sequence[RouteRule] = (),
        rollout: Rollout | None = None,
        outlier_detection: OutlierDetection | None = None,
        connection_pool: ConnectionPool | None = None,
        backends: Sequence[MeshedService | str] = (),
        scaling: Scaling | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        container_security: ContainerSecurity | None = None,
        allow_all_outbound: bool = False,
    ) -> None:
        """Create the service.

        Args:
            scope: The parent construct.
            id: The construct id.
            cluster: The MeshedCluster to run in; ``scope``'s stack must deploy to the cluster
                stack's account and region (both explicit, or both left out).
            name: A DNS label naming the service; callers dial ``<name>.<namespace>``.
            image: The application image, e.g. ``ServiceRepository.image("1.4.2")``.
            port: The port the application listens on; a literal number (the data plane derives its
                listeners from it), not a token. Default: 8080.
            protocol: The application protocol. Default: HTTP.
            health_check_path: The HTTP path that answers whether a task is healthy (HTTP and HTTP/2
                services only: gRPC and TCP health checks have no path). App Mesh's listener probes it;
                on Service Connect only a load balancer in front of the service does (MeshIngress, or
                one given ``expose_to``), and a path given to a service no load balancer reaches fails
                synthesis. Default: "/" where something probes.
            container_health_check: A check ECS runs inside every version's application container,
                e.g. ``ecs.HealthCheck(command=["CMD-SHELL", "curl -f http://localhost:8080/health ||
                exit 1"])`` (the image must contain the command). ECS replaces a task whose check
                fails, and rolls back a deployment whose tasks never turn healthy. Use it on Service
                Connect, whose proxy probes nothing by itself, and for services no load balancer
                probes; on App Mesh, Envoy's listener health check only steers callers away from a
                failing task, it does not replace it. Default: none.
            cpu: Task CPU units; a number token (e.g. a ``CfnParameter``'s ``value_as_number``) is
                passed to CloudFormation unchecked. Default: 256.
            memory_mib: Task memory in MiB; must suit ``cpu`` on Fargate (checked unless either is a
                token). Default: 512.
            desired_count: How many tasks run; 0 creates the service without starting a task, e.g.
                to deploy a new repository before its first image is pushed. With ``scaling``, the
                count the service starts with, within the scaling bounds. A number token is
                accepted; the deployment may then run up to 200 % of it. Default: 2.
            environment: Plain environment variables of the application. Names ECS, Fargate and App
                Mesh set themselves (``ECS_*``, ``AWS_CONTAINER_*``, ``APPMESH_*``,
                ``AWS_EXECUTION_ENV``) are refused, and so is a name also in ``secrets``. Default: none.
            secrets: Secret environment variables of the application; the same names are refused.
                Default: none.
            discovery: How the data plane finds the tasks. Default: ``Discovery.cloud_map()``.
            route_policy: Retries and timeouts in front of the service. Default: ``RoutePolicy()``.
            version: The name of the version ``image`` is. Default: "v1".
            weight: The primary version's share of traffic, 0 to 100, relative to ``versions``.
                Default: 100.
            versions: Further versions running beside the primary one, e.g. a canary
                ``[ServiceVersion(name="v2", image=..., weight=10)]`` (App Mesh; on Service Connect,
                release a new image with ``rollout=``). Default: none.
            routes: Route rules tried before the default route (HTTP and HTTP/2). Default: none.
            rollout: How ECS releases a new image (a new task definition revision) of the service,
                e.g. ``Rollout.canary(percent=10, bake=Duration.minutes(30), test_header=("x-canary",
                "true"))``: traffic moves to the new revision in steps, and the service's alarms (and
                the rollout's) roll it back. Service Connect only; App Mesh refuses every rollout but
                ``Rollout.rolling()``. Default: ``Rollout.rolling()``, ECS's rolling update.
            outlier_detection: Eject tasks that keep failing from callers' balancing. Default: off.
            connection_pool: Limits on callers' connections and requests per task. Default: none.
            backends: Services this one calls, as objects or names of services already declared in
                the cluster; the same as ``connect_to`` for each. Default: none.
            scaling: Target tracking of the task count, e.g. ``Scaling(min_tasks=2, max_tasks=10,
                cpu_percent=60)``. Every version scales on the same policies, each on its own
                tasks; ``desired_count`` (and each version's) must lie within the bounds.
                ``requests_per_target`` needs an Application Load Balancer forwarding to the
                service's tasks: on Service Connect a ``MeshIngress`` with an ALB routing to it
                (synthesis fails without one); App Mesh refuses it. Default: none (the count
                stays at ``desired_count``).
            log_retention: How long container logs are kept. Default: one month.
            removal_policy: What happens to the log group when it leaves the stack. Default: RETAIN.
            container_security: How every version's application container runs: read-only root
                file system and its writable paths, user, dropped Linux capabilities. Default:
                ``ContainerSecurity()`` (see there: the image's user, a writable root file system,
                NET_RAW, MKNOD, SYS_CHROOT, SETFCAP, SETPCAP and AUDIT_WRITE dropped).
            allow_all_outbound: Whether the tasks may open connections to any address and port.
                Default: False: the security group lets them reach the declared callees' ports
                (``connect_to``/``backends``) and HTTPS (443) anywhere, which the AWS APIs the task
                uses (image pulls from ECR, logs, Secrets Manager) and the data plane's control plane
                need without VPC endpoints. DNS to the VPC resolver is never filtered by security
                groups. A service that calls anything else (a database, a third-party API on another
                port) opens it with ``service.security_group.add_egress_rule(...)``, or passes True.
        """
        discovery = discovery if discovery is not None else Discovery.cloud_map()
        rollout = rollout if rollout is not None else Rollout.rolling()
        route_policy = route_policy if route_policy is not None else RoutePolicy()
        problems = ValidationProblems(f"MeshedService {id!r}")
        if check_type(problems, "cluster", cluster, MeshedCluster):
            check_service_name(problems, "name", name)
            if isinstance(name, str) and name in cluster._services:
                problems.add(
                    f"name={name!r} is already a service of cluster {cluster.node.path!r} "
                    f"(construct {cluster._services[name].node.path!r}); give each service its own name."
                )
            check_port(problems, "port", port, reserved=cluster._plane.reserved_ports())
            check_same_environment(
                problems, "scope", stack_of(scope), stack_of(cluster), what=lambda: f"cluster {cluster.node.path!r}"
            )
        check_type(problems, "image", image, ecs.ContainerImage)
        check_type(problems, "protocol", protocol, ListenerProtocol)
        _check_health_check_path(problems, health_check_path, protocol)
        if container_health_check is not None:
            check_type(problems, "container_health_check", container_health_check, ecs.HealthCheck)
        check_task_size(problems, cpu, memory_mib)
        check_positive(problems, "desired_count", desired_count, minimum=0)
        _check_environment(problems, environment, secrets, versions)
        check_type(problems, "discovery", discovery, Discovery)
        check_route_policy(problems, "route_policy", route_policy, protocol)
        _resolve_backends(problems, backends, cluster)
        _check_scaling(problems, scaling, protocol, desired_count, versions)
        weights = check_traffic(
            problems,
            protocol=protocol,
            version=version,
            weight=weight,
            versions=versions,
            routes=routes,
            outlier_detection=outlier_detection,
            connection_pool=connection_pool,
        )
        check_rollout(problems, "rollout", rollout, protocol=protocol)
        check_type(problems, "log_retention", log_retention, logs.RetentionDays)
        check_type(problems, "removal_policy", removal_policy, RemovalPolicy)
        container_security = container_security if container_security is not None else ContainerSecurity()
        check_container_security(problems, "container_security", container_security)
        check_type(problems, "allow_all_outbound", allow_all_outbound, bool)
        problems.raise_if_any()
        spec = ServiceSpec(
            scope=self,
            name=name,
            namespace=cluster.namespace,
            namespace_name=cluster.namespace_name,
            domain=cluster.service_domain,
            port=port,
            protocol=protocol,
            health_check_path=health_check_path if health_check_path is not None else DEFAULT_HEALTH_CHECK_PATH,
            discovery=discovery,
            route_policy=route_policy,
            primary_version=version,
            weights=weights,
            routes=tuple(routes),
            outlier_detection=outlier_detection,
            connection_pool=connection_pool,
            rollout=rollout,
            scaling=scaling,
        )
        cluster._plane.check(problems, spec)
        problems.raise_if_any()

        super().__init__(scope, id)
        self._construct_id = id
        self._stack = stack_of(self, parent=scope)
        self.cluster = cluster
        self.name = name
        self.port = port
        self.protocol = protocol
        self.health_check_path: str = spec.health_check_path
        self._container_health_check = container_health_check
        self._rollout = rollout
        self.scaling = scaling
        self._target_groups: list[elbv2.ApplicationTargetGroup] = []
        self.container_security = container_security
        self.allow_all_outbound = allow_all_outbound
        self.log_group = new_log_group(
            self,
            "Logs",
            retention=log_retention,
            removal_policy=removal_policy,
            encryption_key=cluster.log_encryption_key,
        )
        self.security_group = self._security_group(spec)
        primary = self._deploy(self, spec, version, weight, image, cpu, memory_mib, desired_count, environment, secrets)
        self.task_definition = primary.task_definition
        self.task_role: iam.IRole = primary.task_definition.task_role
        self.app_container = primary.app_container
        self.service = primary.service
        self.cloud_map_service: servicediscovery.IService | None = primary.cloud_map_service
        self.deployments: dict[str, Deployment] = {version: primary}
        self.route_rules: tuple[RouteRule, ...] = tuple(routes)
        for extra in versions:
            self.deployments[extra.name] = self._deploy(
                Construct(self, _version_scope_id(extra.name)),
                spec,
                extra.name,
                extra.weight,
                extra.image,
                cpu,
                memory_mib,
                extra.desired_count if extra.desired_count is not None else desired_count,
                extra.environment if extra.environment is not None else environment,
                secrets,
                task_role=self.task_role,
            )
        self.meshing: ServiceMeshing = cluster._plane.attach(
            Workload(spec=spec, deployments=tuple(self.deployments.values()), log_group=self.log_group)
        )
        for deployed, deployment in self.deployments.items():
            holder = id if deployed == version else f"{id}/{_version_scope_id(deployed)}"
            below = f"{holder}/TaskDefinition"
            acknowledge_task_findings(deployment.task_definition, stack=self._stack, parent=scope, path=below)
        begin_round()
        deploy_after(self._stack, stack_of(cluster))
        self._callees: list[MeshedService] = []
        self._exposed_to: list[str] = []
        if health_check_path is not None and not cluster._plane.probes_health_check_path(spec):
            self.node.add_validation(_HealthCheckPathProbed(self))
        if scaling is not None and scaling.requests_per_target is not None:
            self.node.add_validation(_RequestsCounted(self))
        cluster._services[name] = self
        for callee in backends:
            self.connect_to(callee)

    def _deploy(
        self,
        scope: Construct,
        spec: ServiceSpec,
        version: str,
        weight: int,
        image: ecs.ContainerImage,
        cpu: int,
        memory_mib: int,
        desired_count: int,
        environment: Mapping[str, str] | None,
        secrets: Mapping[str, ecs.Secret] | None,
        *,
        task_role: iam.IRole | None = None,
    ) -> Deployment:
        """One version's task definition, application container and ECS service, in ``scope``.

        Extra versions run with the primary version's ``task_role``, so that a grant to the
        service reaches every version; the primary's task definition creates it.
        """
        plane = self.cluster._plane
        task_definition = ecs.FargateTaskDefinition(
            scope,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            proxy_configuration=plane.proxy_configuration(spec),
            task_role=task_role,
        )
        app_container = task_definition.add_container(
            "App",
            container_name=APP_CONTAINER_NAME,
            image=image,
            essential=True,
            environment=dict(environment or {}),
            secrets=dict(secrets or {}),
            **container_options(scope, self.container_security, id="AppLinuxParameters"),
            port_mappings=[
                ecs.PortMapping(container_port=spec.port, name=spec.name, app_protocol=spec.protocol.ecs_app_protocol)
            ],
            health_check=self._container_health_check,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=APP_CONTAINER_NAME if scope is self else f"{APP_CONTAINER_NAME}-{version}",
                log_group=self.log_group,
            ),
        )
        add_scratch_volumes(task_definition, app_container, self.container_security.writable_paths)
        registration = plane.registration(spec, version, task_definition, self.log_group)
        # The rollout releases the primary version; App Mesh's further versions roll as before.
        release = plane.deployment_options(spec) if scope is self else DeploymentOptions()
        service = ecs.FargateService(
            scope,
            "Resource",
            cluster=self.cluster.cluster,
            task_definition=task_definition,
            desired_count=desired_count,
            assign_public_ip=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.security_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=MIN_HEALTHY_PERCENT,
            max_healthy_percent=max_healthy_percent(desired_count),
            cloud_map_options=registration.cloud_map_options,
            service_connect_configuration=registration.service_connect,
            deployment_strategy=release.deployment_strategy,
            canary_configuration=release.canary_configuration,
            linear_configuration=release.linear_configuration,
            bake_time=release.bake_time,
            deployment_alarms=release.deployment_alarms,
            lifecycle_hooks=list(release.lifecycle_hooks) or None,
        )
        return Deployment(
            version=version,
            weight=weight,
            primary=scope is self,
            task_definition=task_definition,
            app_container=app_container,
            service=service,
            cloud_map_service=service.cloud_map_service,
            task_count=self._scale(service),
        )

    def _scale(self, service: ecs.FargateService) -> ecs.ScalableTaskCount | None:
        """The version's scalable task count with the CPU and memory policies (requests come with a target group)."""
        scaling = self.scaling
        if scaling is None:
            return None
        count = service.auto_scale_task_count(min_capacity=scaling.min_tasks, max_capacity=scaling.max_tasks)
        if scaling.cpu_percent is not None:
            count.scale_on_cpu_utilization("Cpu", target_utilization_percent=scaling.cpu_percent)
        if scaling.memory_percent is not None:
            count.scale_on_memory_utilization("Memory", target_utilization_percent=scaling.memory_percent)
        return count

    def _add_target_group(self, target_group: elbv2.ApplicationTargetGroup) -> None:
        """Record an ALB target group, attached to its listener, that forwards to the primary version's tasks.

        With ``scaling.requests_per_target`` the primary version then also scales on the group's
        requests per task (a policy per group: any of them may scale out).
        """
        self._target_groups.append(target_group)
        count = next(iter(self.deployments.values())).task_count  # the primary version's
        if count is None or self.scaling is None or self.scaling.requests_per_target is None:
            return
        policy_id = "RequestsPerTarget" + ("" if len(self._target_groups) == 1 else str(len(self._target_groups)))
        count.scale_on_request_count(
            policy_id, requests_per_target=self.scaling.requests_per_target, target_group=target_group
        )

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The task role every version's tasks run with: what ``grant_*(service)`` calls grant to."""
        return self.task_role.grant_principal

    @property
    def connections(self) -> ec2.Connections:
        """The service's security group, for the application's own rules, e.g. towards a database.

        ``connections.allow_to(peer, port)`` opens ``peer`` to this service's tasks (and allows
        the traffic out of this group, should its outbound traffic be restricted). Between
        services of the mesh use ``connect_to``, and for a load balancer ``expose_to``: they add
        their rules to the same group and also place them so that stacks never import from
        each other in a loop, which rules added here do not.
        """
        return self.security_group.connections

    @property
    def load_balancer_target_groups(self) -> list[elbv2.ApplicationTargetGroup]:
        """The ALB target groups that forward to this service's tasks (a MeshIngress's on Service Connect)."""
        return list(self._target_groups)

    def _security_group(self, spec: ServiceSpec) -> ec2.SecurityGroup:
        """The service's group: reachable from declared callers only; outbound as ``allow_all_outbound`` says."""
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.cluster.vpc,
            description=f"{self.name}: reachable from declared callers only",
            allow_all_outbound=self.allow_all_outbound,
        )
        if not self.allow_all_outbound:
            for port, reason in _outbound((AWS_API_EGRESS, *self.cluster._plane.egress(spec))).items():
                group.add_egress_rule(ec2.Peer.any_ipv4(), _tcp_port(port), reason)
        return group

    @property
    def dns_name(self) -> str:
        """The name callers dial: ``<name>.<service_domain>`` of the cluster."""
        return f"{self.name}.{self.cluster.service_domain}"

    @property
    def rollout(self) -> Rollout:
        """How ECS releases a new revision of the service: the ``rollout`` given, or ``Rollout.rolling()``."""
        return self._rollout

    @property
    def callees(self) -> list[MeshedService]:
        """The services this one may call, in the order they were connected."""
        return list(self._callees)

    @property
    def alarms(self) -> ServiceAlarms | None:
        """The service's alarms, without actions, on either data plane; None when it has none.

        App Mesh: 5xx share (HTTP, HTTP/2, gRPC) and unhealthy tasks. Service Connect: 5xx share
        and response time (HTTP, HTTP/2). What each plane makes, and when, is the cluster's
        ``Observability``'s; add actions to each, e.g. ``for alarm in service.alarms.all: ...``.
        """
        return self.meshing.alarms

    @property
    def app_mesh(self) -> AppMeshService:
        """The App Mesh resources and Envoy sidecar of this service (App Mesh data plane only)."""
        if not isinstance(self.meshing, AppMeshService):
            raise AttributeError(
                f"service {self.name!r} runs on {self.cluster.data_plane!r}, not App Mesh; its data plane's parts are "
                "service.meshing, or create its cluster with data_plane=DataPlane.app_mesh()."
            )
        return self.meshing

    @property
    def virtual_node(self) -> appmesh.VirtualNode:
        """The App Mesh virtual node of this service."""
        return self.app_mesh.virtual_node

    @property
    def virtual_router(self) -> appmesh.VirtualRouter:
        """The App Mesh virtual router in front of this service."""
        return self.app_mesh.virtual_router

    @property
    def virtual_service(self) -> appmesh.VirtualService:
        """The App Mesh virtual service callers dial, named ``dns_name``."""
        return self.app_mesh.virtual_service

    @property
    def envoy_container(self) -> ecs.ContainerDefinition:
        """The Envoy sidecar container of this service's task definition."""
        return self.app_mesh.envoy_container

    @property
    def exposed_to(self) -> list[str]:
        """The construct paths of the peers outside the mesh that may reach this service."""
        return list(self._exposed_to)

    def connect_to(self, callee: MeshedService | str) -> None:
        """Let this service call ``callee``: declare the data-plane backend and open callee's port.

        Only this service's security group may then reach ``callee.port``, and (unless
        ``allow_all_outbound``) this service's group may reach that port of ``callee``'s group. The
        callee may live in another stack of the app; the rule is placed so that stacks never import from each other
        in a loop, whichever way services call. Connecting twice is harmless; services of
        different clusters cannot be connected.

        Args:
            callee: The service this one calls, or its name in this service's cluster.
        """
        problems = ValidationProblems(f"MeshedService {self._construct_id!r}.connect_to")
        found = _resolve_backends(problems, [callee], self.cluster, parameter="callee")
        if found and found[0] is self:
            problems.add(
                f"callee is {self.name!r} itself; a service reaches itself without the mesh. Drop this connect_to call."
            )
        problems.raise_if_any()
        resolved = found[0]
        if resolved in self._callees:
            return
        begin_round()  # the application may have added stack dependencies since the last decision
        self.meshing.add_backend(resolved.meshing)
        caller_stack, callee_stack = self._stack, resolved._stack
        owner = rule_owner(caller_stack, callee_stack)
        deploy_after(owner, callee_stack if owner is caller_stack else caller_stack)
        resolved.security_group.add_ingress_rule(
            self.security_group,
            _tcp_port(resolved.port),
            f"{self.name} calls {resolved.name}",
            remote_rule=owner is not callee_stack,  # CDK then puts the rule in the caller's stack
        )
        if not self.allow_all_outbound:
            # Beside its ingress rule: the stack that already imports from the other holds both.
            self.security_group.add_egress_rule(
                resolved.security_group,
                _tcp_port(resolved.port),
                f"{self.name} calls {resolved.name}",
                remote_rule=owner is not caller_stack,  # CDK then puts the rule in the callee's stack
            )
        self._callees.append(resolved)

    def expose_to(self, peer: ec2.IConnectable, description: str = "ingress") -> None:
        """Let a peer outside the mesh, such as a load balancer, reach this service's port.

        When the peer lives in a stack that deploys after this service's, the rules go to the
        peer's stack, so that this service's stack never imports from it.

        Args:
            peer: The load balancer (or other connectable) that forwards to this service.
            description: Why the peer may connect, recorded on the security-group rule.
        """
        problems = ValidationProblems(f"MeshedService {self._construct_id!r}.expose_to")
        check_interface(problems, "peer", peer, ec2.IConnectable)
        problems.raise_if_any()
        port, reason = _tcp_port(self.port), f"{description} to {self.name}"
        begin_round()
        peer_stack = stack_of(peer) if isinstance(peer, Construct) else self._stack
        if peer_stack is not self._stack and depends_on(peer_stack, self._stack):
            # The peer's stack deploys after this one: both rules go there, so this stack imports nothing from it.
            peer.connections.allow_to(self.security_group, port, reason)
        else:
            self.security_group.connections.allow_from(peer, port, reason)
        self._exposed_to.append(peer.node.path if isinstance(peer, Construct) else description)


@functools.cache
def _tcp_port(port: int) -> ec2.Port:
    # A port is a value: one object per number spares a jsii round trip per rule.
    return ec2.Port.tcp(port)


def _outbound(needs: Sequence[Egress]) -> dict[int, str]:
    """One rule per port: the reasons of every need on that port, in order, each once."""
    reasons: dict[int, list[str]] = {}
    for need in needs:
        listed = reasons.setdefault(need.port, [])
        if need.reason not in listed:
            listed.append(need.reason)
    return {port: "; ".join(listed) for port, listed in reasons.items()}


def _check_health_check_path(problems: ValidationProblems, path: object, protocol: object) -> None:
    if path is None:
        return
    check_http_path(problems, "health_check_path", path)
    if isinstance(protocol, ListenerProtocol) and protocol not in PATH_PROTOCOLS:
        problems.add(
            f"health_check_path={path!r} is not used by protocol=ListenerProtocol.{protocol.name}: gRPC and TCP "
            "health checks have no path (App Mesh probes gRPC with the gRPC health protocol and TCP by "
            "connecting). Drop health_check_path; to probe the application from inside its task, pass "
            "container_health_check=ecs.HealthCheck(...)."
        )


@jsii.implements(IValidation)
class _HealthCheckPathProbed:
    """Fails synthesis when a service's explicit health_check_path is probed by nothing.

    Only a load balancer probes the path when the data plane does not, and load balancers reach a
    service through ``expose_to`` (MeshIngress calls it too), which may come after the service.
    """

    def __init__(self, service: MeshedService) -> None:
        self._service = service

    def validate(self) -> list[str]:
        service = self._service
        if service.exposed_to:
            return []
        return [
            f"MeshedService {service.name!r}: health_check_path={service.health_check_path!r} is probed by "
            f"nothing. On {service.cluster.data_plane!r} only a load balancer's target group probes a path, and "
            "the service is exposed to no load balancer. Give the application container_health_check="
            "ecs.HealthCheck(...) instead, or route the service through a MeshIngress or expose_to() a load "
            "balancer whose target group probes the path; or drop health_check_path."
        ]


def _check_scaling(
    problems: ValidationProblems,
    scaling: object,
    protocol: object,
    desired_count: object,
    versions: object,
) -> None:
    """A Scaling (its fields checked itself), whose bounds hold every version's starting count."""
    if scaling is None or not check_type(problems, "scaling", scaling, Scaling):
        return
    assert isinstance(scaling, Scaling)
    counts: list[tuple[str, object]] = [("desired_count", desired_count)]
    if isinstance(versions, Sequence):
        counts += [
            (f"versions[{index}].desired_count", extra.desired_count)
            for index, extra in enumerate(versions)
            if isinstance(extra, ServiceVersion) and extra.desired_count is not None
        ]
    for parameter, count in counts:
        problem = scaling._bounds_problem(parameter, count)
        if problem is not None:
            problems.add(problem)
    http = not isinstance(protocol, ListenerProtocol) or protocol is ListenerProtocol.HTTP
    if scaling.requests_per_target is not None and not http:
        assert isinstance(protocol, ListenerProtocol)
        problems.add(
            f"scaling.requests_per_target={scaling.requests_per_target} with protocol=ListenerProtocol."
            f"{protocol.name}: requests per task are counted by an Application Load Balancer, and a MeshIngress "
            "routes HTTP services only. Scale on cpu_percent or memory_percent instead."
        )


@jsii.implements(IValidation)
class _RequestsCounted:
    """Fails synthesis when ``scaling.requests_per_target`` is set and no ALB target group forwards to the service.

    A MeshIngress attaches its target group after the service exists, so this is checked at synthesis.
    """

    def __init__(self, service: MeshedService) -> None:
        self._service = service

    def validate(self) -> list[str]:
        service = self._service
        if service.load_balancer_target_groups:
            return []
        assert service.scaling is not None
        return [
            f"MeshedService {service.name!r}: scaling.requests_per_target={service.scaling.requests_per_target} "
            "counts the requests an Application Load Balancer forwards to the service's tasks, and no ALB target "
            "group forwards to them. Route the service through a MeshIngress with load_balancer="
            "IngressLoadBalancer.ALB (the default), or scale on cpu_percent or memory_percent instead."
        ]


def _check_environment(problems: ValidationProblems, environment: object, secrets: object, versions: object) -> None:
    """Plain and secret variables: well typed, not reserved by ECS, each name in one of the two."""
    _check_string_map(problems, "environment", environment)
    _check_string_map(problems, "secrets", secrets, value_type=ecs.Secret)
    plain = environment if isinstance(environment, Mapping) else {}
    secret = secrets if isinstance(secrets, Mapping) else {}
    check_environment_names(problems, "environment", plain)
    check_environment_names(problems, "secrets", secret)
    for index, version in enumerate(versions if isinstance(versions, (list, tuple)) else ()):
        if isinstance(version, ServiceVersion) and version.environment is not None:
            where = f"versions[{index}].environment"
            _check_string_map(problems, where, version.environment)
            if isinstance(version.environment, Mapping):
                check_environment_names(problems, where, version.environment)
                _check_disjoint(problems, where, version.environment, secret)
    _check_disjoint(problems, "environment", plain, secret)


def _check_disjoint(
    problems: ValidationProblems, parameter: str, plain: Mapping[Any, object], secret: Mapping[Any, object]
) -> None:
    both = sorted(name for name in plain if isinstance(name, str) and not is_token(name) and name in secret)
    if both:
        names = ", ".join(map(repr, both))
        problems.add(
            f"{parameter} and secrets both set {names}; a container takes one value per name. Keep each name in "
            "one of them: in secrets if its value is sensitive, in environment otherwise."
        )


def _check_string_map(problems: ValidationProblems, parameter: str, values: object, value_type: type = str) -> None:
    if values is None:
        return
    wanted = f"dict of str to {value_type.__name__}"
    if not isinstance(values, Mapping):
        problems.add(f"{parameter}={values!r} is a {type(values).__name__}; pass a {wanted}.", kind=TypeError)
        return
    for key, value in values.items():
        if not isinstance(key, str) or not isinstance(value, value_type):
            problems.add(f"{parameter}[{key!r}]={value!r}: pass a {wanted}.", kind=TypeError)


def _resolve_backends(
    problems: ValidationProblems, backends: object, cluster: object, *, parameter: str = "backends"
) -> list[MeshedService]:
    """The services ``backends`` names (objects or names in ``cluster``); records what is wrong."""
    if isinstance(backends, (str, bytes)) or not isinstance(backends, Sequence):
        problems.add(f"{parameter}={backends!r} is not a list; pass a list of MeshedService or names.", kind=TypeError)
        return []
    resolved: list[MeshedService] = []

    def cluster_path() -> str:  # for messages only: reading a path is a jsii round trip
        return cluster.node.path if isinstance(cluster, MeshedCluster) else repr(cluster)

    for backend in backends:
        if isinstance(backend, str) and isinstance(cluster, MeshedCluster):
            found = cluster._services.get(backend)
            if found is None:
                names = ", ".join(sorted(cluster._services)) or "none yet"
                problems.add(
                    f"{parameter}: no service is named {backend!r} in cluster {cluster_path()!r} (its services: "
                    f"{names}); check the name, or declare the callee before its callers."
                )
            else:
                resolved.append(found)
        elif not isinstance(backend, MeshedService):
            problems.add(
                f"{parameter} holds {backend!r}, a {type(backend).__name__}; pass MeshedService objects or names.",
                kind=TypeError,
            )
        elif backend.cluster is not cluster:
            problems.add(
                f"{parameter}: {backend.name!r} runs in cluster {backend.cluster.node.path!r}, not in "
                f"{cluster_path()!r}; services connect within one cluster — move one of them, or expose "
                "the callee through an ingress."
            )
        else:
            resolved.append(backend)
    return resolved


def _version_scope_id(version: str) -> str:
    """The id of the construct that holds an extra version's task definition and ECS service."""
    return f"Version-{version}"
