"""Estates of hundreds of services over many stacks: no stack too big, no import loop, every call open."""

from __future__ import annotations

import math
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk import cx_api
from aws_cdk.assertions import Template

from checked_apps import CheckedApp
from conftest import ENV, NGINX, ROOT, new_app
from mesh_microservices import DataPlane, MeshedCluster, MeshedService, ServiceStacks, ServiceVersion
from mesh_microservices.estate import (
    DEFAULT_RESOURCES_PER_STACK,
    DEFAULT_SERVICES_PER_STACK,
    resource_count,
)

sys.path.insert(0, str(ROOT / "examples" / "estate"))
from estate_app import SERVICE_COUNT, SERVICES_PER_STACK, callees_of

CLOUDFORMATION_RESOURCE_LIMIT = 500  # resources per stack: AWS CloudFormation User Guide, "CloudFormation quotas"
# A small App Mesh estate beside the 60-service example: three stacks are enough for calls across stacks.
MESH_ESTATE_SIZE = 12
MESH_SERVICES_PER_STACK = 4


@dataclass(frozen=True)
class Estate:
    """A synthesized estate: its stacks' templates, the calls it declared and each service's construct id."""

    assembly: cx_api.CloudAssembly
    stack_names: list[str]
    calls: set[tuple[str, str]]
    name_of: dict[str, str]  # construct id -> service name
    templates: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        templates = {name: self.assembly.get_stack_by_name(name).template for name in self.stack_names}
        object.__setattr__(self, "templates", templates)


@pytest.fixture(scope="session")
def example_estate(example_apps: dict[str, CheckedApp]) -> Estate:
    """examples/estate (60 services on Service Connect, 20 per stack), with the calls its build() declares."""
    checked = example_apps["estate"]
    names = {f"Service{i:03d}": f"svc-{i:03d}" for i in range(SERVICE_COUNT)}
    calls = {(f"svc-{i:03d}", f"svc-{c:03d}") for i in range(SERVICE_COUNT) for c in callees_of(i, SERVICE_COUNT)}
    return Estate(checked.assembly, checked.stack_names, calls, names)


@pytest.fixture(scope="session")
def mesh_estate() -> Estate:
    """An App Mesh estate over several stacks whose services call random others by name."""
    app = new_app()
    platform = cdk.Stack(app, "Platform", env=ENV)
    cluster = MeshedCluster(platform, "Cluster", namespace="estate.local", data_plane=DataPlane.app_mesh())
    image = ecs.ContainerImage.from_registry(NGINX)
    stacks = ServiceStacks(app, "Services", env=ENV, services_per_stack=MESH_SERVICES_PER_STACK)
    names = {f"S{i:03d}": f"svc-{i:03d}" for i in range(MESH_ESTATE_SIZE)}
    services = [MeshedService(stacks.next(), i, cluster=cluster, name=n, image=image) for i, n in names.items()]
    choose = random.Random(20261129)
    calls: set[tuple[str, str]] = set()
    for caller in services:
        for callee in choose.sample(sorted(names.values()), 3):
            if callee != caller.name:
                caller.connect_to(callee)  # by name: callers need no handle on the callee
                calls.add((caller.name, callee))
    stack_names = ["Platform"] + [s.stack_name for s in stacks.stacks]
    return Estate(app.synth(), stack_names, calls, names)


@pytest.fixture(params=["example", "mesh"])
def estate(request: pytest.FixtureRequest) -> Estate:
    """Each estate in turn: the example's on Service Connect, the random one on App Mesh."""
    return cast(Estate, request.getfixturevalue(f"{request.param}_estate"))


def _service_of_group(templates: dict[str, dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(stack, security-group logical id) -> service construct id, from the construct paths."""
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


def test_estate_spreads_over_stacks_under_the_resource_limit(example_estate: Estate) -> None:
    templates = example_estate.templates
    service_stacks = [name for name in templates if name != "Platform"]
    assert len(service_stacks) == math.ceil(SERVICE_COUNT / SERVICES_PER_STACK)
    for name, template in templates.items():
        assert len(template["Resources"]) <= CLOUDFORMATION_RESOURCE_LIMIT, name
    assert sum(len(t["Resources"]) for t in templates.values()) > SERVICE_COUNT * 14
    # Any number of services: a stack holds at most services_per_stack of them, so the fullest stack
    # of the example bounds every stack of a larger estate with as many calls per service.
    per_service = max(len(templates[name]["Resources"]) for name in service_stacks) / SERVICES_PER_STACK
    assert DEFAULT_SERVICES_PER_STACK * per_service <= DEFAULT_RESOURCES_PER_STACK <= CLOUDFORMATION_RESOURCE_LIMIT


def test_stack_dependencies_form_no_cycle_although_calls_run_both_ways(estate: Estate) -> None:
    depends = {
        name: {d.id for d in estate.assembly.get_stack_by_name(name).dependencies} & set(estate.stack_names)
        for name in estate.stack_names
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


def _exports(templates: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Export name -> (stack, logical id of the resource whose attribute it exports)."""
    exports: dict[str, tuple[str, str]] = {}
    for stack, template in templates.items():
        for output in template.get("Outputs", {}).values():
            if "Export" in output and "Fn::GetAtt" in output["Value"]:
                exports[output["Export"]["Name"]] = (stack, output["Value"]["Fn::GetAtt"][0])
    return exports


def _rules_between_services(estate: Estate, resource_type: str, other_side: str) -> dict[tuple[str, str], str]:
    """(caller, callee) -> the stack holding the rule of ``resource_type`` between their groups."""
    templates = estate.templates
    exports = _exports(templates)
    owner = _service_of_group(templates)
    placed = {}
    for stack, template in templates.items():
        for resource in template["Resources"].values():
            if resource["Type"] != resource_type:
                continue
            properties = resource["Properties"]
            group = owner[_group_reference(stack, properties["GroupId"], exports)]
            other = owner[_group_reference(stack, properties[other_side], exports)]
            assert properties["FromPort"] == properties["ToPort"] == 8080
            pair = (group, other) if resource_type.endswith("Egress") else (other, group)
            placed[(estate.name_of[pair[0]], estate.name_of[pair[1]])] = stack
    return placed


def test_every_service_is_reachable_from_exactly_its_declared_callers(estate: Estate) -> None:
    ingress = _rules_between_services(estate, "AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId")
    assert set(ingress) == estate.calls


def test_each_caller_reaches_exactly_its_callees_with_both_rules_in_one_stack(estate: Estate) -> None:
    egress = _rules_between_services(estate, "AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId")
    ingress = _rules_between_services(estate, "AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId")
    assert set(egress) == estate.calls
    # The stack that already imports the other group holds both rules: no new import, no loop.
    assert egress == ingress
    assert len(set(egress.values())) > 1


def test_mesh_backends_are_the_declared_callees(mesh_estate: Estate) -> None:
    declared: dict[str, set[str]] = {}
    for caller, callee in mesh_estate.calls:
        declared.setdefault(caller, set()).add(f"{callee}.estate.local")
    found: dict[str, set[str]] = {}
    for template in mesh_estate.templates.values():
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
    # aws-cdk-lib makes this check at synthesis, naming the stack and its count.
    app = cdk.App()
    stacks = ServiceStacks(app, "Big", env=ENV)
    stack = stacks.next()
    for index in range(CLOUDFORMATION_RESOURCE_LIMIT + 1):
        cdk.CfnWaitConditionHandle(stack, f"Handle{index}")
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    assert "Number of resources in stack 'Big1': 501 is greater than allowed maximum of 500" in str(raised.value)


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
