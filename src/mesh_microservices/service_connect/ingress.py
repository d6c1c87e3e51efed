"""The Service Connect side of a MeshIngress: the load balancer forwards straight to each routed service.

No proxy stands between the public load balancer and the services. Each routed service's ECS
service registers its tasks (IP targets on the application's port) in a target group of its own;
an ALB picks the target group with listener rules in the order of the routes (path prefix, host
name) and answers 404 to the rest; an NLB passes every connection to the one service it routes
to. The ECS services reference the target groups, so the ingress's stack deploys first. A
service whose rollout has a test phase gets an alternate target group and a test listener rule
too, which ECS shifts its traffic with (ingress_rollout.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from typing_extensions import override

from .._contract import (
    TARGET_CHECK_INTERVAL_SECONDS,
    TARGET_CHECK_THRESHOLD,
    TARGET_CHECK_TIMEOUT_SECONDS,
    IngressRouteSpec,
    IngressSite,
    IngressSpec,
    IngressTargets,
    RoutedService,
)
from .._placement import depends_on, deploy_after, stack_of
from .._validate import ValidationProblems
from ..options import IngressLoadBalancer
from .ingress_rollout import attach_shifted, check_ingress_rollouts, forward, shifts_traffic, test_rule

# Listener rules are tried in the order of the routes: priority 10, 20, ... (ALB: lowest first).
RULE_PRIORITY_STEP = 10
# What the ALB answers when no route matches.
NOT_FOUND_STATUS = 404
NOT_FOUND_BODY = "Not Found"
# The answers to a health check that mark a task healthy.
HEALTHY_HTTP_CODES = "200-299"
# Long enough for an application to start before the load balancer's verdict counts: ECS does not
# replace a task for failed load-balancer health checks during this time.
HEALTH_CHECK_GRACE_PERIOD = Duration.seconds(60)
# ALB's limit on a path-pattern or host-header value.
MAX_CONDITION_LENGTH = 128
# ECS attaches a service to at most five target groups of Application or Network Load Balancers.
MAX_TARGET_GROUPS_PER_SERVICE = 5
# What each gateway option configures: on Service Connect there is no gateway to configure.
_GATEWAY_OPTIONS = {
    "port": "listener port",
    "cpu": "task size",
    "memory_limit_mib": "task size",
    "desired_count": "task count",
    "log_retention": "log group",
    "removal_policy": "log group",
}
# The parts of a MeshIngress only Service Connect has, by attribute name.
TARGET_PARTS = frozenset({"target_groups", "listener_rules", "alternate_target_groups", "test_listener_rules"})


def check_ingress(problems: ValidationProblems, spec: IngressSpec, attached: Mapping[str, int]) -> None:
    """Record what in ``spec`` a load balancer forwarding straight to the services cannot do.

    Args:
        problems: Where problems are recorded.
        spec: The ingress's declaration.
        attached: How many ingresses' target groups each service of the cluster is in, by name.
    """
    for parameter in spec.proxy.given():
        problems.add(
            f"{parameter} is given, and on DataPlane.service_connect() no gateway stands between the load "
            f"balancer and the services, so there is no gateway {_GATEWAY_OPTIONS[parameter]} to set: the load "
            f"balancer forwards to each service's own port. Remove {parameter}, or stay on DataPlane.app_mesh()."
        )
    for route in spec.routes:
        _check_route(problems, route)
    if spec.load_balancer is IngressLoadBalancer.NLB:
        _check_network_routes(problems, spec.routes)
    _check_placement(problems, spec)
    check_ingress_rollouts(problems, spec)
    for routed in spec.services:
        if attached.get(routed.name, 0) >= MAX_TARGET_GROUPS_PER_SERVICE:
            problems.add(
                f"service {routed.name!r} is in the target groups of {attached[routed.name]} ingresses already, and "
                f"ECS attaches a service to at most {MAX_TARGET_GROUPS_PER_SERVICE} target groups. Route to it from "
                "fewer ingresses (one ingress takes many host names and paths)."
            )


def _check_route(problems: ValidationProblems, route: IngressRouteSpec) -> None:
    if route.strip_prefix:
        problems.add(
            f"{route.where}.strip_prefix=True: on DataPlane.service_connect() the load balancer forwards the "
            f"path unchanged (it cannot rewrite {route.path_prefix!r} to '/'). Drop strip_prefix (it is False "
            f"on Service Connect) and let service {route.service.name!r} answer under {route.path_prefix!r}, "
            "or stay on DataPlane.app_mesh()."
        )
    if len(_path_pattern(route)) > MAX_CONDITION_LENGTH:
        problems.add(
            f"{route.where}.path_prefix is {len(route.path_prefix)} characters long; a load balancer's path "
            f"pattern holds at most {MAX_CONDITION_LENGTH} (the prefix and '*'). Use a shorter prefix."
        )
    if route.hostname is not None and len(route.hostname) > MAX_CONDITION_LENGTH:
        problems.add(
            f"{route.where}.hostname is {len(route.hostname)} characters long; a load balancer matches host "
            f"names of at most {MAX_CONDITION_LENGTH}. Use a shorter host name."
        )


def _check_network_routes(problems: ValidationProblems, routes: tuple[IngressRouteSpec, ...]) -> None:
    """An NLB forwards connections, not requests: one route that takes everything."""
    if len(routes) == 1 and routes[0].path_prefix == "/" and routes[0].hostname is None:
        return
    got = ", ".join(f"{route.where} ({route.describe()})" for route in routes) or "none"
    problems.add(
        "load_balancer=IngressLoadBalancer.NLB on DataPlane.service_connect() forwards TCP connections straight "
        "to one service and cannot match paths or host names: give it exactly one route with path_prefix '/' "
        f"and no hostname (got {got}). To route by path or host name, use load_balancer=IngressLoadBalancer.ALB."
    )


def _check_placement(problems: ValidationProblems, spec: IngressSpec) -> None:
    """The ingress's stack deploys after the cluster's and before every routed service's."""
    for route in spec.routes:
        service_stack = route.service.stack
        if service_stack is spec.stack:
            continue
        after_cluster = f"and the ingress's stack {spec.stack.stack_name!r} deploys after the cluster's"
        if depends_on(spec.stack, service_stack):
            why = f"which the ingress's stack {spec.stack.stack_name!r} deploys after"
        elif service_stack is spec.cluster_stack:
            why = f"the cluster's, {after_cluster}"
        elif depends_on(spec.cluster_stack, service_stack):
            why = f"which the cluster's stack {spec.cluster_stack.stack_name!r} deploys after, {after_cluster}"
        else:
            continue
        problems.add(
            f"{route.where}.service {route.service.name!r} lives in stack {service_stack.stack_name!r}, {why}; on "
            "DataPlane.service_connect() the service's ECS service registers in the ingress's target group, so "
            f"the ingress must deploy first. Create the ingress in stack {service_stack.stack_name!r}, or in a "
            "stack that deploys after the cluster's and before the services'."
        )


class ServiceConnectIngress(IngressTargets):
    """A target group per routed service, and the listener's rules that pick one.

    Attributes:
        target_groups: The target group each route forwards to, by route name (routes to one
            service share its target group).
        listener_rules: The ALB's listener rules, by route name, in the order they are tried;
            empty behind an NLB, whose listener forwards every connection to its one target group.
        alternate_target_groups: The target group ECS registers a new revision in, by the name of
            each route to a service whose rollout has a test phase (canary, linear, blue/green).
        test_listener_rules: The rule, just before such a route's own, that sends its requests
            carrying the rollout's test header to the new revision in the test phase, by route name.
    """

    def __init__(self, site: IngressSite) -> None:
        spec = site.spec
        stack = stack_of(site.scope)
        for routed in spec.services:
            # The ECS service references the target group: it deploys after the ingress.
            deploy_after(routed.stack, stack)  # checked: never a loop
        self._connections = ec2.Connections(security_groups=[site.security_group])
        alb = spec.load_balancer is IngressLoadBalancer.ALB
        shifted = {routed.name for routed in spec.services if alb and shifts_traffic(routed)}
        # A shifted service's tasks register once its rules exist: ECS's alternate target names them.
        by_service = {
            routed.name: _target_group(site, routed, register=routed.name not in shifted) for routed in spec.services
        }
        alternates = {
            name: cast(elbv2.ApplicationTargetGroup, _target_group(site, routed, register=False, alternate=True))
            for routed in spec.services
            if (name := routed.name) in shifted
        }
        for routed in spec.services:
            _give_grace_period(routed.service)
        self.target_groups: dict[str, elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup] = {
            route.name: by_service[route.service.name] for route in spec.routes
        }
        self.listener_rules: dict[str, elbv2.ApplicationListenerRule] = {}
        self.alternate_target_groups: dict[str, elbv2.ApplicationTargetGroup] = {}
        self.test_listener_rules: dict[str, elbv2.ApplicationListenerRule] = {}
        if alb:
            self._route_requests(site, alternates)
            # Only now is each target group attached to the load balancer, which its request count names.
            for routed in spec.services:
                routed.add_target_group(cast(elbv2.ApplicationTargetGroup, by_service[routed.name]))
                if routed.name in alternates:  # the new revision's requests, after a deployment all of them
                    routed.add_target_group(alternates[routed.name])
        else:
            (only,) = self.target_groups.values()
            listener = cast(elbv2.NetworkListener, site.listener)
            listener.add_action(
                "Default", action=elbv2.NetworkListenerAction.forward([cast(elbv2.NetworkTargetGroup, only)])
            )

    @property
    @override
    def connections(self) -> ec2.Connections:
        return self._connections

    @property
    @override
    def peer_description(self) -> str:
        return "load balancer"

    @override
    def part(self, name: str) -> object:
        if name not in TARGET_PARTS:
            raise AttributeError(
                f"on DataPlane.service_connect() the ingress has no {name!r}: no App Mesh gateway stands between "
                "its load balancer and the services. Its load balancer forwards to each service's target group "
                "(target_groups, listener_rules); the gateway's parts exist on DataPlane.app_mesh() only."
            )
        return getattr(self, name)

    def _route_requests(self, site: IngressSite, alternates: Mapping[str, elbv2.ApplicationTargetGroup]) -> None:
        """A rule per route in the order given; before a shifted service's, its test rule."""
        listener = cast(elbv2.ApplicationListener, site.listener)
        listener.add_action(
            "Default",
            action=elbv2.ListenerAction.fixed_response(
                NOT_FOUND_STATUS, content_type="text/plain", message_body=NOT_FOUND_BODY
            ),
        )
        for index, route in enumerate(site.spec.routes):
            target_group = cast(elbv2.ApplicationTargetGroup, self.target_groups[route.name])
            alternate = alternates.get(route.service.name)
            priority = (index + 1) * RULE_PRIORITY_STEP
            self.listener_rules[route.name] = elbv2.ApplicationListenerRule(
                site.scope,
                f"Rule-{route.name}",
                listener=listener,
                priority=priority,
                conditions=_conditions(route),
                action=elbv2.ListenerAction.forward([target_group])
                if alternate is None
                else forward(target_group, alternate),
            )
            if alternate is not None:
                self._shift(site, route, priority, target_group, alternate)

    def _shift(
        self,
        site: IngressSite,
        route: IngressRouteSpec,
        priority: int,
        primary: elbv2.ApplicationTargetGroup,
        alternate: elbv2.ApplicationTargetGroup,
    ) -> None:
        """The route's test rule, and its service registered with what ECS shifts traffic with."""
        production = self.listener_rules[route.name]
        test = test_rule(
            site.scope,
            route,
            listener=cast(elbv2.ApplicationListener, site.listener),
            production_priority=priority,
            conditions=_conditions(route),
            action=forward(primary, alternate),
        )
        attach_shifted(
            site.scope,
            route.service,
            primary=primary,
            alternate=alternate,
            production_rule=production,
            test_listener_rule=test,
        )
        self.alternate_target_groups[route.name] = alternate
        self.test_listener_rules[route.name] = test


def _path_pattern(route: IngressRouteSpec) -> str:
    """The ALB path pattern of a prefix: ``/api/`` matches ``/api/*``."""
    return f"{route.path_prefix}*"


def _conditions(route: IngressRouteSpec) -> list[elbv2.ListenerCondition]:
    conditions = [elbv2.ListenerCondition.path_patterns([_path_pattern(route)])]
    if route.hostname is not None:
        conditions.insert(0, elbv2.ListenerCondition.host_headers([route.hostname]))
    return conditions


def _target_group(
    site: IngressSite, routed: RoutedService, *, register: bool = True, alternate: bool = False
) -> elbv2.ApplicationTargetGroup | elbv2.NetworkTargetGroup:
    """The target group of one service's tasks: IP targets on the application's port, probed at its health path.

    Args:
        site: The ingress.
        routed: The service.
        register: Whether the service's tasks register in it now (else the caller registers them).
        alternate: Whether it is the alternate target group ECS registers a new revision in.
    """
    targets = (
        [routed.service.load_balancer_target(container_name=routed.container_name, container_port=routed.port)]
        if register
        else None
    )
    interval = Duration.seconds(TARGET_CHECK_INTERVAL_SECONDS)
    timeout = Duration.seconds(TARGET_CHECK_TIMEOUT_SECONDS)
    if site.spec.load_balancer is IngressLoadBalancer.ALB:
        return elbv2.ApplicationTargetGroup(
            site.scope,
            f"{'AlternateTargetGroup' if alternate else 'TargetGroup'}-{routed.name}",
            vpc=site.vpc,
            port=routed.port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            targets=targets,
            health_check=elbv2.HealthCheck(
                path=routed.health_check_path,
                healthy_http_codes=HEALTHY_HTTP_CODES,
                interval=interval,
                timeout=timeout,
                healthy_threshold_count=TARGET_CHECK_THRESHOLD,
                unhealthy_threshold_count=TARGET_CHECK_THRESHOLD,
            ),
        )
    return elbv2.NetworkTargetGroup(
        site.scope,
        f"TargetGroup-{routed.name}",
        vpc=site.vpc,
        port=routed.port,
        protocol=elbv2.Protocol.TCP,
        target_type=elbv2.TargetType.IP,
        targets=targets,
        health_check=elbv2.HealthCheck(
            protocol=elbv2.Protocol.HTTP,
            path=routed.health_check_path,
            healthy_http_codes=HEALTHY_HTTP_CODES,
            interval=interval,
            timeout=timeout,
            healthy_threshold_count=TARGET_CHECK_THRESHOLD,
            unhealthy_threshold_count=TARGET_CHECK_THRESHOLD,
        ),
    )


def _give_grace_period(service: ecs.FargateService) -> None:
    """Keep ECS from replacing starting tasks for failed load-balancer health checks (set on the L1)."""
    resource = service.node.default_child
    assert isinstance(resource, ecs.CfnService)
    resource.health_check_grace_period_seconds = int(HEALTH_CHECK_GRACE_PERIOD.to_seconds())
