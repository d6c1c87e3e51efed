"""Rollouts: ECS's canary, linear and blue/green deployments, compiled into Service Connect services.

The template facts read the Rollouts stack of the shared variants app (tests/conftest.py), which
the cdk-nag and cfn-lint gates check too; refusals build nothing and need no synth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs

from conftest import (
    CANARY_BAKE_MINUTES,
    CANARY_PERCENT,
    ENV,
    HOOK_FUNCTION_ARN,
    NGINX,
    TEST_HEADER,
)
from mesh_microservices import (
    DataPlane,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    Observability,
    Rollout,
    RouteRule,
    ServiceVersion,
)
from mesh_microservices.rollout import DEFAULT_BAKE
from refusals import assert_refused
from synthesized import Synthesized

Variants = Callable[[str], Synthesized]
IMAGE = ecs.ContainerImage.from_registry(NGINX)


@pytest.fixture(scope="module")
def rollouts(variants: Variants) -> Synthesized:
    return variants("Rollouts")


def _properties(synth: Synthesized, path: str) -> dict[str, Any]:
    service: dict[str, Any] = synth.json["Resources"][synth.logical_id("AWS::ECS::Service", f"/{path}/")]
    return service["Properties"]


def _deployment(synth: Synthesized, path: str) -> dict[str, Any]:
    configuration: dict[str, Any] = _properties(synth, path)["DeploymentConfiguration"]
    return configuration


def _alarm_ref(synth: Synthesized, path_part: str) -> dict[str, str]:
    return {"Ref": synth.logical_id("AWS::CloudWatch::Alarm", path_part)}


# Template facts


def test_a_canary_moves_its_percent_for_its_bake_then_keeps_the_old_revision_for_the_final_bake(
    rollouts: Synthesized,
) -> None:
    deployment = _deployment(rollouts, "Orders")
    assert deployment["Strategy"] == "CANARY"
    assert deployment["CanaryConfiguration"] == {
        "CanaryPercent": CANARY_PERCENT,
        "CanaryBakeTimeInMinutes": CANARY_BAKE_MINUTES,
    }
    assert deployment["BakeTimeInMinutes"] == DEFAULT_BAKE.to_minutes()
    assert "LinearConfiguration" not in deployment


def test_a_linear_rollout_moves_its_percent_every_interval(rollouts: Synthesized) -> None:
    deployment = _deployment(rollouts, "Inventory")
    assert deployment["Strategy"] == "LINEAR"
    assert deployment["LinearConfiguration"] == {"StepPercent": 12.5, "StepBakeTimeInMinutes": 5}
    assert deployment["BakeTimeInMinutes"] == 10
    assert "CanaryConfiguration" not in deployment


def test_a_blue_green_rollout_bakes_for_its_bake_time(rollouts: Synthesized) -> None:
    deployment = _deployment(rollouts, "Ledger")
    assert deployment["Strategy"] == "BLUE_GREEN"
    assert deployment["BakeTimeInMinutes"] == 20
    assert not {"CanaryConfiguration", "LinearConfiguration"} & set(deployment)


def test_the_services_own_alarms_and_the_users_roll_a_canary_back(rollouts: Synthesized) -> None:
    assert _deployment(rollouts, "Orders")["Alarms"] == {
        "AlarmNames": [
            _alarm_ref(rollouts, "/Orders/Alarms/ServerErrors/"),
            _alarm_ref(rollouts, "/Orders/Alarms/ResponseTime/"),
            _alarm_ref(rollouts, "/CheckoutFailures/"),
        ],
        "Enable": True,
        "Rollback": True,
    }


def test_without_alarms_of_the_user_the_services_own_roll_back(rollouts: Synthesized) -> None:
    assert _deployment(rollouts, "Inventory")["Alarms"] == {
        "AlarmNames": [
            _alarm_ref(rollouts, "/Inventory/Alarms/ServerErrors/"),
            _alarm_ref(rollouts, "/Inventory/Alarms/ResponseTime/"),
        ],
        "Enable": True,
        "Rollback": True,
    }


def test_a_tcp_service_without_alarms_rolls_back_by_its_circuit_breaker_only(rollouts: Synthesized) -> None:
    deployment = _deployment(rollouts, "Ledger")
    assert deployment["Alarms"] == {"AlarmNames": [], "Enable": False, "Rollback": False}
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_a_rolling_update_with_alarms_fails_on_them_without_rolling_back_when_asked(rollouts: Synthesized) -> None:
    deployment = _deployment(rollouts, "Payments")
    assert "Strategy" not in deployment  # ECS's rolling update, as before
    assert deployment["Alarms"] == {
        "AlarmNames": [
            _alarm_ref(rollouts, "/Payments/Alarms/ServerErrors/"),
            _alarm_ref(rollouts, "/Payments/Alarms/ResponseTime/"),
            _alarm_ref(rollouts, "/CheckoutFailures/"),
        ],
        "Enable": True,
        "Rollback": False,
    }


def test_lifecycle_hooks_pass_through(rollouts: Synthesized) -> None:
    role = rollouts.logical_id("AWS::IAM::Role", "/HookRole/")
    assert _deployment(rollouts, "Orders")["LifecycleHooks"] == [
        {
            "HookTargetArn": HOOK_FUNCTION_ARN,
            "RoleArn": {"Fn::GetAtt": [role, "Arn"]},
            "LifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        }
    ]
    assert "LifecycleHooks" not in _deployment(rollouts, "Inventory")


def test_the_test_header_is_the_client_aliass_test_traffic_rule(rollouts: Synthesized) -> None:
    name, value = TEST_HEADER
    (server,) = _properties(rollouts, "Orders")["ServiceConnectConfiguration"]["Services"]
    assert server["ClientAliases"] == [
        {
            "DnsName": "orders.release.local",
            "Port": 8080,
            "TestTrafficRules": {"Header": {"Name": name, "Value": {"Exact": value}}},
        }
    ]
    (server,) = _properties(rollouts, "Inventory")["ServiceConnectConfiguration"]["Services"]
    assert "TestTrafficRules" not in server["ClientAliases"][0]  # Service Connect's default header


def test_rollouts_keep_the_ecs_controller_and_circuit_breaker(rollouts: Synthesized) -> None:
    for path in ("Orders", "Inventory", "Ledger", "Payments"):
        properties = _properties(rollouts, path)
        assert properties["DeploymentController"] == {"Type": "ECS"}
        assert properties["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_rollouts_synthesize_without_warnings(rollouts: Synthesized) -> None:
    assert [m for m in rollouts.messages if m[0] in ("warning", "error", "info")] == []


def test_the_default_rollout_is_ecs_rolling_update_as_before(variants: Variants) -> None:
    synth = variants("ServiceConnect")
    for path in ("Web", "Orders", "Inventory", "Ledger"):
        deployment = _deployment(synth, path)
        assert set(deployment) == {"Alarms", "DeploymentCircuitBreaker", "MaximumPercent", "MinimumHealthyPercent"}
        assert deployment["Alarms"] == {"AlarmNames": [], "Enable": False, "Rollback": False}
        (server,) = _properties(synth, path)["ServiceConnectConfiguration"]["Services"]
        assert "TestTrafficRules" not in server["ClientAliases"][0]


# What an ingress reads


def test_the_service_and_the_rollout_say_what_an_ingress_needs() -> None:
    stack, cluster = _stack(DataPlane.service_connect())
    canary = Rollout.canary(percent=10, bake=Duration.minutes(30), test_header=TEST_HEADER)
    orders = MeshedService(stack, "Orders", cluster=cluster, name="orders", image=IMAGE, rollout=canary)
    plain = MeshedService(stack, "Plain", cluster=cluster, name="plain", image=IMAGE)
    assert orders.rollout is canary
    assert (canary.has_test_phase, canary.test_header) == (True, TEST_HEADER)
    assert plain.rollout.strategy is ecs.DeploymentStrategy.ROLLING
    assert (plain.rollout.has_test_phase, plain.rollout.test_header, plain.rollout.is_default) == (False, None, True)
    assert Rollout.blue_green().has_test_phase and Rollout.blue_green().test_header is None
    with pytest.raises(AttributeError):
        orders.rollout = Rollout.rolling()  # type: ignore[misc]


def test_rollout_is_built_only_through_its_factories() -> None:
    with pytest.raises(TypeError):
        Rollout()  # type: ignore[abstract]


def test_rollouts_describe_themselves() -> None:
    assert Rollout.canary(percent=10, bake=Duration.minutes(30)).describe() == "canary 10 % · bake 30m"
    assert Rollout.linear(percent=20, interval=Duration.minutes(90)).describe() == "linear 20 % every 1h30m"
    assert Rollout.blue_green(bake=Duration.hours(2)).describe() == "blue/green · bake 2h"
    assert Rollout.blue_green(test_header=("x-b", "1")).describe() == "blue/green · bake 15m · test x-b=1"
    assert repr(Rollout.canary(percent=10, bake=Duration.minutes(30), test_header=("x-c", "1"))) == (
        "Rollout.canary(percent=10, bake=Duration.minutes(30), final_bake=Duration.minutes(15), "
        "test_header=('x-c', '1'))"
    )


# Refusals


def _stack(data_plane: DataPlane) -> tuple[cdk.Stack, MeshedCluster]:
    stack = cdk.Stack(cdk.App(), "Refusals", env=ENV)
    return stack, MeshedCluster(stack, "Cluster", namespace="x.local", data_plane=data_plane)


def _refused(error: type[Exception], data_plane: DataPlane | None = None, **overrides: Any) -> str:
    """Build a service with ``overrides``; it must raise ``error`` and leave nothing behind."""
    stack, cluster = _stack(data_plane or DataPlane.service_connect())
    build = lambda: MeshedService(stack, "Api", cluster=cluster, name="api", image=IMAGE, **overrides)  # noqa: E731
    message = assert_refused(build, error=error, within=stack)
    assert cluster.services == []
    return message


@pytest.mark.parametrize(
    ("rollout", "fragment"),
    [
        (
            Rollout.canary(percent=0),
            "rollout.percent=0 is not a share of traffic ECS moves in a canary step: use 0.1 to 100 in steps of 0.1",
        ),
        (Rollout.canary(percent=100.5), "rollout.percent=100.5 is not a share of traffic"),
        (Rollout.canary(percent=10.05), "rollout.percent=10.05 is not a share of traffic"),
        (
            Rollout.linear(percent=2.9),
            "rollout.percent=2.9 is not a share of traffic ECS moves in a linear step: use 3 to 100 in steps of 0.1",
        ),
        (
            Rollout.canary(bake=Duration.minutes(1441)),
            "rollout.bake=Duration.minutes(1441) is not a bake time ECS accepts: use whole minutes from 0 to 1440",
        ),
        (Rollout.blue_green(bake=Duration.seconds(90)), "rollout.bake=Duration.seconds(90) is not a bake time"),
        (Rollout.linear(interval=Duration.days(2)), "rollout.interval=Duration.minutes(2880) is not a bake time"),
        (Rollout.linear(final_bake=Duration.hours(25)), "rollout.final_bake=Duration.minutes(1500) is not a bake time"),
        (
            Rollout.canary(bake=Duration.hours(24), final_bake=Duration.hours(10)),
            "rollout: final_bake (600 minutes) and 1 step(s) of bake=1440 minutes add up to 2040 minutes; "
            "CloudFormation refuses an ECS canary deployment of more than 1980 minutes (33 hours)",
        ),
        (
            Rollout.linear(percent=3, interval=Duration.hours(1)),
            "rollout: final_bake (15 minutes) and 33 step(s) of interval=60 minutes add up to 1995 minutes",
        ),
        (
            Rollout.rolling(test_header=TEST_HEADER),
            "rollout.test_header=('x-canary', 'true'): a rolling update has no test phase",
        ),
        (
            Rollout.canary(test_header=("x canary", "true")),
            "rollout.test_header: 'x canary' is not an HTTP header name",
        ),
        (Rollout.canary(test_header=("x-canary", "")), "rollout.test_header: value '' is not an exact header value"),
    ],
)
def test_rollouts_outside_ecs_limits_are_refused(rollout: Rollout, fragment: str) -> None:
    assert fragment in _refused(ValueError, rollout=rollout)


def test_a_linear_rollout_of_exactly_33_hours_is_accepted() -> None:
    stack, cluster = _stack(DataPlane.service_connect())
    fits = Rollout.linear(percent=3, interval=Duration.minutes(59), final_bake=Duration.minutes(33))
    service = MeshedService(stack, "Api", cluster=cluster, name="api", image=IMAGE, rollout=fits)
    assert service.rollout is fits  # 33 steps of 59 minutes and 33 minutes' final bake: 1980 minutes


@pytest.mark.parametrize(
    ("rollout", "fragment"),
    [
        (Rollout.canary(percent="10"), "rollout.percent='10' is a str; pass a number"),  # type: ignore[arg-type]
        (Rollout.canary(bake=30), "rollout.bake=30 is an int; pass a Duration"),  # type: ignore[arg-type]
        (Rollout.canary(alarms=[object()]), "rollout.alarms[0]=<object"),  # type: ignore[list-item]
        (Rollout.canary(alarms=None), "rollout.alarms=None is a NoneType; pass a list"),  # type: ignore[arg-type]
        (Rollout.linear(lifecycle_hooks=["hook"]), "rollout.lifecycle_hooks[0]='hook' is a str"),  # type: ignore[list-item]
        (Rollout.canary(test_header="x-canary"), "rollout.test_header='x-canary' is a str; pass (name, value)"),  # type: ignore[arg-type]
        (Rollout.blue_green(rollback_on_alarm="yes"), "rollout.rollback_on_alarm='yes' is a str"),  # type: ignore[arg-type]
        ("canary", "rollout='canary' is a str; pass a Rollout"),
    ],
)
def test_rollouts_of_the_wrong_type_are_refused(rollout: Any, fragment: str) -> None:
    assert fragment in _refused(TypeError, rollout=rollout)


def test_every_problem_of_a_rollout_is_reported_at_once() -> None:
    message = _refused(
        ValueError,
        rollout=Rollout.canary(percent=0, bake=Duration.minutes(2000), test_header=("x canary", "true")),
        port=0,
    )
    for fragment in ("rollout.percent=0", "rollout.bake=Duration.minutes(2000)", "'x canary'", "port=0"):
        assert fragment in message


def test_a_test_header_needs_http_headers() -> None:
    message = _refused(
        ValueError, rollout=Rollout.canary(test_header=TEST_HEADER), port=5432, protocol=ListenerProtocol.TCP
    )
    assert "protocol=ListenerProtocol.TCP carries no HTTP headers to match" in message


def test_rollback_on_alarm_false_without_any_alarm_is_refused() -> None:
    message = _refused(ValueError, rollout=Rollout.blue_green(rollback_on_alarm=False), protocol=ListenerProtocol.GRPC)
    assert "rollout.rollback_on_alarm=False: no alarm watches the deployment of 'api'" in message
    quiet = DataPlane.service_connect(observability=Observability(alarms=False))
    assert "no alarm watches" in _refused(ValueError, quiet, rollout=Rollout.canary(rollback_on_alarm=False))


@pytest.mark.parametrize(
    "rollout",
    [
        Rollout.canary(percent=10, bake=Duration.minutes(30)),
        Rollout.linear(),
        Rollout.blue_green(test_header=TEST_HEADER),
    ],
)
def test_app_mesh_refuses_rollouts_by_name(rollout: Rollout) -> None:
    message = _refused(ValueError, DataPlane.app_mesh(), rollout=rollout)
    assert f"rollout={rollout!r}: ECS-managed rollouts do not shift App Mesh traffic" in message
    assert "versions=[ServiceVersion(name='v2', image=..., weight=10)]" in message
    assert "DataPlane.service_connect()" in message


def test_app_mesh_refuses_rolling_options_it_would_not_apply() -> None:
    alarm = cloudwatch.Alarm.from_alarm_name(cdk.Stack(), "Alarm", "checkout-failures")
    message = _refused(ValueError, DataPlane.app_mesh(), rollout=Rollout.rolling(alarms=[alarm]))
    assert "rollout=Rollout.rolling(alarms=<1 alarms>): the library applies a rollout's alarms" in message


def test_app_mesh_keeps_the_default_rollout() -> None:
    stack, cluster = _stack(DataPlane.app_mesh())
    api = MeshedService(stack, "Api", cluster=cluster, name="api", image=IMAGE, rollout=Rollout.rolling())
    assert api.rollout.is_default


def test_versions_on_service_connect_point_to_a_rollout() -> None:
    message = _refused(ValueError, versions=[ServiceVersion(name="v2", image=IMAGE, weight=10)], weight=90)
    assert re.search(
        r"versions: Service Connect has no standing weighted split .* rollout=Rollout\.canary\(percent=10, "
        r"bake=Duration\.minutes\(30\), test_header=\('x-canary', 'true'\)\)",
        message,
    )


def test_header_routes_on_service_connect_point_to_the_test_header() -> None:
    rule = RouteRule(name="testers", headers={"x-beta": "yes"}, weights={"v1": 100})
    message = _refused(ValueError, routes=[rule])
    assert "routes[0] ('testers') matches headers {'x-beta': 'yes'}: Service Connect has no header routes" in message
    assert "test_header=('x-beta', 'yes')" in message
