"""Least privilege in every synthesized stack: scoped IAM, ports open to declared callers only, outbound to
declared callees and HTTPS only, no public IPs."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from checked_apps import CheckedApp
from mesh_microservices import MeshIngress
from mesh_microservices._acknowledgments import AWS_MANAGED_POLICIES, UNSCOPABLE_ACTIONS
from service_ingress import egress_rules, ingress_rules, service_egress_problems, service_ingress_problems

# Identity-based policies: what the roles the library creates may do. Resource policies (bucket
# and key policies of the examples) state who may use a resource, not what a principal may do.
IDENTITY_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allow_statements(app: CheckedApp) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) for every Allow statement of every identity-based policy of ``app``."""
    for name, stack in app.stacks():
        for logical_id, resource in stack.json["Resources"].items():
            documents = []
            if resource["Type"] in IDENTITY_POLICY_TYPES:
                documents.append(resource["Properties"]["PolicyDocument"])
            if resource["Type"] == "AWS::IAM::Role":
                documents.extend(p["PolicyDocument"] for p in resource["Properties"].get("Policies", []))
            for document in documents:
                for statement in _as_list(document["Statement"]):
                    if statement["Effect"] == "Allow":
                        yield f"{app.label}: {name}/{logical_id}", statement


def test_no_statement_allows_a_wildcard_action(checked_apps: list[CheckedApp]) -> None:
    for app in checked_apps:
        for where, statement in _allow_statements(app):
            assert "NotAction" not in statement, (where, statement)
            for action in _as_list(statement["Action"]):
                assert "*" not in action, f"{where} allows {action!r}; list the actions it needs"


def test_resource_star_only_for_actions_without_resource_permissions(checked_apps: list[CheckedApp]) -> None:
    granted_on_star: set[str] = set()
    for app in checked_apps:
        for where, statement in _allow_statements(app):
            assert "NotResource" not in statement, (where, statement)
            if "*" in _as_list(statement["Resource"]):
                actions = set(_as_list(statement["Action"]))
                assert actions <= UNSCOPABLE_ACTIONS.keys(), f"{where} grants {sorted(actions)} on '*'; scope them"
                granted_on_star |= actions
    assert granted_on_star, "no grant on '*' seen: the allow-list would be checked against nothing"
    assert all(len(reason) >= 40 for reason in UNSCOPABLE_ACTIONS.values())  # each entry says why


def test_only_allow_listed_aws_managed_policies_are_attached(checked_apps: list[CheckedApp]) -> None:
    for app in checked_apps:
        for name, stack in app.stacks():
            for role in stack.resources("AWS::IAM::Role").values():
                for arn in role["Properties"].get("ManagedPolicyArns", []):
                    # "arn:aws:iam::aws:policy/<name>", or CDK's Fn::Join of the partition and that tail.
                    tail = arn if isinstance(arn, str) else arn["Fn::Join"][1][-1]
                    policy = tail.split(":iam::aws:policy/", 1)[-1]
                    assert policy in AWS_MANAGED_POLICIES, f"{app.label}: {name} attaches {arn}"


def test_tasks_get_no_public_ip(checked_apps: list[CheckedApp]) -> None:
    services = 0
    for app in checked_apps:
        for name, stack in app.stacks():
            for logical_id, service in stack.resources("AWS::ECS::Service").items():
                network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
                assert network["AssignPublicIp"] == "DISABLED", f"{app.label}: {name}/{logical_id}"
                services += 1
    assert services > 0


def test_service_ports_are_open_to_declared_callers_and_exposed_peers_only(checked_apps: list[CheckedApp]) -> None:
    for app in checked_apps:
        assert service_ingress_problems(app) == [], app.label


def test_cidr_ingress_only_where_the_app_opened_it_on_purpose(checked_apps: list[CheckedApp]) -> None:
    # The one example with a public load balancer acknowledges AwsSolutions-EC23 there, with why.
    for app in checked_apps:
        open_on_purpose = [
            construct.node.path for construct, rule, _ in app.acknowledgments() if rule.endswith("AwsSolutions-EC23")
        ]
        for target, rule in ingress_rules(app)[1]:
            assert any(target == path or target.startswith(f"{path}/") for path in open_on_purpose), (
                app.label,
                target,
                rule,
            )


# Egress the variant app opens itself: ScalingConnect's api reaches its database through connections.allow_to.
OPENED_BY_APPLICATION = frozenset(
    {("ScalingConnect/Api/SecurityGroup/Resource", "ScalingConnect/Database/Resource", 5432, 5432, "tcp")}
)


def test_services_reach_their_declared_callees_and_https_only(checked_apps: list[CheckedApp]) -> None:
    for app in checked_apps:
        assert service_egress_problems(app, OPENED_BY_APPLICATION) == [], app.label
    # The check would see a missing or extra rule: some app declares calls between services.
    assert any(egress_rules(app)[0] for app in checked_apps)


def test_no_load_balancer_or_gateway_reaches_everything(checked_apps: list[CheckedApp]) -> None:
    groups = 0
    for app in checked_apps:
        ingresses = [c for c in app.app.node.find_all() if isinstance(c, MeshIngress)]
        paths = {f"{i.load_balancer_security_group.node.path}/Resource" for i in ingresses}
        for ingress in ingresses:
            with contextlib.suppress(AttributeError):  # App Mesh only: the gateway's own group
                paths.add(f"{ingress.security_group.node.path}/Resource")
        for source, rule in egress_rules(app)[1]:
            assert source not in paths or rule["IpProtocol"] != "-1", (app.label, source, rule)
        groups += len(paths)
    assert groups > 0


@pytest.mark.parametrize(
    ("stack", "control_plane"), [("HardenedConnect", "ECS Service Connect"), ("HardenedMesh", "App Mesh")]
)
def test_on_each_plane_a_caller_reaches_its_callee_and_https_only(
    variants_app: CheckedApp, stack: str, control_plane: str
) -> None:
    group_rules, cidr_rules = egress_rules(variants_app)
    group = f"{stack}/{{}}/SecurityGroup/Resource".format
    assert {rule for rule in group_rules if rule[0] == group("Plain")} == {
        (group("Plain"), group("Locked"), 8080, 8080, "tcp")
    }
    assert not [rule for rule in group_rules if rule[0] in (group("Locked"), group("Open"))]
    https = [rule for source, rule in cidr_rules if source == group("Plain")]
    assert [(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in https] == [("0.0.0.0/0", 443, 443)]
    assert "AWS APIs" in https[0]["Description"] and control_plane in https[0]["Description"]


def test_allow_all_outbound_opens_every_destination(variants_app: CheckedApp) -> None:
    for stack in ("HardenedConnect", "HardenedMesh"):
        open_rules = [
            rule for source, rule in egress_rules(variants_app)[1] if source == f"{stack}/Open/SecurityGroup/Resource"
        ]
        assert [(r["CidrIp"], r["IpProtocol"]) for r in open_rules] == [("0.0.0.0/0", "-1")]


# What EC2 accepts in a security-group rule's description (EC2 API reference, IpRange.Description).
RULE_DESCRIPTION = re.compile(r"^[A-Za-z0-9. _\-:/()#,@\[\]+=&;{}!$*]{0,255}$")


def test_every_rule_description_is_one_ec2_accepts(checked_apps: list[CheckedApp]) -> None:
    for app in checked_apps:
        for rules in (ingress_rules(app)[1], egress_rules(app)[1]):
            for target, rule in rules:
                assert RULE_DESCRIPTION.match(rule.get("Description", "")), (app.label, target, rule)
        for name, stack in app.stacks():
            for kind in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
                for logical_id, rule in stack.resources(kind).items():
                    description = rule["Properties"].get("Description", "")
                    assert RULE_DESCRIPTION.match(description), (app.label, name, logical_id, description)
