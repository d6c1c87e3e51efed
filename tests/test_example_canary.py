"""The canary example: v2 beside v1 at the requested weight, testers routed to v2."""

from __future__ import annotations

import sys
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from checked_apps import CheckedApp
from conftest import AUTHORITY_ARN, ENV, ROOT

sys.path.insert(0, str(ROOT / "examples" / "canary"))
from canary_stack import DEFAULT_CANARY_PERCENT, CanaryStack


def _default_route_weights(template: dict[str, Any]) -> dict[str, int]:
    nodes = {
        logical_id: r["Properties"]["VirtualNodeName"]
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::AppMesh::VirtualNode"
    }
    (route,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::AppMesh::Route" and r["Properties"]["Spec"].get("Priority") == 1000
    ]
    targets = route["Properties"]["Spec"]["HttpRoute"]["Action"]["WeightedTargets"]
    return {nodes[t["VirtualNode"]["Fn::GetAtt"][0]]: t["Weight"] for t in targets}


def test_the_example_sends_its_default_percent_to_the_canary(example_apps: dict[str, CheckedApp]) -> None:
    weights = _default_route_weights(example_apps["canary"].stack("Canary").json)  # as app.py synthesizes it
    expected = (100 - DEFAULT_CANARY_PERCENT, DEFAULT_CANARY_PERCENT)
    assert (weights["orders_canary.local"], weights["orders-v2_canary.local"]) == expected


@pytest.mark.parametrize(("percent", "expected"), [(100, (0, 100)), (0, (100, 0))])
def test_shifting_the_canary_is_a_weight_change(percent: int, expected: tuple[int, int]) -> None:
    stack = CanaryStack(cdk.App(), "Canary", canary_percent=percent, certificate_authority_arn=AUTHORITY_ARN, env=ENV)
    weights = _default_route_weights(Template.from_stack(stack).to_json())
    assert (weights["orders_canary.local"], weights["orders-v2_canary.local"]) == expected


def test_percent_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match="canary_percent=101"):
        CanaryStack(cdk.App(), "Canary", canary_percent=101, certificate_authority_arn=AUTHORITY_ARN, env=ENV)
