"""A routed service's rollout behind a Service Connect MeshIngress: ECS shifts the ALB's traffic too.

A service whose rollout has a test phase (canary, linear, blue/green) gets, behind an ALB, what
ECS needs to shift the load balancer's traffic: an alternate target group beside its own, both
forwarded to by the route's production listener rule (weights 100 and 0: ECS moves them), and a
test listener rule just before it that matches the same requests carrying the rollout's test
header. ECS registers the new revision in the alternate target group, sends it the test rule's
requests in the test phase, then shifts the production rule's weights (canary, linear or all at
once) and keeps the old revision for the bake time. It changes the rules and the targets with a
role of the ingress's (``RoleArn``), which may do that to these two target groups and two rules
only. Without a test phase (a rolling update) nothing here applies and the route stays as it was.

Amazon ECS Developer Guide, "Application Load Balancer resources for blue/green, linear, and
canary deployments"; CloudFormation ``AWS::ECS::Service`` ``LoadBalancer.AdvancedConfiguration``.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._acknowledgments import acknowledge_listener_rule_dependencies, acknowledge_load_balancer_reads
from .._contract import IngressRouteSpec, IngressSpec, RoutedService
from .._validate import ValidationProblems
from ..options import IngressLoadBalancer

# A test rule goes just before its route's production rule (priorities 10, 20, ...: 9, 19, ...).
TEST_RULE_PRIORITY_OFFSET = 1
# ECS moves the production and test rules' weights; before a deployment all goes to the primary group.
PRIMARY_WEIGHT = 100
ALTERNATE_WEIGHT = 0
# ALB's limits on an HTTP header condition, and the characters its values read as wildcards.
MAX_HEADER_NAME_LENGTH = 40
MAX_HEADER_VALUE_LENGTH = 128
ALB_WILDCARDS = frozenset("*?")
# What ECS does with the role (AWS managed policy AmazonECSInfrastructureRolePolicyForLoadBalancers,
# narrowed to the service's target groups and rules; ELB's Describe actions take no resource).
READ_ACTIONS = (
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
TARGET_ACTIONS = ("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets")
RULE_ACTIONS = ("elasticloadbalancing:ModifyRule",)
ECS_PRINCIPAL = "ecs.amazonaws.com"


def shifts_traffic(routed: RoutedService) -> bool:
    """Whether ECS shifts the load balancer's traffic to the service's new revision (a test phase)."""
    return routed.rollout.has_test_phase


def check_ingress_rollouts(problems: ValidationProblems, spec: IngressSpec) -> None:
    """Record what about the routed services' rollouts the ingress's load balancer cannot carry out."""
    first_route: dict[str, IngressRouteSpec] = {}
    for route in spec.routes:
        routed = route.service
        if not shifts_traffic(routed):
            continue
        rollout = f"rollout={routed.rollout!r}"
        earlier = first_route.setdefault(routed.name, route)
        if earlier is not route:
            problems.add(
                f"{earlier.where} and {route.where} both route to service {routed.name!r}, whose {rollout} "
                "shifts the load balancer's traffic: ECS moves one production listener rule per service and "
                f"load balancer, and {route.where}'s would keep forwarding to the old revision's target group. "
                f"Route to {routed.name!r} once in this ingress, or release it with Rollout.rolling()."
            )
            continue
        if spec.load_balancer is IngressLoadBalancer.NLB:
            problems.add(
                f"{route.where}.service {routed.name!r} has {rollout}, and load_balancer=IngressLoadBalancer.NLB "
                "on DataPlane.service_connect() has no listener rule to send the test header's requests to the "
                "new revision. Use load_balancer=IngressLoadBalancer.ALB, or release it with Rollout.rolling()."
            )
            continue
        _check_test_header(problems, route)


def _check_test_header(problems: ValidationProblems, route: IngressRouteSpec) -> None:
    routed = route.service
    header = routed.rollout.test_header
    if header is None:
        problems.add(
            f"{route.where}.service {routed.name!r} has rollout={routed.rollout!r} without "
            "test_header: behind the ingress the load balancer's test listener rule sends the requests "
            "carrying it to the new revision, from the internet, so the header is yours to choose, not a "
            "well-known default. Pass test_header=('x-canary', '<a value of yours>') to the rollout."
        )
        return
    name, value = header
    if len(name) > MAX_HEADER_NAME_LENGTH or len(value) > MAX_HEADER_VALUE_LENGTH:
        problems.add(
            f"{route.where}.service {routed.name!r}: rollout test_header={header!r} is longer than an ALB header "
            f"condition takes (name at most {MAX_HEADER_NAME_LENGTH} characters, value at most "
            f"{MAX_HEADER_VALUE_LENGTH}). Use a shorter header, e.g. ('x-canary', 'true')."
        )
    if ALB_WILDCARDS & set(value):
        problems.add(
            f"{route.where}.service {routed.name!r}: rollout test_header value {value!r} holds '*' or '?', which "
            "an ALB header condition reads as a wildcard while Service Connect matches it exactly. Use a value "
            "without them, e.g. 'true'."
        )


def forward(primary: elbv2.ApplicationTargetGroup, alternate: elbv2.ApplicationTargetGroup) -> elbv2.ListenerAction:
    """Both groups in one forward action, all to the primary: ECS moves the weights during a deployment."""
    return elbv2.ListenerAction.weighted_forward(
        [
            elbv2.WeightedTargetGroup(target_group=primary, weight=PRIMARY_WEIGHT),
            elbv2.WeightedTargetGroup(target_group=alternate, weight=ALTERNATE_WEIGHT),
        ]
    )


def test_rule(
    scope: Construct,
    route: IngressRouteSpec,
    *,
    listener: elbv2.ApplicationListener,
    production_priority: int,
    conditions: Sequence[elbv2.ListenerCondition],
    action: elbv2.ListenerAction,
) -> elbv2.ApplicationListenerRule:
    """The route's test listener rule: its requests that carry the rollout's test header, tried first."""
    header = route.service.rollout.test_header
    assert header is not None  # checked: check_ingress_rollouts
    name, value = header
    return elbv2.ApplicationListenerRule(
        scope,
        f"TestRule-{route.name}",
        listener=listener,
        priority=production_priority - TEST_RULE_PRIORITY_OFFSET,
        conditions=[*conditions, elbv2.ListenerCondition.http_header(name, [value])],
        action=action,
    )


def attach_shifted(
    scope: Construct,
    routed: RoutedService,
    *,
    primary: elbv2.ApplicationTargetGroup,
    alternate: elbv2.ApplicationTargetGroup,
    production_rule: elbv2.ApplicationListenerRule,
    test_listener_rule: elbv2.ApplicationListenerRule,
) -> iam.Role:
    """Register the service in ``primary`` with ``alternate`` as the target group ECS shifts traffic to.

    Returns:
        The role ECS changes the rules' weights and the groups' targets with.
    """
    role = _role(scope, routed, (primary, alternate), (production_rule, test_listener_rule))
    target = routed.service.load_balancer_target(
        container_name=routed.container_name,
        container_port=routed.port,
        alternate_target=ecs.AlternateTarget(
            f"AlternateTarget-{routed.name}",
            alternate_target_group=alternate,
            production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(production_rule),
            test_listener=ecs.ListenerRuleConfiguration.application_listener_rule(test_listener_rule),
            role=role,
        ),
    )
    primary.add_target(target)
    acknowledge_listener_rule_dependencies(routed.service)
    return role


def _role(
    scope: Construct,
    routed: RoutedService,
    target_groups: Sequence[elbv2.ApplicationTargetGroup],
    rules: Sequence[elbv2.ApplicationListenerRule],
) -> iam.Role:
    """ECS's role for the service's traffic shift: these target groups' targets and these rules only."""
    document = iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(actions=list(READ_ACTIONS), resources=["*"]),
            iam.PolicyStatement(
                actions=list(TARGET_ACTIONS), resources=[group.target_group_arn for group in target_groups]
            ),
            iam.PolicyStatement(actions=list(RULE_ACTIONS), resources=[rule.listener_rule_arn for rule in rules]),
        ]
    )
    role = iam.Role(
        scope,
        f"TrafficShiftRole-{routed.name}",
        assumed_by=iam.ServicePrincipal(ECS_PRINCIPAL),
        description=f"ECS shifts the load balancer's traffic to new revisions of service {routed.name}",
        inline_policies={"ShiftTraffic": document},
    )
    acknowledge_load_balancer_reads(role, actions=READ_ACTIONS)
    return role
