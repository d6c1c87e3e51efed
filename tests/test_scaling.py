"""Scaling: target tracking of each version's task count, requests per target only behind an ALB, bad input refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs

from conftest import ENV, NGINX, new_app
from mesh_microservices import (
    DataPlane,
    IngressLoadBalancer,
    IngressRoute,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    MeshIngress,
    Scaling,
    ServiceVersion,
)
from production_stacks import (
    API_SCALING,
    CANARY_DESIRED_COUNT,
    CONNECT_STACK,
    MESH_STACK,
    ORDERS_SCALING,
    WORKER_DESIRED_COUNT,
    WORKER_SCALING,
)
from refusals import assert_refused
from synthesized import Synthesized

Variants = Callable[[str], Synthesized]
IMAGE = ecs.ContainerImage.from_registry(NGINX)

# Application Auto Scaling's names for an ECS service's task count and its predefined metrics (AWS docs:
# "PredefinedMetricSpecification", "ScalableTarget").
ECS_NAMESPACE = "ecs"
DESIRED_COUNT_DIMENSION = "ecs:service:DesiredCount"
CPU_METRIC = "ECSServiceAverageCPUUtilization"
MEMORY_METRIC = "ECSServiceAverageMemoryUtilization"
REQUESTS_METRIC = "ALBRequestCountPerTarget"
TARGET_TRACKING = "TargetTrackingScaling"


def _scalable_target(synth: Synthesized, service_path: str) -> tuple[str, dict[str, Any]]:
    """The scalable target of the ECS service at ``service_path`` (e.g. ``/Api/Resource/``)."""
    service_id = synth.logical_id("AWS::ECS::Service", service_path)
    found = [
        (logical_id, target)
        for logical_id, target in synth.resources("AWS::ApplicationAutoScaling::ScalableTarget").items()
        if {"Fn::GetAtt": [service_id, "Name"]} in target["Properties"]["ResourceId"]["Fn::Join"][1]
    ]
    assert len(found) == 1, found
    return found[0]


def _policies(synth: Synthesized, target_id: str) -> dict[str, dict[str, Any]]:
    """The target-tracking configurations of a scalable target's policies, by predefined metric."""
    policies = {}
    for policy in synth.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values():
        properties = policy["Properties"]
        if properties["ScalingTargetId"] == {"Ref": target_id}:
            assert properties["PolicyType"] == TARGET_TRACKING
            configuration = properties["TargetTrackingScalingPolicyConfiguration"]
            policies[configuration["PredefinedMetricSpecification"]["PredefinedMetricType"]] = configuration
    return policies


@pytest.mark.parametrize(
    ("stack", "service_path", "scaling"),
    [
        (CONNECT_STACK, "/Api/Resource/", API_SCALING),
        (CONNECT_STACK, "/Worker/Resource/", WORKER_SCALING),
        (MESH_STACK, "/Orders/Resource/", ORDERS_SCALING),
        (MESH_STACK, "/Orders/Version-v2/", ORDERS_SCALING),
    ],
)
def test_each_versions_task_count_scales_between_the_bounds(
    variants: Variants, stack: str, service_path: str, scaling: Scaling
) -> None:
    _, target = _scalable_target(variants(stack), service_path)
    properties = target["Properties"]
    assert properties["ServiceNamespace"] == ECS_NAMESPACE
    assert properties["ScalableDimension"] == DESIRED_COUNT_DIMENSION
    assert (properties["MinCapacity"], properties["MaxCapacity"]) == (scaling.min_tasks, scaling.max_tasks)


def test_cpu_and_memory_are_tracked_at_their_targets(variants: Variants) -> None:
    synth = variants(CONNECT_STACK)
    api = _policies(synth, _scalable_target(synth, "/Api/Resource/")[0])
    assert api[CPU_METRIC]["TargetValue"] == API_SCALING.cpu_percent
    assert api[MEMORY_METRIC]["TargetValue"] == API_SCALING.memory_percent
    worker = _policies(synth, _scalable_target(synth, "/Worker/Resource/")[0])
    assert set(worker) == {CPU_METRIC}  # only the targets given get a policy
    assert worker[CPU_METRIC]["TargetValue"] == WORKER_SCALING.cpu_percent


def test_requests_per_target_track_the_ingress_target_group(variants: Variants) -> None:
    synth = variants(CONNECT_STACK)
    requests = _policies(synth, _scalable_target(synth, "/Api/Resource/")[0])[REQUESTS_METRIC]
    assert requests["TargetValue"] == API_SCALING.requests_per_target
    # "app/<load-balancer-name>/<id>/targetgroup/<target-group-name>/<id>": the load balancer's part
    # of its listener's ARN, then the target group's full name.
    listener = synth.logical_id("AWS::ElasticLoadBalancingV2::Listener", "/Ingress/")
    target_group = synth.logical_id("AWS::ElasticLoadBalancingV2::TargetGroup", "/Ingress/TargetGroup-api/")
    separator, parts = requests["PredefinedMetricSpecification"]["ResourceLabel"]["Fn::Join"]
    assert separator == ""
    arn_parts = [{"Fn::Select": [i, {"Fn::Split": ["/", {"Ref": listener}]}]} for i in (1, 2, 3)]
    assert parts == [arn_parts[0], "/", arn_parts[1], "/", arn_parts[2], "/", target_group_name(target_group)]


def target_group_name(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "TargetGroupFullName"]}


def test_the_desired_count_is_the_starting_count_within_the_bounds(variants: Variants) -> None:
    connect, mesh = variants(CONNECT_STACK), variants(MESH_STACK)
    worker = connect.json["Resources"][connect.logical_id("AWS::ECS::Service", "/Worker/Resource/")]
    assert worker["Properties"]["DesiredCount"] == WORKER_DESIRED_COUNT
    canary = mesh.json["Resources"][mesh.logical_id("AWS::ECS::Service", "/Orders/Version-v2/")]
    assert canary["Properties"]["DesiredCount"] == CANARY_DESIRED_COUNT


def test_scaling_creates_no_role_of_its_own(variants: Variants) -> None:
    # Application Auto Scaling acts through its service-linked role for ECS.
    _, target = _scalable_target(variants(CONNECT_STACK), "/Api/Resource/")
    role = target["Properties"]["RoleARN"]["Fn::Join"][1][-1]
    assert role.endswith(
        ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
    )


def test_services_without_scaling_keep_a_fixed_count(variants: Variants) -> None:
    assert variants("ServiceConnect").resources("AWS::ApplicationAutoScaling::ScalableTarget") == {}


def test_each_ingress_target_group_gets_its_own_request_policy() -> None:
    app = new_app()
    stack = cdk.Stack(app, "TwoDoors", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="doors.local", data_plane=DataPlane.service_connect())
    scaling = Scaling(max_tasks=4, requests_per_target=200)
    api = MeshedService(stack, "Api", cluster=cluster, name="api", image=IMAGE, scaling=scaling)
    doors = ("Public", "Partners")
    for door in doors:
        MeshIngress(stack, door, cluster=cluster, routes=[IngressRoute(service=api)], allow_plain_http=True)
    synth = Synthesized.from_assembly(app.synth(), "TwoDoors")
    requests = _policies_by_group(synth)
    groups = [synth.logical_id("AWS::ElasticLoadBalancingV2::TargetGroup", f"/{door}/") for door in doors]
    assert sorted(requests) == sorted(groups)
    assert {policy["TargetValue"] for policy in requests.values()} == {200}
    assert len(api.load_balancer_target_groups) == 2


def _policies_by_group(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """The request-count configurations, by the logical id of the target group they track."""
    found = {}
    for policy in synth.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values():
        configuration = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        specification = configuration["PredefinedMetricSpecification"]
        if specification["PredefinedMetricType"] == REQUESTS_METRIC:
            found[specification["ResourceLabel"]["Fn::Join"][1][-1]["Fn::GetAtt"][0]] = configuration
    return found


# Requests per target without a load balancer: known only once the app is complete.


def test_requests_per_target_without_an_alb_fails_synthesis() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Unrouted", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="un.local", data_plane=DataPlane.service_connect())
    scaling = Scaling(max_tasks=4, requests_per_target=100)
    MeshedService(stack, "Alone", cluster=cluster, name="alone", image=IMAGE, scaling=scaling)
    behind_nlb = MeshedService(stack, "Tcp", cluster=cluster, name="tcp", image=IMAGE, scaling=scaling)
    MeshIngress(
        stack,
        "Nlb",
        cluster=cluster,
        routes=[IngressRoute(service=behind_nlb)],
        load_balancer=IngressLoadBalancer.NLB,
        allow_plain_http=True,
    )
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    message = str(raised.value)
    for name in ("alone", "tcp"):
        assert f"MeshedService {name!r}: scaling.requests_per_target=100" in message
    assert "no ALB target group forwards to them" in message
    assert "MeshIngress with load_balancer=IngressLoadBalancer.ALB" in message


# Refusals at construction.


@pytest.mark.parametrize(
    ("fields", "error", "fragments"),
    [
        ({"min_tasks": 5, "max_tasks": 2, "cpu_percent": 50}, ValueError, ["min_tasks=5 exceeds max_tasks=2"]),
        ({"max_tasks": 4}, ValueError, ["no target is given", "Scaling(max_tasks=10, cpu_percent=60)"]),
        ({"max_tasks": 4, "cpu_percent": 0}, ValueError, ["cpu_percent=0 is not a percentage from 1 to 100"]),
        ({"max_tasks": 4, "memory_percent": 150}, ValueError, ["memory_percent=150 is not a percentage"]),
        ({"max_tasks": 4, "requests_per_target": 0}, ValueError, ["requests_per_target=0 is too small"]),
        ({"min_tasks": 0, "max_tasks": 4, "cpu_percent": 50}, ValueError, ["min_tasks=0 is too small; use 1"]),
        ({"max_tasks": "4", "cpu_percent": 50}, TypeError, ["max_tasks='4' is a str; pass an int"]),
        ({"max_tasks": 4, "cpu_percent": True}, TypeError, ["cpu_percent=True is a bool"]),
        # Every problem of one Scaling at once.
        ({"min_tasks": 0, "max_tasks": 0}, ValueError, ["min_tasks=0", "max_tasks=0", "no target is given"]),
    ],
)
def test_a_scaling_checks_its_own_fields(fields: dict[str, Any], error: type[Exception], fragments: list[str]) -> None:
    with pytest.raises(error) as raised:
        Scaling(**fields)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_a_token_bound_is_left_to_cloudformation() -> None:
    stack = cdk.Stack(new_app(), "Tokens", env=ENV)
    most = cdk.CfnParameter(stack, "MostTasks", type="Number", default=8).value_as_number
    assert Scaling(max_tasks=most, cpu_percent=50).max_tasks == most  # refused neither as a float nor as too large


@pytest.fixture(scope="module")
def clusters() -> dict[str, MeshedCluster]:
    """One cluster per data plane in an app that is never synthesized: refusals create nothing."""
    stack = cdk.Stack(new_app(), "Refusals", env=ENV)
    return {
        "connect": MeshedCluster(stack, "Connect", namespace="c.local", data_plane=DataPlane.service_connect()),
        "mesh": MeshedCluster(stack, "Mesh", namespace="m.local", data_plane=DataPlane.app_mesh()),
    }


def _refused(cluster: MeshedCluster, error: type[Exception], **options: Any) -> str:
    stack = cdk.Stack.of(cluster)
    build = lambda: MeshedService(stack, "Refused", cluster=cluster, name="refused", image=IMAGE, **options)  # noqa: E731
    return assert_refused(build, error=error, within=stack)


def test_the_desired_count_must_lie_within_the_bounds(clusters: dict[str, MeshedCluster]) -> None:
    message = _refused(
        clusters["mesh"],
        ValueError,
        desired_count=0,
        weight=90,
        versions=[ServiceVersion(name="v2", image=IMAGE, weight=10, desired_count=9)],
        scaling=Scaling(min_tasks=2, max_tasks=6, cpu_percent=50),
    )
    assert "desired_count=0 lies outside scaling's min_tasks=2 to max_tasks=6" in message
    assert "versions[0].desired_count=9 lies outside" in message
    assert "Give desired_count from 2 to 6, or widen the scaling bounds." in message


def test_app_mesh_refuses_requests_per_target_by_name(clusters: dict[str, MeshedCluster]) -> None:
    message = _refused(clusters["mesh"], ValueError, scaling=Scaling(max_tasks=4, requests_per_target=100))
    assert "scaling.requests_per_target=100: on DataPlane.app_mesh()" in message
    assert "the ingress gateway's tasks" in message
    assert "Scale on cpu_percent or memory_percent instead" in message


def test_requests_per_target_needs_an_http_service(clusters: dict[str, MeshedCluster]) -> None:
    message = _refused(
        clusters["connect"],
        ValueError,
        port=5432,
        protocol=ListenerProtocol.TCP,
        scaling=Scaling(max_tasks=4, requests_per_target=100),
    )
    assert "scaling.requests_per_target=100 with protocol=ListenerProtocol.TCP" in message
    assert "a MeshIngress routes HTTP services only" in message


def test_scaling_must_be_a_scaling(clusters: dict[str, MeshedCluster]) -> None:
    message = _refused(clusters["connect"], TypeError, scaling={"max_tasks": 4})
    assert "scaling={'max_tasks': 4} is a dict; pass a Scaling." in message
