"""The ECS Service Connect data plane bound to one cluster.

Service Connect registers each service in the cluster's Cloud Map namespace itself and puts
its own proxy in every task, so there is no sidecar to declare, no proxy configuration and no
App Mesh resource. Callers keep dialling ``<name>.<namespace>``.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct
from typing_extensions import override

from .._acknowledgments import acknowledge_aws_managed_policy
from .._contract import (
    DataPlaneBinding,
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
from ..options import DiscoveryMode, ListenerProtocol, RoutePolicy
from .ingress import ServiceConnectIngress, check_ingress

# ECS's managed policy for the role that issues Service Connect TLS certificates.
TLS_ROLE_MANAGED_POLICY = "service-role/AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity"
ACCESS_LOG_STREAM_PREFIX = "service-connect"


class ServiceConnectPlane(DataPlaneBinding):
    """Service Connect for one cluster, optionally with TLS from an ACM Private CA."""

    def __init__(self, scope: Construct, *, tls_authority_arn: str | None) -> None:
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
        default = RoutePolicy()
        if (spec.route_policy.retry_attempts, spec.route_policy.per_retry_timeout.to_seconds()) != (
            default.retry_attempts,
            default.per_retry_timeout.to_seconds(),
        ):
            problems.add(
                "route_policy retries cannot be set on Service Connect, whose proxy retries failed "
                "connections itself; keep retry_attempts and per_retry_timeout at their defaults "
                "(request_timeout is honoured), or stay on DataPlane.app_mesh()."
            )

    @override
    def proxy_configuration(self, spec: ServiceSpec) -> None:
        return None

    @override
    def registration(
        self, spec: ServiceSpec, version: str, task_definition: ecs.TaskDefinition, log_group: logs.ILogGroup
    ) -> Registration:
        timeout = spec.route_policy.request_timeout
        is_tcp = spec.protocol is ListenerProtocol.TCP
        service = ecs.ServiceConnectService(
            port_mapping_name=spec.name,
            discovery_name=spec.name,
            dns_name=spec.dns_name,
            port=spec.port,
            idle_timeout=timeout,
            per_request_timeout=None if is_tcp else timeout,  # TCP has no requests
            tls=self._tls,
        )
        return Registration(
            service_connect=ecs.ServiceConnectProps(
                namespace=spec.namespace.namespace_arn,
                services=[service],
                log_driver=ecs.LogDrivers.aws_logs(stream_prefix=ACCESS_LOG_STREAM_PREFIX, log_group=log_group),
                access_log_configuration=ecs.ServiceConnectAccessLogConfiguration(
                    format=ecs.ServiceConnectAccessLogFormat.JSON
                ),
            )
        )

    @override
    def attach(self, workload: Workload) -> ServiceMeshing:
        return ServiceConnectMeshing(workload.deployments[0].service, stack=stack_of(workload.spec.scope))

    @override
    def check_ingress(self, problems: ValidationProblems, spec: IngressSpec) -> None:
        check_ingress(problems, spec, self._ingress_target_groups)

    @override
    def add_ingress(self, site: IngressSite) -> IngressTargets:
        for routed in site.spec.services:
            self._ingress_target_groups[routed.name] = self._ingress_target_groups.get(routed.name, 0) + 1
        return ServiceConnectIngress(site)


class ServiceConnectMeshing(ServiceMeshing):
    """The Service Connect side of one MeshedService: its ECS service, ordered after its callees."""

    def __init__(self, service: ecs.FargateService, *, stack: Stack) -> None:
        self.service = service
        self.stack = stack
        self._deployed_after: list[ServiceConnectMeshing] = []

    @override
    def add_backend(self, callee: ServiceMeshing) -> None:
        if not isinstance(callee, ServiceConnectMeshing):
            raise TypeError(f"callee={callee!r} is not on Service Connect; connect services of one cluster only.")
        # Tasks resolve only endpoints that existed when they started: deploy the server first.
        # Across stacks that is a stack dependency, unless calls run both ways between the two.
        caller_stack, callee_stack = self.stack, callee.stack
        if caller_stack is callee_stack:
            # Calls round a loop leave no order to deploy in (CloudFormation refuses a cycle): the
            # edges declared first keep theirs.
            if callee._is_deployed_after(self):
                return
            resource = self.service.node.default_child
            assert resource is not None
            resource.node.add_dependency(callee.service)
            self._deployed_after.append(callee)
        else:
            deploy_after(caller_stack, callee_stack)

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
