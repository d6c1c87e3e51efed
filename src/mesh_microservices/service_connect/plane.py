"""The ECS Service Connect data plane bound to one cluster.

Service Connect registers each service in the cluster's Cloud Map namespace itself and puts
its own proxy in every task, so there is no sidecar to declare, no proxy configuration and no
App Mesh resource. Callers keep dialling ``<name>.<namespace>``. ECS writes the proxy's access
log to each service's log group and publishes its metrics in ``AWS/ECS``; the alarms on them are
``alarms.py``'s.
"""

from __future__ import annotations

import hashlib
from typing import cast

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct
from typing_extensions import override

from .._acknowledgments import acknowledge_aws_managed_policy
from .._contract import (
    AWS_API_PORT,
    DataPlaneBinding,
    Egress,
    IngressSite,
    IngressSpec,
    IngressTargets,
    Registration,
    ServiceMeshing,
    ServiceSpec,
    Workload,
)
from .._placement import deploy_after, stack_of
from .._validate import ValidationProblems
from ..observability import Observability, ServiceAlarms
from ..options import DiscoveryMode, ListenerProtocol, RoutePolicy
from .alarms import add_alarms
from .ingress import ServiceConnectIngress, check_ingress
from .observability import access_log_configuration

# ECS's managed policy for the role that issues Service Connect TLS certificates.
TLS_ROLE_MANAGED_POLICY = "service-role/AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity"
ACCESS_LOG_STREAM_PREFIX = "service-connect"
# The start-order marker: ECS's force-new-deployment nonce, derived from the caller's callees.
START_ORDER_MARKER_PREFIX = "callees-"
START_ORDER_DIGEST_LENGTH = 16
UNORDERED_CALL_WARNING_ID = "mesh-microservices:UnorderedServiceConnectCall"


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
    def reserved_ports(self) -> frozenset[int]:
        return frozenset()

    @override
    def check(self, problems: ValidationProblems, spec: ServiceSpec) -> None:
        refused = {
            "versions": (
                spec.has_versions,
                "weighted versions; run the new version as its own service, or shift traffic at the load balancer",
            ),
            "routes": (bool(spec.routes), "path or header matching; route at the load balancer instead"),
            "outlier_detection": (
                spec.outlier_detection is not None,
                "configurable outlier detection; its proxy applies its own",
            ),
            "connection_pool": (spec.connection_pool is not None, "connection pool limits"),
        }
        for parameter, (asked, feature) in refused.items():
            if asked:
                problems.add(f"{parameter}: Service Connect has no {feature} (or stay on DataPlane.app_mesh()).")
        if spec.discovery.mode is DiscoveryMode.DNS:
            problems.add(
                "discovery=Discovery.dns() is an App Mesh option; Service Connect always discovers tasks "
                "through Cloud Map. Remove discovery= (callers keep the same DNS name)."
            )
        default, policy = RoutePolicy(), spec.route_policy
        if (policy.retry_attempts, policy.per_retry_timeout.to_milliseconds()) != (
            default.retry_attempts,
            default.per_retry_timeout.to_milliseconds(),
        ):
            problems.add(
                "route_policy retries cannot be set on Service Connect, whose proxy retries failed "
                "connections itself; keep retry_attempts and per_retry_timeout at their defaults "
                "(request_timeout and idle_timeout are honoured), or stay on DataPlane.app_mesh()."
            )
        given = {"request_timeout": policy.request_timeout, "idle_timeout": policy.idle_timeout}
        for field_name, timeout in given.items():
            if timeout is not None and timeout.to_milliseconds() % 1000:
                problems.add(
                    f"route_policy.{field_name}={timeout.to_human_string()}: Service Connect takes timeouts in "
                    "whole seconds; round it, e.g. Duration.seconds(...)."
                )

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
                namespace=spec.namespace.namespace_arn,
                services=[service],
                log_driver=ecs.LogDrivers.aws_logs(stream_prefix=ACCESS_LOG_STREAM_PREFIX, log_group=log_group),
                access_log_configuration=access_log_configuration(self.observability),
            )
        )

    @override
    def attach(self, workload: Workload) -> ServiceMeshing:
        spec = workload.spec
        alarms = add_alarms(
            spec.scope,
            self.observability,
            service_name=spec.dns_name,
            discovery_name=discovery_name(spec),
            protocol=spec.protocol,
        )
        return ServiceConnectMeshing(
            workload.deployments[0].service, stack=stack_of(spec.scope), dns_name=spec.dns_name, alarms=alarms
        )

    @override
    def check_ingress(self, problems: ValidationProblems, spec: IngressSpec) -> None:
        check_ingress(problems, spec, self._ingress_target_groups)

    @override
    def add_ingress(self, site: IngressSite) -> IngressTargets:
        for routed in site.spec.services:
            self._ingress_target_groups[routed.name] = self._ingress_target_groups.get(routed.name, 0) + 1
        return ServiceConnectIngress(site)


def discovery_name(spec: ServiceSpec) -> str:
    """The service's Service Connect discovery name (its Cloud Map service): the service's name."""
    return spec.name


def _timeouts(spec: ServiceSpec) -> dict[str, Duration]:
    """The Service Connect timeouts of a service, by RoutePolicy field: no per-request one for TCP."""
    policy = spec.route_policy
    timeouts = {"idle_timeout": policy.effective_idle_timeout(spec.protocol)}
    if spec.protocol is not ListenerProtocol.TCP:  # TCP has no requests
        timeouts["request_timeout"] = policy.request_timeout
    return timeouts


class ServiceConnectMeshing(ServiceMeshing):
    """The Service Connect side of one MeshedService: its ECS service, ordered after its callees.

    A task resolves only the Service Connect endpoints that existed when it started. So each
    callee deploys before its caller (a dependency in one stack, a stack dependency across stacks),
    and the caller's ECS service carries a start-order marker derived from its callees' names: when
    a deployment adds a callee, the marker changes and ECS replaces the caller's tasks after the
    callee exists. Where calls run round a loop no order exists; the caller is then warned.

    Attributes:
        service: The service's ECS service.
        stack: The stack the service is in.
        dns_name: The name callers dial.
        alarms: The service's alarms (5xx share, response time), without actions; None when off
            or for TCP and gRPC services.
    """

    def __init__(
        self, service: ecs.FargateService, *, stack: Stack, dns_name: str, alarms: ServiceAlarms | None = None
    ) -> None:
        self.service = service
        self.stack = stack
        self.dns_name = dns_name
        self.alarms = alarms
        self._deployed_after: list[ServiceConnectMeshing] = []
        self._callee_names: set[str] = set()

    @override
    def add_backend(self, callee: ServiceMeshing) -> None:
        if not isinstance(callee, ServiceConnectMeshing):
            raise TypeError(f"callee={callee!r} is not on Service Connect; connect services of one cluster only.")
        if not self._deploy_after(callee):
            self._warn_unordered(callee)
        self._callee_names.add(callee.dns_name)
        self._mark_start_order()

    def _deploy_after(self, callee: ServiceConnectMeshing) -> bool:
        """Order this service's deployment after ``callee``'s; return whether an order could be had."""
        caller_stack, callee_stack = self.stack, callee.stack
        if caller_stack is not callee_stack:
            return deploy_after(caller_stack, callee_stack)
        # Calls round a loop leave no order to deploy in (CloudFormation refuses a cycle): the
        # edges declared first keep theirs.
        if callee._is_deployed_after(self):
            return False
        resource = self.service.node.default_child
        assert resource is not None
        resource.node.add_dependency(callee.service)
        self._deployed_after.append(callee)
        return True

    def _mark_start_order(self) -> None:
        """Set the marker that replaces this service's tasks when its set of callees changes."""
        digest = hashlib.sha256("\n".join(sorted(self._callee_names)).encode()).hexdigest()
        resource = cast(ecs.CfnService, self.service.node.default_child)
        resource.force_new_deployment = ecs.CfnService.ForceNewDeploymentProperty(
            enable_force_new_deployment=True,
            force_new_deployment_nonce=f"{START_ORDER_MARKER_PREFIX}{digest[:START_ORDER_DIGEST_LENGTH]}",
        )

    def _warn_unordered(self, callee: ServiceConnectMeshing) -> None:
        Annotations.of(self.service).add_warning_v2(
            UNORDERED_CALL_WARNING_ID,
            f"{self.dns_name} calls {callee.dns_name}, which already waits for it (calls run both ways, "
            "directly or through other services): no deployment order can start the callee first. On the "
            f"deployment that creates {callee.dns_name}, tasks of {self.dns_name} that start before it cannot "
            f"reach it; run `aws ecs update-service --force-new-deployment` for {self.dns_name} once that "
            "deployment has finished, or break the loop.",
        )

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
