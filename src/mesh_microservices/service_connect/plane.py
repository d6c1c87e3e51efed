"""The ECS Service Connect data plane bound to one cluster.

Service Connect registers each service in the cluster's Cloud Map namespace itself and puts
its own proxy in every task, so there is no sidecar to declare, no proxy configuration and no
App Mesh resource. Callers keep dialling ``<name>.<namespace>``. ECS writes the proxy's access
log to each service's log group and publishes its metrics in ``AWS/ECS``; the alarms on them are
``alarms.py``'s.

A task resolves only the endpoints that existed when it started, so each callee starts before
its callers: its deployment comes first, and a caller's tasks are replaced when it gains a callee
(``ServiceConnectMeshing``). Where calls run round a loop, the callee of the call that closes the
loop restarts its caller's tasks once it exists (``restart.py``).
"""

from __future__ import annotations

import functools
import hashlib
import weakref
from typing import cast

from aws_cdk import Duration, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct, Node
from typing_extensions import override

from .._acknowledgments import acknowledge_aws_managed_policy
from .._contract import (
    AWS_API_PORT,
    DataPlaneBinding,
    DeploymentOptions,
    Egress,
    IngressSite,
    IngressSpec,
    IngressTargets,
    Registration,
    ServiceMeshing,
    ServiceSpec,
    Workload,
)
from .._durations import idle_timeout, milliseconds
from .._placement import deploy_after, stack_of
from .._validate import ValidationProblems
from ..observability import Observability, ServiceAlarms
from ..options import DiscoveryMode, ListenerProtocol, RoutePolicy
from .alarms import ALARMED_PROTOCOLS, add_alarms
from .ingress import ServiceConnectIngress, check_ingress
from .observability import access_log_configuration
from .restart import restart_caller_after
from .rollout import check_rollout_alarms, deployment_options, route_test_traffic

# ECS's managed policy for the role that issues Service Connect TLS certificates.
TLS_ROLE_MANAGED_POLICY = "service-role/AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity"
ACCESS_LOG_STREAM_PREFIX = "service-connect"
# The start-order marker: ECS's force-new-deployment nonce, derived from the callees the caller
# deploys after.
START_ORDER_MARKER_PREFIX = "callees-"
START_ORDER_DIGEST_LENGTH = 16


class ServiceConnectPlane(DataPlaneBinding):
    """Service Connect for one cluster, optionally with TLS from an ACM Private CA.

    Attributes:
        observability: The access logs and alarms of every service (checked for App Mesh
            options by ``check_service_connect_observability``).
    """

    def __init__(
        self, scope: Construct, *, tls_authority_arn: str | None, observability: Observability | None = None
    ) -> None:
        self.observability = observability if observability is not None else Observability()
        self._service_alarms: dict[str, ServiceAlarms | None] = {}  # by service name, unique in the cluster
        self._tls: ecs.ServiceConnectTlsConfiguration | None = None
        # How many ingresses' target groups each service is in, by service name.
        self._ingress_target_groups: dict[str, int] = {}
        if tls_authority_arn is not None:
            role = iam.Role(
                scope,
                "ServiceConnectTlsRole",
                assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"),
                managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(TLS_ROLE_MANAGED_POLICY)],
            )
            acknowledge_aws_managed_policy(role, TLS_ROLE_MANAGED_POLICY)
            self._tls = ecs.ServiceConnectTlsConfiguration(aws_pca_authority_arn=tls_authority_arn, role=role)

    @override
    def part(self, name: str) -> object:
        raise AttributeError(
            f"on DataPlane.service_connect() the cluster has no {name!r}: it is App Mesh's; create the cluster "
            "with data_plane=DataPlane.app_mesh() to have one."
        )

    @override
    def reserved_ports(self) -> frozenset[int]:
        return frozenset()

    @override
    def check(self, problems: ValidationProblems, spec: ServiceSpec) -> None:
        _check_releases(problems, spec)
        refused = {
            "routes": (
                any(not rule.headers for rule in spec.routes),
                "path matching; route at the load balancer instead",
            ),
            "outlier_detection": (
                spec.outlier_detection is not None,
                "configurable outlier detection; its proxy applies its own",
            ),
            "connection_pool": (spec.connection_pool is not None, "connection pool limits"),
        }
        for parameter, (asked, feature) in refused.items():
            if asked:
                problems.add(f"{parameter}: Service Connect has no {feature} (or stay on DataPlane.app_mesh()).")
        if spec.discovery._mode is DiscoveryMode.DNS:
            problems.add(
                "discovery=Discovery.dns() is an App Mesh option; Service Connect always discovers tasks "
                "through Cloud Map. Remove discovery= (callers keep the same DNS name)."
            )
        default, policy = RoutePolicy(), spec.route_policy
        if (policy.retry_attempts, milliseconds(policy.per_retry_timeout)) != (
            default.retry_attempts,
            milliseconds(default.per_retry_timeout),
        ):
            problems.add(
                "route_policy retries cannot be set on Service Connect, whose proxy retries failed "
                "connections itself; keep retry_attempts and per_retry_timeout at their defaults "
                "(request_timeout and idle_timeout are honoured), or stay on DataPlane.app_mesh()."
            )
        given = {"request_timeout": policy.request_timeout, "idle_timeout": policy.idle_timeout}
        for field_name, timeout in given.items():
            if timeout is not None and milliseconds(timeout) % 1000:
                problems.add(
                    f"route_policy.{field_name}={timeout.to_human_string()}: Service Connect takes timeouts in "
                    "whole seconds; round it, e.g. Duration.seconds(...)."
                )
        alarmed = self.observability.alarms and spec.protocol in ALARMED_PROTOCOLS
        check_rollout_alarms(problems, spec, service_has_alarms=alarmed)

    @override
    def probes_health_check_path(self, spec: ServiceSpec) -> bool:
        return False  # Service Connect's proxy does not health-check; only a load balancer would

    @override
    def egress(self, spec: ServiceSpec) -> tuple[Egress, ...]:
        # The Service Connect agent ECS runs in each task gets its endpoints from ECS over HTTPS.
        return (Egress(port=AWS_API_PORT, reason="ECS Service Connect (agent endpoints)"),)

    @override
    def proxy_configuration(self, spec: ServiceSpec) -> None:
        return None

    @override
    def registration(
        self, spec: ServiceSpec, version: str, task_definition: ecs.TaskDefinition, log_group: logs.ILogGroup
    ) -> Registration:
        timeouts = _timeouts(spec)
        service = ecs.ServiceConnectService(
            port_mapping_name=spec.name,
            discovery_name=discovery_name(spec),
            dns_name=spec.dns_name,
            port=spec.port,
            idle_timeout=timeouts["idle_timeout"],
            per_request_timeout=timeouts.get("request_timeout"),
            tls=self._tls,
        )
        return Registration(
            service_connect=ecs.ServiceConnectProps(
                namespace=_namespace_arn(spec.namespace),
                services=[service],
                log_driver=ecs.LogDrivers.aws_logs(stream_prefix=ACCESS_LOG_STREAM_PREFIX, log_group=log_group),
                access_log_configuration=access_log_configuration(self.observability),
            )
        )

    @override
    def deployment_options(self, spec: ServiceSpec) -> DeploymentOptions:
        if spec.rollout.is_default:
            return DeploymentOptions()  # the service's alarms are made in attach, after it, as always
        return deployment_options(spec.rollout, self._alarms(spec))

    @override
    def attach(self, workload: Workload) -> ServiceMeshing:
        spec = workload.spec
        alarms = self._alarms(spec)
        service = workload.deployments[0].service
        route_test_traffic(service, spec.rollout)
        return ServiceConnectMeshing(
            service,
            scope=spec.scope,
            stack=stack_of(spec.scope),
            name=spec.name,
            dns_name=spec.dns_name,
            alarms=alarms,
        )

    @override
    def check_ingress(self, problems: ValidationProblems, spec: IngressSpec) -> None:
        check_ingress(problems, spec, self._ingress_target_groups)

    @override
    def add_ingress(self, site: IngressSite) -> IngressTargets:
        for routed in site.spec.services:
            self._ingress_target_groups[routed.name] = self._ingress_target_groups.get(routed.name, 0) + 1
        return ServiceConnectIngress(site)

    def _alarms(self, spec: ServiceSpec) -> ServiceAlarms | None:
        """The service's alarms, made on first use: before its ECS service when a rollout watches them."""
        if spec.name not in self._service_alarms:
            self._service_alarms[spec.name] = add_alarms(
                spec.scope,
                self.observability,
                service_name=spec.dns_name,
                discovery_name=discovery_name(spec),
                protocol=spec.protocol,
            )
        return self._service_alarms[spec.name]


# What a rollout looks like in a message that points to it from an App Mesh option.
ROLLOUT_EXAMPLE = "Rollout.canary(percent=10, bake=Duration.minutes(30), test_header={header!r})"
EXAMPLE_TEST_HEADER = ("x-canary", "true")


def _check_releases(problems: ValidationProblems, spec: ServiceSpec) -> None:
    """Point App Mesh's weighted versions and header routes to what Service Connect has: rollouts."""
    if spec.has_versions:
        example = ROLLOUT_EXAMPLE.format(header=EXAMPLE_TEST_HEADER)
        problems.add(
            "versions: Service Connect has no standing weighted split between versions behind one name. Release "
            f"the new image as the service's image with rollout={example}: ECS gives the new revision the "
            "requests that carry the test header, then 10 % of the traffic, then all of it after the bake, and "
            "rolls back when the service's alarms fire (or stay on DataPlane.app_mesh())."
        )
    for index, rule in enumerate(spec.routes):
        if rule.headers:
            header = next(iter(rule.headers.items()))
            example = ROLLOUT_EXAMPLE.format(header=header)
            problems.add(
                f"routes[{index}] ({rule.name!r}) matches headers {dict(rule.headers)!r}: Service Connect has no "
                "header routes. To send the requests that carry a header to a new revision while it is released, "
                f"give the service rollout={example}, whose test phase routes them (or stay on "
                "DataPlane.app_mesh())."
            )


def discovery_name(spec: ServiceSpec) -> str:
    """The service's Service Connect discovery name (its Cloud Map service): the service's name."""
    return spec.name


def _namespace_arn(namespace: servicediscovery.INamespace) -> str:
    """The namespace's ARN, asked of jsii once for all the services of a cluster."""
    arn = _NAMESPACE_ARNS.get(namespace)
    if arn is None:
        arn = _NAMESPACE_ARNS[namespace] = namespace.namespace_arn
    return arn


# jsii hands out one Python object per namespace, so identity is equality.
_NAMESPACE_ARNS: weakref.WeakKeyDictionary[servicediscovery.INamespace, str] = weakref.WeakKeyDictionary()


def _timeouts(spec: ServiceSpec) -> dict[str, Duration]:
    """The Service Connect timeouts of a service, by RoutePolicy field: no per-request one for TCP."""
    policy = spec.route_policy
    timeouts = {"idle_timeout": idle_timeout(policy, spec.protocol)}
    if spec.protocol is not ListenerProtocol.TCP:  # TCP has no requests
        timeouts["request_timeout"] = policy.request_timeout
    return timeouts


class ServiceConnectMeshing(ServiceMeshing):
    """The Service Connect side of one MeshedService: its ECS service, started after its callees.

    A task resolves only the Service Connect endpoints that existed when it started. So each
    callee deploys before its caller (a dependency in one stack, a stack dependency across stacks),
    and the caller's ECS service carries a start-order marker derived from the names of the callees
    it deploys after: when a deployment adds one, the marker changes and ECS replaces the caller's
    tasks after the callee exists. Where calls run round a loop, the call that closes it has no
    such order (the callee already waits for the caller): a custom resource in the callee's stack
    restarts the caller's tasks once the callee exists instead (``restart.py``), and an info
    message says so.

    Attributes:
        service: The service's ECS service.
        scope: The construct of the service (the MeshedService): what restarts its callers lives below it.
        stack: The stack the service is in.
        name: The service's name, unique in its cluster.
        dns_name: The name callers dial.
        alarms: The service's alarms (5xx share, response time), without actions; None when off
            or for TCP and gRPC services.
    """

    def __init__(
        self,
        service: ecs.FargateService,
        *,
        scope: Construct,
        stack: Stack,
        name: str,
        dns_name: str,
        alarms: ServiceAlarms | None = None,
    ) -> None:
        self.service = service
        self.scope = scope
        self.stack = stack
        self.name = name
        self.dns_name = dns_name
        self.alarms = alarms
        self._deployed_after: list[ServiceConnectMeshing] = []
        self._ordered_callee_names: set[str] = set()

    @override
    def part(self, name: str) -> object:
        raise AttributeError(
            f"on DataPlane.service_connect() the service has no {name!r}: it runs on Service Connect, not App Mesh; "
            "its ECS service is service.service and its alarms service.alarms; or create its cluster with "
            "data_plane=DataPlane.app_mesh()."
        )

    @override
    def add_backend(self, callee: ServiceMeshing) -> None:
        if not isinstance(callee, ServiceConnectMeshing):
            raise TypeError(f"callee={callee!r} is not on Service Connect; connect services of one cluster only.")
        if self._deploy_after(callee):
            self._ordered_callee_names.add(callee.dns_name)
            self._mark_start_order()
        else:
            self._restart_after(callee)

    def _deploy_after(self, callee: ServiceConnectMeshing) -> bool:
        """Order this service's deployment after ``callee``'s; return whether an order could be had."""
        caller_stack, callee_stack = self.stack, callee.stack
        if caller_stack is not callee_stack:
            return deploy_after(caller_stack, callee_stack)
        # Calls round a loop leave no order to deploy in (CloudFormation refuses a cycle): the
        # edges declared first keep theirs.
        if callee._is_deployed_after(self):
            return False
        self._resource_node.add_dependency(callee.service)
        self._deployed_after.append(callee)
        return True

    def _mark_start_order(self) -> None:
        """Set the marker that replaces this service's tasks when the callees it deploys after change."""
        digest = hashlib.sha256("\n".join(sorted(self._ordered_callee_names)).encode()).hexdigest()
        self._resource.force_new_deployment = ecs.CfnService.ForceNewDeploymentProperty(
            enable_force_new_deployment=True,
            force_new_deployment_nonce=f"{START_ORDER_MARKER_PREFIX}{digest[:START_ORDER_DIGEST_LENGTH]}",
        )

    def _restart_after(self, callee: ServiceConnectMeshing) -> None:
        """Restart this service's tasks once ``callee``, which deploys after it, exists."""
        # The callee's stack deploys after this one (it waits for it): it may import this
        # service's name and ARN; made explicit so that later placement decisions see it.
        ordered = deploy_after(callee.stack, self.stack)
        assert ordered, "a call that closes a loop has its callee's stack deploy after its caller's"
        restart_caller_after(
            callee.scope,
            caller=self.service,
            caller_name=self.name,
            caller_dns_name=self.dns_name,
            callee=callee.service,
            callee_dns_name=callee.dns_name,
        )

    @functools.cached_property
    def _resource(self) -> ecs.CfnService:
        """The ECS service's CloudFormation resource, asked of jsii once (a caller may have many callees)."""
        return cast(ecs.CfnService, self.service.node.default_child)

    @functools.cached_property
    def _resource_node(self) -> Node:
        return self._resource.node

    def _is_deployed_after(self, other: ServiceConnectMeshing) -> bool:
        """Whether this service's deployment waits for ``other``'s, directly or through others."""
        seen: set[int] = set()
        waiting = [self]
        while waiting:
            current = waiting.pop()
            if current is other:
                return True
            if id(current) not in seen:
                seen.add(id(current))
                waiting.extend(current._deployed_after)
        return False
