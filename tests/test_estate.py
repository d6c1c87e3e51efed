"""Estates of hundreds of services over many stacks: no stack too big, no import loop, every call open."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk import cx_api
from aws_cdk.assertions import Template

from conftest import ENV, NGINX, new_app
from mesh_microservices import DataPlane, MeshedCluster, MeshedService, ServiceStacks, ServiceVersion
from mesh_microservices.estate import (
    DEFAULT_RESOURCES_PER_STACK,
    DEFAULT_SERVICES_PER_STACK,
    resource_count,
)

ESTATE_SIZE = 200
CLOUDFORMATION_RESOURCE_LIMIT = 500


class Estate:
    """A synthesized estate and the calls it declared."""

    def __init__(self) -> None:
        app = new_app()
        platform = cdk.Stack(app, "Platform", env=ENV)
        cluster = MeshedCluster(platform, "Cluster", namespace="estate.local", data_plane=DataPlane.app_mesh())
        image = ecs.ContainerImage.from_registry(NGINX)
        stacks = ServiceStacks(app, "Services", env=ENV)
        names = [f"svc-{i:03d}" for i in range(ESTATE_SIZE)]
        services = [
            MeshedService(stacks.next(), f"S{i:03d}", cluster=cluster, name=n, image=image) for i, n in enumerate(names)
        ]
        choose = random.Random(20261129)
        self.calls: set[tuple[str, str]] = set()
        for caller in services:
            for callee in choose.sample(names, 3):
                if callee != caller.name:
                    caller.connect_to(callee)  # by name: callers need no handle on the callee
                    self.calls.add((caller.name, callee))
        self.stack_names = ["Platform"] + [s.stack_name for s in stacks.stacks]
        self.assembly: cx_api.CloudAssembly = app.synth()
        self.templates: dict[str, dict[str, Any]] = {
            name: self.assembly.get_stack_by_name(name).template for name in self.stack_names
        }


@pytest.fixture(scope="session")
def estate() -> Estate:
    return Estate()


def _service_of_group(templates: dict[str, dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(stack, security-group logical id) -> service name, from the construct paths."""
    owners = {}
    for stack, template in templates.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::EC2::SecurityGroup":
                path = resource["Metadata"]["aws:cdk:path"].split("/")
                owners[(stack, logical_id)] = path[1]
    return owners


def _group_reference(stack: str, value: dict[str, Any], exports: dict[str, tuple[str, str]]) -> tuple[str, str]:
    if "Fn::GetAtt" in value:
        return stack, value["Fn::GetAtt"][0]
    return exports[value["Fn::ImportValue"]]


def test_estate_spreads_over_stacks_under_the_resource_limit(estate: Estate) -> None:
    assert len(estate.stack_names) >= 1 + ESTATE_SIZE // 25
    for name, template in estate.templates.items():
        assert len(template["Resources"]) <= CLOUDFORMATION_RESOURCE_LIMIT, name
    assert sum(len(t["Resources"]) for t in estate.templates.values()) > ESTATE_SIZE * 14


def test_stack_dependencies_form_no_cycle_although_calls_run_both_ways(estate: Estate) -> None:
    depends = {
        name: {d.id for d in estate.assembly.get_stack_by_name(name).dependencies if d.id in estate.templates}
        for name in estate.templates
    }
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(stack: str) -> None:
        assert stack not in visiting, f"dependency cycle through {stack}"
        if stack in done:
            return
        visiting.add(stack)
        for dependency in depends[stack]:
            visit(dependency)
        visiting.discard(stack)
        done.add(stack)

    for stack in depends:
        visit(stack)
    assert any(len(d - {"Platform"}) > 0 for d in depends.values()), "expected cross-stack calls"


def test_every_service_is_reachable_from_exactly_its_declared_callers(estate: Estate) -> None:
    exports: dict[str, tuple[str, str]] = {}
    for stack, template in estate.templates.items():
        for output in template.get("Outputs", {}).values():
            if "Export" in output and "Fn::GetAtt" in output["Value"]:
                exports[output["Export"]["Name"]] = (stack, output["Value"]["Fn::GetAtt"][0])
    owner = _service_of_group(estate.templates)
    construct_to_name = {f"S{i:03d}": f"svc-{i:03d}" for i in range(ESTATE_SIZE)}
    opened = set()
    for stack, template in estate.templates.items():
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::EC2::SecurityGroupIngress":
                continue
            properties = resource["Properties"]
            source = owner[_group_reference(stack, properties["SourceSecurityGroupId"], exports)]
            target = owner[_group_reference(stack, properties["GroupId"], exports)]
            assert properties["FromPort"] == properties["ToPort"] == 8080
            opened.add((construct_to_name[source], construct_to_name[target]))
    assert opened == estate.calls


def _rules_between_services(estate: Estate, resource_type: str, other_side: str) -> dict[tuple[str, str], str]:
    """(caller, callee) -> the stack holding the rule of ``resource_type`` between their groups."""
    exports: dict[str, tuple[str, str]] = {}
    for stack, template in estate.templates.items():
        for output in template.get("Outputs", {}).values():
            if "Export" in output and "Fn::GetAtt" in output["Value"]:
                exports[output["Export"]["Name"]] = (stack, output["Value"]["Fn::GetAtt"][0])
    owner = _service_of_group(estate.templates)
    construct_to_name = {f"S{i:03d}": f"svc-{i:03d}" for i in range(ESTATE_SIZE)}
    placed = {}
    for stack, template in estate.templates.items():
        for resource in template["Resources"].values():
            if resource["Type"] != resource_type:
                continue
            properties = resource["Properties"]
            group = owner[_group_reference(stack, properties["GroupId"], exports)]
            other = owner[_group_reference(stack, properties[other_side], exports)]
            assert properties["FromPort"] == properties["ToPort"] == 8080
            pair = (group, other) if resource_type.endswith("Egress") else (other, group)
            placed[(construct_to_name[pair[0]], construct_to_name[pair[1]])] = stack
    return placed


def test_each_caller_reaches_exactly_its_callees_with_both_rules_in_one_stack(estate: Estate) -> None:
    egress = _rules_between_services(estate, "AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId")
    ingress = _rules_between_services(estate, "AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId")
    assert set(egress) == estate.calls
    # The stack that already imports the other group holds both rules: no new import, no loop.
    assert egress == ingress
    assert len(set(egress.values())) > 1


def test_mesh_backends_are_the_declared_callees(estate: Estate) -> None:
    declared: dict[str, set[str]] = {}
    for caller, callee in estate.calls:
        declared.setdefault(caller, set()).add(f"{callee}.estate.local")
    found: dict[str, set[str]] = {}
    for template in estate.templates.values():
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::AppMesh::VirtualNode":
                name = resource["Properties"]["VirtualNodeName"].split("_")[0]
                backends = resource["Properties"]["Spec"].get("Backends", [])
                if backends:
                    found[name] = {b["VirtualService"]["VirtualServiceName"] for b in backends}
    assert found == declared


def test_unknown_backend_name_lists_the_names_that_exist() -> None:
    stack = cdk.Stack(cdk.App(), "Names", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="estate.local", data_plane=DataPlane.app_mesh())
    image = ecs.ContainerImage.from_registry(NGINX)
    MeshedService(stack, "Orders", cluster=cluster, name="orders", image=image)
    MeshedService(stack, "Billing", cluster=cluster, name="billing", image=image)
    with pytest.raises(ValueError, match=r"no service is named 'inventory'.*billing, orders"):
        MeshedService(stack, "Web", cluster=cluster, name="web", image=image, backends=["orders", "inventory"])
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=image, backends=["orders"])
    with pytest.raises(ValueError, match=r"no service is named 'payments'.*billing, orders, web"):
        web.connect_to("payments")
    assert web.callees == [cluster.services[0]]


@pytest.mark.parametrize("prefix", ["", "1Services", "Services_", "Services.", "Sérvices", "S" * 125])
def test_a_prefix_cloudformation_refuses_as_stack_name_is_refused(prefix: str) -> None:
    app = cdk.App()
    with pytest.raises(ValueError, match=r"cannot start a CloudFormation stack name; use a letter, then letters"):
        ServiceStacks(app, prefix)
    assert app.node.children == []


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"resources_per_stack": 0}, "resources_per_stack=0 is too small"),
        ({"resources_per_stack": 501}, "resources_per_stack=501 is too large; use at most 500"),
        ({"services_per_stack": 0}, "services_per_stack=0 is too small"),
        ({"services_per_stack": cdk.Token.as_number(cdk.Aws.ACCOUNT_ID)}, "services_per_stack is a token"),
        ({"prefix": cdk.Aws.STACK_NAME}, "prefix is a token"),
    ],
)
def test_stack_sizes_and_prefixes_must_be_literal_and_in_range(arguments: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        ServiceStacks(cdk.App(), **{"prefix": "Services", **arguments})


def test_stacks_fill_by_resources_so_services_with_versions_stay_under_the_budget() -> None:
    app = cdk.App()
    platform = cdk.Stack(app, "Platform", env=ENV)
    cluster = MeshedCluster(platform, "Cluster", namespace="canary.local", data_plane=DataPlane.app_mesh())
    image = ecs.ContainerImage.from_registry(NGINX)
    budget = 60
    stacks = ServiceStacks(app, "Canary", env=ENV, resources_per_stack=budget)
    for index in range(8):
        versions = [ServiceVersion(name=f"v{n}", image=image, weight=10) for n in (2, 3)]
        MeshedService(
            stacks.next(), f"S{index}", cluster=cluster, name=f"s{index}", image=image, weight=80, versions=versions
        )
    counts = [resource_count(stack) for stack in stacks.stacks]
    assert len(counts) > 1, "eight services fit the default 20 services per stack: resources must have split them"
    assert all(count <= budget for count in counts), counts


def test_a_stack_over_cloudformations_limit_fails_synthesis_naming_it_and_its_count() -> None:
    app = cdk.App()
    stacks = ServiceStacks(app, "Big", env=ENV)
    stack = stacks.next()
    for index in range(CLOUDFORMATION_RESOURCE_LIMIT + 1):
        cdk.CfnWaitConditionHandle(stack, f"Handle{index}")
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    assert (
        "ServiceStacks: stack 'Big1' holds 501 resources; CloudFormation allows 500. Lower services_per_stack "
        f"(now {DEFAULT_SERVICES_PER_STACK}) or resources_per_stack (now {DEFAULT_RESOURCES_PER_STACK})"
    ) in str(raised.value)


@pytest.mark.parametrize("plane", [DataPlane.app_mesh, DataPlane.service_connect])
def test_a_stack_dependency_added_after_the_services_is_respected_by_later_calls(
    plane: Callable[[], DataPlane],
) -> None:
    app = cdk.App()
    platform = cdk.Stack(app, "Platform", env=ENV)
    cluster = MeshedCluster(platform, "Cluster", namespace="late.local", data_plane=plane())
    image = ecs.ContainerImage.from_registry(NGINX)
    first, second = cdk.Stack(app, "First", env=ENV), cdk.Stack(app, "Second", env=ENV)
    orders = MeshedService(first, "Orders", cluster=cluster, name="orders", image=image)
    web = MeshedService(second, "Web", cluster=cluster, name="web", image=image)
    first.add_stack_dependency(second, "the application's own reason")  # after the library looked at both stacks
    web.connect_to(orders)  # Second must not now depend on First: that would close a loop
    assembly = app.synth()
    assert "First" not in {d.node.id for d in second.dependencies}
    rules = Template.from_json(assembly.get_stack_by_name("First").template).find_resources(
        "AWS::EC2::SecurityGroupIngress", {"Properties": {"FromPort": 8080}}
    )
    assert len(rules) == 1, "the rule belongs in the stack that already deploys after the other"
