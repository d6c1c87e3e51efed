"""The release example: orders rolls out by canary, with a test header and rollback alarms, behind the ingress.

Reads the example as the example_apps fixture synthesized it (the cdk-nag, cfn-lint and
logical-id gates check the same app).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from checked_apps import CheckedApp
from conftest import ROOT
from synthesized import Synthesized

sys.path.insert(0, str(ROOT / "examples" / "release"))
from release_stack import CANARY_BAKE, CANARY_PERCENT, FINAL_BAKE, TEST_HEADER

TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"


@pytest.fixture(scope="module")
def release(example_apps: dict[str, CheckedApp]) -> Synthesized:
    return example_apps["release"].stack("Release")


def _orders(synth: Synthesized) -> dict[str, Any]:
    properties: dict[str, Any] = synth.json["Resources"][synth.logical_id("AWS::ECS::Service", "/Orders/")][
        "Properties"
    ]
    return properties


def _ref(synth: Synthesized, resource_type: str, path: str) -> dict[str, str]:
    return {"Ref": synth.logical_id(resource_type, path)}


def test_orders_rolls_out_by_canary(release: Synthesized) -> None:
    deployment = _orders(release)["DeploymentConfiguration"]
    assert deployment["Strategy"] == "CANARY"
    assert deployment["CanaryConfiguration"] == {
        "CanaryPercent": CANARY_PERCENT,
        "CanaryBakeTimeInMinutes": CANARY_BAKE.to_minutes(),
    }
    assert deployment["BakeTimeInMinutes"] == FINAL_BAKE.to_minutes()


def test_orders_own_alarms_and_the_checkout_alarm_roll_the_canary_back(release: Synthesized) -> None:
    assert _orders(release)["DeploymentConfiguration"]["Alarms"] == {
        "AlarmNames": [
            _ref(release, "AWS::CloudWatch::Alarm", "/Orders/Alarms/ServerErrors/"),
            _ref(release, "AWS::CloudWatch::Alarm", "/Orders/Alarms/ResponseTime/"),
            _ref(release, "AWS::CloudWatch::Alarm", "/CheckoutFailures/"),
        ],
        "Enable": True,
        "Rollback": True,
    }


def test_the_test_header_reaches_the_new_revision_inside_the_mesh(release: Synthesized) -> None:
    (service,) = _orders(release)["ServiceConnectConfiguration"]["Services"]
    (alias,) = service["ClientAliases"]
    name, value = TEST_HEADER
    assert alias["TestTrafficRules"] == {"Header": {"Name": name, "Value": {"Exact": value}}}


def test_the_test_header_reaches_the_new_revision_through_the_ingress(release: Synthesized) -> None:
    rules = {
        rule["Properties"]["Priority"]: rule["Properties"]
        for rule in release.resources(LISTENER_RULE).values()
        if "/Ingress/" in rule["Metadata"]["aws:cdk:path"]
    }
    assert sorted(rules) == [9, 10, 20]  # orders' test rule, orders, web
    name, value = TEST_HEADER
    assert rules[9]["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/orders/*"]}},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": name, "Values": [value]}},
    ]
    assert rules[9]["Actions"] == rules[10]["Actions"]
    (forward,) = rules[9]["Actions"]
    assert forward["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": _ref(release, TARGET_GROUP, "/Ingress/TargetGroup-orders/"), "Weight": 100},
        {"TargetGroupArn": _ref(release, TARGET_GROUP, "/Ingress/AlternateTargetGroup-orders/"), "Weight": 0},
    ]


def test_ecs_shifts_the_ingress_traffic_to_the_alternate_target_group(release: Synthesized) -> None:
    (balanced,) = _orders(release)["LoadBalancers"]
    assert balanced["TargetGroupArn"] == _ref(release, TARGET_GROUP, "/Ingress/TargetGroup-orders/")
    assert balanced["AdvancedConfiguration"] == {
        "AlternateTargetGroupArn": _ref(release, TARGET_GROUP, "/Ingress/AlternateTargetGroup-orders/"),
        "ProductionListenerRule": _ref(release, LISTENER_RULE, "/Ingress/Rule-orders/"),
        "TestListenerRule": _ref(release, LISTENER_RULE, "/Ingress/TestRule-orders/"),
        "RoleArn": {"Fn::GetAtt": [release.logical_id("AWS::IAM::Role", "/Ingress/TrafficShiftRole-orders/"), "Arn"]},
    }


def test_web_rolls_as_before(release: Synthesized) -> None:
    web = release.json["Resources"][release.logical_id("AWS::ECS::Service", "/Web/")]["Properties"]
    assert "Strategy" not in web["DeploymentConfiguration"]
    assert all("AdvancedConfiguration" not in entry for entry in web["LoadBalancers"])
