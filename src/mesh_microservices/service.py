"""MeshedService: one Fargate service, registered in Cloud Map and joined to its cluster's data plane."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from ._acknowledgments import acknowledge_task_findings
from ._contract import AWS_API_EGRESS, Egress, ServiceMeshing, ServiceSpec, Workload
from ._fargate import TASK_DEFINITION_ID, fargate_service, fargate_task_definition
from ._log_groups import new_log_group
from ._placement import begin_round, depends_on, deploy_after, rule_owner, stack_of
from ._service_spec import (
    DEFAULT_HEALTH_CHECK_PATH,
    HealthCheckPathProbed,
    RequestsCounted,
    ServiceInputs,
    check_service,
    resolve_backends,
)
from ._validate import ValidationProblems, check_interface
from .cluster import MeshedCluster
from .observability import ServiceAlarms
from .options import Discovery, ListenerProtocol, RoutePolicy
from .rollout import Rollout
from .scaling import Scaling
from .security import ContainerSecurity, add_scratch_volumes, container_options
from .traffic import ConnectionPool, Deployment, OutlierDetection, RouteRule, ServiceVersion

if TYPE_CHECKING:
    from aws_cdk import aws_appmesh as appmesh

    from .app_mesh.service_meshing import AppMeshService

__all__ = ["APP_CONTAINER_NAME", "DEFAULT_HEALTH_CHECK_PATH", "MeshedService"]

APP_CONTAINER_NAME = "app"


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
        deployments: Every version's deployment (task definition, container, ECS service), by
            version name, the primary version first.
        security_group: The service's security group; only declared callers may reach ``port``, and
            unless ``allow_all_outbound`` it reaches only its callees' ports and HTTPS.
        container_security: How every version's application container runs.
        allow_all_outbound: Whether the tasks may connect anywhere (False: callees and HTTPS only).
        scaling: How the task count scales, or None when it stays at ``desired_count``.
        log_group: The log group of the application and sidecar containers, encrypted with the
            cluster's ``log_encryption_key`` when it has one.
        cloud_map_service: The Cloud Map service the ECS service registers its tasks in through
            Cloud Map options (App Mesh); None on Service Connect, which registers the tasks itself.
        rollout: How ECS releases a new revision of the service (read-only).
        task_role: The IAM role every version's tasks run with (the primary task definition's),
            which ``grant_principal`` is.
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
        memory_limit_mib: int | None = None,
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
        memory_mib: int | None = None,
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
            memory_limit_mib: Task memory in MiB, as aws-cdk-lib's ``FargateTaskDefinition`` names it;
                must suit ``cpu`` on Fargate (checked unless either is a token). Default: 512.
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
            memory_mib: Deprecated: use ``memory_limit_mib``; removed in 2.0. Passing both is refused.
        """
        inputs = ServiceInputs(
            cluster=cluster,
            name=name,
            image=image,
            port=port,
            protocol=protocol,
            health_check_path=health_check_path,
            container_health_check=container_health_check,
            cpu=cpu,
            memory_limit_mib=memory_limit_mib,
            memory_mib=memory_mib,
            desired_count=desired_count,
            environment=environment,
            secrets=secrets,
            discovery=discovery if discovery is not None else Discovery.cloud_map(),
            route_policy=route_policy if route_policy is not None else RoutePolicy(),
            version=version,
            weight=weight,
            versions=versions,
            routes=routes,
            rollout=rollout if rollout is not None else Rollout.rolling(),
            outlier_detection=outlier_detection,
            connection_pool=connection_pool,
            backends=backends,
            scaling=scaling,
            log_retention=log_retention,
            removal_policy=removal_policy,
            container_security=container_security if container_security is not None else ContainerSecurity(),
            allow_all_outbound=allow_all_outbound,
        )
        spec = check_service(self, id, scope, inputs)  # raises with every problem, before any construct exists

        super().__init__(scope, id)
        self._keep(id, scope, inputs, spec)
        self.log_group = self._log_group(inputs)
        self.security_group = self._security_group(spec)
        self._deploy_versions(inputs, spec)
        self._meshing: ServiceMeshing = cluster._binding.attach(
            Workload(spec=spec, deployments=tuple(self.deployments.values()), log_group=self.log_group)
        )
        self._acknowledge_task_findings(id, scope)
        begin_round()
        deploy_after(self._stack, stack_of(cluster))
        self._add_synthesis_checks(spec, path_given=health_check_path is not None)
        cluster._register_service(self)
        for callee in backends:
            self.connect_to(callee)

    def _keep(self, id: str, scope: Construct, inputs: ServiceInputs, spec: ServiceSpec) -> None:
        """The declaration's attributes, and what the build steps read."""
        self._construct_id = id
        self._stack = stack_of(self, parent=scope)
        self._inputs = inputs
        self.cluster = inputs.cluster
        self.name = inputs.name
        self.port = inputs.port
        self.protocol = inputs.protocol
        self.health_check_path: str = spec.health_check_path
        self._rollout = inputs.rollout
        self.scaling = inputs.scaling
        self._target_groups: list[elbv2.ApplicationTargetGroup] = []
        self.container_security = inputs.container_security
        self.allow_all_outbound = inputs.allow_all_outbound
        self.route_rules: tuple[RouteRule, ...] = tuple(inputs.routes)
        self._callees: list[MeshedService] = []
        self._exposed_to: list[str] = []

    def _log_group(self, inputs: ServiceInputs) -> logs.LogGroup:
        """The log group of every version's containers, encrypted with the cluster's key when it has one."""
        return new_log_group(
            self,
            "Logs",
            retention=inputs.log_retention,
            removal_policy=inputs.removal_policy,
            encryption_key=inputs.cluster.log_encryption_key,
        )

    def _deploy_versions(self, inputs: ServiceInputs, spec: ServiceSpec) -> None:
        """The primary version's deployment in the service itself, each further one in a construct of its own."""
        primary = self._deploy(
            self, spec, inputs.version, inputs.weight, inputs.image, inputs.desired_count, inputs.environment
        )
        self.task_definition = primary.task_definition
        self.app_container = primary.app_container
        self.service = primary.service
        self.cloud_map_service: servicediscovery.IService | None = primary.cloud_map_service
        self.deployments: dict[str, Deployment] = {inputs.version: primary}
        for extra in inputs.versions:
            self.deployments[extra.name] = self._deploy(
                Construct(self, _version_scope_id(extra.name)),
                spec,
                extra.name,
                extra.weight,
                extra.image,
                extra.desired_count if extra.desired_count is not None else inputs.desired_count,
                extra.environment if extra.environment is not None else inputs.environment,
                task_role=self.task_role,
            )

    def _deploy(
        self,
        scope: Construct,
        spec: ServiceSpec,
        version: str,
        weight: int,
        image: ecs.ContainerImage,
        desired_count: int,
        environment: Mapping[str, str] | None,
        *,
        task_role: iam.IRole | None = None,
    ) -> Deployment:
        """One version's task definition, application container and ECS service, in ``scope``.

        Extra versions run with the primary version's ``task_role``, so that a grant to the
        service reaches every version; the primary's task definition creates it.
        """
        plane = self.cluster._binding
        task_definition = fargate_task_definition(
            scope,
            cpu=self._inputs.cpu,
            memory_limit_mib=self._inputs.task_memory_mib,
            proxy_configuration=plane.proxy_configuration(spec),
            task_role=task_role,
        )
        app_container = self._app_container(scope, spec, version, task_definition, image, environment)
        registration = plane.registration(spec, version, task_definition, self.log_group)
        service = fargate_service(
            scope,
            "Resource",
            cluster=self.cluster.cluster,
            task_definition=task_definition,
            desired_count=desired_count,
            security_group=self.security_group,
            registration=registration,
            # The rollout releases the primary version; App Mesh's further versions roll as before.
            release=plane.deployment_options(spec) if scope is self else None,
        )
        return Deployment(
            version=version,
            weight=weight,
            primary=scope is self,
            task_definition=task_definition,
            app_container=app_container,
            service=service,
            # Only Cloud Map options make one: spare the jsii round trip otherwise (Service Connect).
            cloud_map_service=service.cloud_map_service if registration.cloud_map_options is not None else None,
            task_count=self._scale(service),
        )

    def _app_container(
        self,
        scope: Construct,
        spec: ServiceSpec,
        version: str,
        task_definition: ecs.FargateTaskDefinition,
        image: ecs.ContainerImage,
        environment: Mapping[str, str] | None,
    ) -> ecs.ContainerDefinition:
        """The version's application container, listening on ``spec.port``, logging to the service's log group."""
        app_container = task_definition.add_container(
            "App",
            container_name=APP_CONTAINER_NAME,
            image=image,
            essential=True,
            environment=dict(environment or {}),
            secrets=dict(self._inputs.secrets or {}),
            **container_options(scope, self.container_security, id="AppLinuxParameters"),
            port_mappings=[
                ecs.PortMapping(container_port=spec.port, name=spec.name, app_protocol=spec.protocol.ecs_app_protocol)
            ],
            health_check=self._inputs.container_health_check,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=APP_CONTAINER_NAME if scope is self else f"{APP_CONTAINER_NAME}-{version}",
                log_group=self.log_group,
            ),
        )
        add_scratch_volumes(task_definition, app_container, self.container_security.writable_paths)
        return app_container

    def _acknowledge_task_findings(self, id: str, scope: Construct) -> None:
        """The findings every version's task definition raises by the library's design, each with its reason."""
        for deployed, deployment in self.deployments.items():
            holder = id if deployment.primary else f"{id}/{_version_scope_id(deployed)}"
            below = f"{holder}/{TASK_DEFINITION_ID}"
            acknowledge_task_findings(deployment.task_definition, stack=self._stack, parent=scope, path=below)

    def _add_synthesis_checks(self, spec: ServiceSpec, *, path_given: bool) -> None:
        """What only the whole app can tell: whether something probes the path, or counts the requests."""
        if path_given and not self.cluster._binding.probes_health_check_path(spec):
            self.node.add_validation(HealthCheckPathProbed(self))
        if self.scaling is not None and self.scaling.requests_per_target is not None:
            self.node.add_validation(RequestsCounted(self))

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

    @functools.cached_property
    def task_role(self) -> iam.IRole:
        """The IAM role every version's tasks run with (the primary task definition's), read when first asked."""
        return self.task_definition.task_role

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
            for port, reason in _outbound((AWS_API_EGRESS, *self.cluster._binding.egress(spec))).items():
                group.add_egress_rule(_any_ipv4(), _tcp_port(port), reason)
        return group

    @property
    def meshing(self) -> object:
        """Deprecated, removed in 2.0: the data plane's internal parts of this service.

        Use the data plane's attributes instead: ``service``, ``alarms``, and on App Mesh
        ``virtual_node``, ``virtual_router``, ``virtual_service`` and ``envoy_container``.
        """
        warnings.warn(
            "MeshedService.meshing is deprecated and removed in 2.0: use service.service, service.alarms, or on "
            "App Mesh service.virtual_node, virtual_router, virtual_service and envoy_container.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._meshing

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
        return self._meshing.alarms

    @property
    def app_mesh(self) -> AppMeshService:
        """The App Mesh resources and Envoy sidecar of this service (App Mesh data plane only)."""
        return cast("AppMeshService", self._part("app_mesh"))

    @property
    def virtual_node(self) -> appmesh.VirtualNode:
        """The App Mesh virtual node of this service (App Mesh data plane only)."""
        return cast("appmesh.VirtualNode", self._part("virtual_node"))

    @property
    def virtual_router(self) -> appmesh.VirtualRouter:
        """The App Mesh virtual router in front of this service (App Mesh data plane only)."""
        return cast("appmesh.VirtualRouter", self._part("virtual_router"))

    @property
    def virtual_service(self) -> appmesh.VirtualService:
        """The App Mesh virtual service callers dial, named ``dns_name`` (App Mesh data plane only)."""
        return cast("appmesh.VirtualService", self._part("virtual_service"))

    @property
    def envoy_container(self) -> ecs.ContainerDefinition:
        """The Envoy sidecar container of this service's task definition (App Mesh data plane only)."""
        return cast(ecs.ContainerDefinition, self._part("envoy_container"))

    def _part(self, name: str) -> object:
        """A part only the data plane has: raises AttributeError naming the plane when it has none."""
        try:
            return self._meshing.part(name)
        except AttributeError as error:
            raise AttributeError(f"MeshedService {self.name!r}: {error}") from None

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
        found = resolve_backends(problems, [callee], self.cluster, parameter="callee")
        if found and found[0] is self:
            problems.add(
                f"callee is {self.name!r} itself; a service reaches itself without the mesh. Drop this connect_to call."
            )
        problems.raise_if_any()
        resolved = found[0]
        if resolved in self._callees:
            return
        begin_round()  # the application may have added stack dependencies since the last decision
        self._meshing.add_backend(resolved._meshing)
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
def _any_ipv4() -> ec2.IPeer:
    """Every IPv4 address, asked of jsii once: a peer holds no state of a service."""
    return ec2.Peer.any_ipv4()


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


def _version_scope_id(version: str) -> str:
    """The id of the construct that holds an extra version's task definition and ECS service."""
    return f"Version-{version}"
