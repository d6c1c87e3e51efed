"""Start order on Service Connect: callees start first, and a caller's tasks restart when it gains a callee.

A task resolves only the Service Connect endpoints that existed when it started (REFERENCE: ECS
Service Connect). So callees deploy first, and the caller's ECS service carries ECS's
force-new-deployment nonce derived from its set of callees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs

from conftest import ENV, NGINX, new_app
from mesh_microservices import DataPlane, MeshedCluster, MeshedService, ServiceVersion
from synthesized import Synthesized


def _shop(app: cdk.App, stack_id: str, *, web_calls_ledger: bool) -> None:
    stack = cdk.Stack(app, stack_id, env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="shop.local", data_plane=DataPlane.service_connect())
    image = ecs.ContainerImage.from_registry(NGINX)
    inventory = MeshedService(stack, "Inventory", cluster=cluster, name="inventory", image=image)
    ledger = MeshedService(stack, "Ledger", cluster=cluster, name="ledger", image=image)
    orders = MeshedService(stack, "Orders", cluster=cluster, name="orders", image=image, backends=[inventory])
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=image, backends=[orders, inventory])
    if web_calls_ledger:
        web.connect_to(ledger)
    ping = MeshedService(stack, "Ping", cluster=cluster, name="ping", image=image)
    pong = MeshedService(stack, "Pong", cluster=cluster, name="pong", image=image, backends=[ping])
    ping.connect_to(pong)  # closes a loop: pong already waits for ping


def _across_stacks(app: cdk.App) -> None:
    platform = cdk.Stack(app, "Platform", env=ENV)
    cluster = MeshedCluster(platform, "Cluster", namespace="far.local", data_plane=DataPlane.service_connect())
    image = ecs.ContainerImage.from_registry(NGINX)
    east = MeshedService(cdk.Stack(app, "East", env=ENV), "East", cluster=cluster, name="east", image=image)
    west = MeshedService(cdk.Stack(app, "West", env=ENV), "West", cluster=cluster, name="west", image=image)
    west.connect_to(east)
    east.connect_to(west)  # East already deploys before West


def _bootstrap(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Bootstrap", env=ENV)
    image = ecs.ContainerImage.from_registry(NGINX)
    cluster = MeshedCluster(stack, "Cluster", namespace="boot.local", data_plane=DataPlane.service_connect())
    MeshedService(stack, "Empty", cluster=cluster, name="empty", image=image, desired_count=0)
    mesh = MeshedCluster(stack, "Mesh", namespace="boot-mesh.local", data_plane=DataPlane.app_mesh())
    MeshedService(
        stack,
        "Canary",
        cluster=mesh,
        name="canary",
        image=image,
        desired_count=0,
        versions=[ServiceVersion(name="v2", image=image, weight=0, desired_count=0)],
    )


@pytest.fixture(scope="module")
def synthesized() -> Callable[[str], Synthesized]:
    app = new_app()
    _shop(app, "Calls", web_calls_ledger=False)
    _shop(app, "CallsMore", web_calls_ledger=True)
    _across_stacks(app)
    _bootstrap(app)
    assembly = app.synth()
    return lambda name: Synthesized.from_assembly(assembly, name)


def _service(synth: Synthesized, name: str) -> tuple[str, dict[str, Any]]:
    logical_id = synth.logical_id("AWS::ECS::Service", f"/{name}/")
    return logical_id, synth.json["Resources"][logical_id]["Properties"]


def _nonce(synth: Synthesized, name: str) -> str | None:
    marker = _service(synth, name)[1].get("ForceNewDeployment")
    if marker is None:
        return None
    assert marker["EnableForceNewDeployment"] is True
    nonce: str = marker["ForceNewDeploymentNonce"]
    return nonce


def test_a_service_without_callees_has_no_start_order_marker(synthesized: Callable[[str], Synthesized]) -> None:
    assert _nonce(synthesized("Calls"), "Inventory") is None


def test_callers_carry_a_marker_derived_from_their_callees(synthesized: Callable[[str], Synthesized]) -> None:
    calls = synthesized("Calls")
    assert _nonce(calls, "Web") is not None
    assert _nonce(calls, "Orders") is not None
    assert _nonce(calls, "Web") != _nonce(calls, "Orders")  # web calls two services, orders one


def test_adding_a_callee_changes_the_callers_marker_only(synthesized: Callable[[str], Synthesized]) -> None:
    before, after = synthesized("Calls"), synthesized("CallsMore")
    assert _nonce(before, "Web") != _nonce(after, "Web")
    assert _nonce(before, "Orders") == _nonce(after, "Orders")
    assert _nonce(before, "Pong") == _nonce(after, "Pong")


def test_a_new_callee_deploys_before_the_caller_that_restarts(synthesized: Callable[[str], Synthesized]) -> None:
    after = synthesized("CallsMore")
    ledger, _ = _service(after, "Ledger")
    web = after.json["Resources"][_service(after, "Web")[0]]
    assert ledger in web["DependsOn"]


def test_a_call_round_a_loop_warns_and_leaves_no_cycle(synthesized: Callable[[str], Synthesized]) -> None:
    calls = synthesized("Calls")
    ping_id, _ = _service(calls, "Ping")
    pong_id, _ = _service(calls, "Pong")
    assert ping_id in calls.json["Resources"][pong_id]["DependsOn"]
    assert pong_id not in calls.json["Resources"][ping_id].get("DependsOn", [])
    warnings = [(path, text) for level, path, text in calls.messages if level == "warning"]
    (path, text), *others = [(p, t) for p, t in warnings if "UnorderedServiceConnectCall" in t]
    assert not others
    assert path == "/Calls/Ping/Resource"
    assert "ping.shop.local calls pong.shop.local" in text and "force-new-deployment" in text


def test_callee_stacks_deploy_first_and_a_loop_across_stacks_warns(synthesized: Callable[[str], Synthesized]) -> None:
    east = synthesized("East")
    assert [text for level, _, text in east.messages if level == "warning" and "east.far.local calls" in text]
    assert not [m for m in synthesized("West").messages if m[0] == "warning"]


def test_desired_count_zero_is_accepted_for_a_first_deploy(synthesized: Callable[[str], Synthesized]) -> None:
    bootstrap = synthesized("Bootstrap")
    counts = {
        resource["Metadata"]["aws:cdk:path"]: resource["Properties"]["DesiredCount"]
        for resource in bootstrap.resources("AWS::ECS::Service").values()
    }
    assert set(counts.values()) == {0}
    assert len(counts) == 3  # empty, canary and its v2
