"""Least privilege in every synthesized stack: scoped IAM, ports open to declared callers only, no public IPs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checked_apps import CheckedApp
from mesh_microservices._acknowledgments import AWS_MANAGED_POLICIES, UNSCOPABLE_ACTIONS
from service_ingress import ingress_rules, service_ingress_problems

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
