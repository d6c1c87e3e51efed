"""Start order on Service Connect: callees start first, and a caller's tasks restart when it gains a callee.

A task resolves only the Service Connect endpoints that existed when it started (REFERENCE: ECS
Service Connect). So callees deploy first, and the caller's ECS service carries ECS's
force-new-deployment nonce derived from the callees it deploys after. A call that closes a loop
has no such order: a custom resource in the callee's stack calls ECS UpdateService with
forceNewDeployment for the caller once the callee exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs

from conftest import ENV, NGINX, new_app
from mesh_microservices import DataPlane, MeshedCluster, MeshedService, ServiceVersion
from mesh_microservices.service_connect.restart import RESTART_INFO_ID, RESTART_RESOURCE_TYPE
from synthesized import Synthesized

# AWS facts: the ECS API call and IAM action that start a new deployment of a service, and the
# managed policy aws-cdk-lib gives a custom resource's provider Lambda.
UPDATE_SERVICE = ("ECS", "UpdateService")
UPDATE_SERVICE_ACTION = "ecs:UpdateService"
LAMBDA_BASIC_EXECUTION = ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _shop(app: cdk.App, stack_id: str, *, more_calls: bool) -> None:
    stack = cdk.Stack(app, stack_id, env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="shop.local", data_plane=DataPlane.service_connect())
    image = ecs.ContainerImage.from_registry(NGINX)
    inventory = MeshedService(stack, "Inventory", cluster=cluster, name="inventory", image=image)
    ledger = MeshedService(stack, "Ledger", cluster=cluster, name="ledger", image=image)
    orders = MeshedService(stack, "Orders", cluster=cluster, name="orders", image=image, backends=[inventory])
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=image, backends=[orders, inventory])
    if more_calls:
        web.connect_to(ledger)
    ping = MeshedService(stack, "Ping", cluster=cluster, name="ping", image=image)
    pong = MeshedService(stack, "Pong", cluster=cluster, name="pong", image=image, backends=[ping])
    ping.connect_to(pong)  # closes a loop: pong already waits for ping
    if more_calls:  # ping gains a second callee round a loop
        pang = MeshedService(stack, "Pang", cluster=cluster, name="pang", image=image, backends=[ping])
        ping.connect_to(pang)


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
    _shop(app, "Calls", more_calls=False)
    _shop(app, "CallsMore", more_calls=True)
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


def test_a_call_round_a_loop_leaves_no_cycle_and_says_how_the_caller_restarts(
    synthesized: Callable[[str], Synthesized],
) -> None:
    calls = synthesized("Calls")
    ping_id, _ = _service(calls, "Ping")
    pong_id, _ = _service(calls, "Pong")
    assert ping_id in calls.json["Resources"][pong_id]["DependsOn"]
    assert pong_id not in calls.json["Resources"][ping_id].get("DependsOn", [])
    assert [m for m in calls.messages if m[0] == "warning"] == []
    infos = [(path, text) for level, path, text in calls.messages if level == "info" and RESTART_INFO_ID in text]
    assert len(infos) == 1
    path, text = infos[0]
    assert path == "/Calls/Pong/RestartCaller-ping"
    assert "ping.shop.local calls pong.shop.local" in text and "forceNewDeployment" in text


def _restarts(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """The restart resources of a stack, by construct path."""
    return {r["Metadata"]["aws:cdk:path"]: r for r in synth.resources(RESTART_RESOURCE_TYPE).values()}


def _sdk_call(value: Any) -> dict[str, Any]:
    """An AwsCustomResource call as its handler reads it, with CloudFormation's tokens in place."""
    parts = value["Fn::Join"][1] if isinstance(value, dict) else [value]
    tokens = {f"<token{i}>": part for i, part in enumerate(parts) if not isinstance(part, str)}
    text = "".join(part if isinstance(part, str) else f"<token{i}>" for i, part in enumerate(parts))
    call: dict[str, Any] = json.loads(
        text, object_hook=lambda o: {k: tokens.get(v, v) if isinstance(v, str) else v for k, v in o.items()}
    )
    return call


def test_restarts_exist_exactly_for_calls_that_close_a_loop(synthesized: Callable[[str], Synthesized]) -> None:
    assert set(_restarts(synthesized("Calls"))) == {"Calls/Pong/RestartCaller-ping/Resource/Default"}
    assert set(_restarts(synthesized("CallsMore"))) == {
        "CallsMore/Pong/RestartCaller-ping/Resource/Default",
        "CallsMore/Pang/RestartCaller-ping/Resource/Default",
    }
    assert len(synthesized("CallsMore").resources("AWS::Lambda::Function")) == 1  # one provider for both
    # Across stacks: in the callee's stack, which deploys after the caller's.
    assert set(_restarts(synthesized("West"))) == {"West/West/RestartCaller-east/Resource/Default"}
    assert _restarts(synthesized("East")) == {}
    assert _restarts(synthesized("Bootstrap")) == {}


def test_a_restart_forces_a_new_deployment_of_the_caller_after_the_callee(
    synthesized: Callable[[str], Synthesized],
) -> None:
    calls = synthesized("Calls")
    (restart,) = _restarts(calls).values()
    assert _service(calls, "Pong")[0] in restart["DependsOn"]
    ping_id, _ = _service(calls, "Ping")
    cluster_id = calls.logical_id("AWS::ECS::Cluster", "/Cluster/")
    for event in ("Create", "Update"):
        call = _sdk_call(restart["Properties"][event])
        assert (call["service"], call["action"]) == UPDATE_SERVICE
        assert call["parameters"] == {
            "cluster": {"Ref": cluster_id},
            "service": {"Fn::GetAtt": [ping_id, "Name"]},
            "forceNewDeployment": True,
        }
    assert "Delete" not in restart["Properties"]  # nothing is called when it is removed or rolled back
    assert restart["Properties"]["InstallLatestAwsSdk"] is False


def test_a_restart_across_stacks_imports_from_the_callers_stack_only(
    synthesized: Callable[[str], Synthesized],
) -> None:
    west, east = synthesized("West"), synthesized("East")
    (restart,) = _restarts(west).values()
    assert _service(west, "West")[0] in restart["DependsOn"]
    call = _sdk_call(restart["Properties"]["Create"])
    assert call["parameters"]["service"]["Fn::ImportValue"].startswith("East:")
    assert "West:" not in json.dumps(east.json)  # the caller's stack imports nothing from the callee's


def test_a_restart_runs_again_only_when_its_call_changes(synthesized: Callable[[str], Synthesized]) -> None:
    before, after = _restarts(synthesized("Calls")), _restarts(synthesized("CallsMore"))
    # A new callee round a loop adds its own restart, which runs on create; the others stay as they
    # were, so CloudFormation sends them no update and they call nothing.
    pong_restart = "Pong/RestartCaller-ping/Resource/Default"
    assert before[f"Calls/{pong_restart}"]["Properties"] == after[f"CallsMore/{pong_restart}"]["Properties"]
    create = _sdk_call(after["CallsMore/Pang/RestartCaller-ping/Resource/Default"]["Properties"]["Create"])
    assert (
        create["physicalResourceId"]["id"]
        != _sdk_call(before[f"Calls/{pong_restart}"]["Properties"]["Create"])["physicalResourceId"]["id"]
    )
    # Loop callees restart the caller through their restarts, not through its start-order marker.
    assert _nonce(synthesized("Calls"), "Ping") is None
    assert _nonce(synthesized("CallsMore"), "Ping") is None


def _exported(synth: Synthesized, value: dict[str, Any]) -> dict[str, Any]:
    """How another stack imports ``value`` of ``synth``'s stack."""
    (name,) = [o["Export"]["Name"] for o in synth.json.get("Outputs", {}).values() if o["Value"] == value]
    return {"Fn::ImportValue": name}


@pytest.mark.parametrize(("stack", "caller_stack", "caller"), [("Calls", "Calls", "Ping"), ("West", "East", "East")])
def test_a_restart_may_update_the_callers_service_only(
    synthesized: Callable[[str], Synthesized], stack: str, caller_stack: str, caller: str
) -> None:
    synth = synthesized(stack)
    caller_arn: dict[str, Any] = {"Ref": _service(synthesized(caller_stack), caller)[0]}
    if caller_stack != stack:
        caller_arn = _exported(synthesized(caller_stack), caller_arn)
    (restart,) = _restarts(synth).values()
    ((policy_id, policy),) = [
        (logical_id, policy)
        for logical_id, policy in synth.resources("AWS::IAM::Policy").items()
        if "/RestartCaller-" in policy["Metadata"]["aws:cdk:path"]
    ]
    assert policy_id in restart["DependsOn"]  # the permission exists before the call
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": UPDATE_SERVICE_ACTION, "Effect": "Allow", "Resource": caller_arn}
    ]
    # One provider Lambda per stack, whose own role may only write its logs.
    ((function_id, function),) = synth.resources("AWS::Lambda::Function").items()
    assert restart["Properties"]["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    role = synth.json["Resources"][role_id]["Properties"]
    assert "Policies" not in role
    (managed,) = role["ManagedPolicyArns"]
    assert managed["Fn::Join"][1][-1] == LAMBDA_BASIC_EXECUTION


def test_callee_stacks_deploy_first_and_a_loop_across_stacks_restarts_quietly(
    synthesized: Callable[[str], Synthesized],
) -> None:
    assert not [m for m in synthesized("East").messages if m[0] == "warning" and "east.far.local" in m[2]]
    assert not [m for m in synthesized("West").messages if m[0] == "warning"]
    (info,) = [m for m in synthesized("West").messages if m[0] == "info" and RESTART_INFO_ID in m[2]]
    assert info[1] == "/West/West/RestartCaller-east" and "east.far.local calls west.far.local" in info[2]


def test_desired_count_zero_is_accepted_for_a_first_deploy(synthesized: Callable[[str], Synthesized]) -> None:
    bootstrap = synthesized("Bootstrap")
    counts = {
        resource["Metadata"]["aws:cdk:path"]: resource["Properties"]["DesiredCount"]
        for resource in bootstrap.resources("AWS::ECS::Service").values()
    }
    assert set(counts.values()) == {0}
    assert len(counts) == 3  # empty, canary and its v2
