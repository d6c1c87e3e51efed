"""The ingress and egress rules of a synthesized app, named by construct paths so they compare across stacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from checked_apps import CheckedApp
from mesh_microservices import MeshedService

ANYWHERE = "0.0.0.0/0"
HTTPS_PORT = 443  # AWS APIs, App Mesh's and Service Connect's control planes
Rule = tuple[str, str, int, int, str]  # source group path, target group path, from port, to port, protocol


def _group_paths(app: CheckedApp) -> tuple[dict[tuple[str, str], str], Callable[[str, Any], str]]:
    """Construct paths by (stack, logical id), and how to name the group a rule references by its path."""
    paths: dict[tuple[str, str], str] = {}  # (stack, logical id) -> construct path
    exports: dict[str, str] = {}  # export name -> construct path of the exported resource
    for name, stack in app.stacks():
        for logical_id, resource in stack.json["Resources"].items():
            paths[(name, logical_id)] = resource.get("Metadata", {}).get("aws:cdk:path", f"{name}/{logical_id}")
    for name, stack in app.stacks():
        for output in stack.json.get("Outputs", {}).values():
            value, export = output.get("Value"), output.get("Export", {}).get("Name")
            if export and isinstance(value, dict) and "Fn::GetAtt" in value:
                exports[export] = paths[(name, value["Fn::GetAtt"][0])]

    def group(stack: str, reference: Any) -> str:
        assert isinstance(reference, dict), f"{stack}: ingress names group {reference!r}"
        if "Fn::GetAtt" in reference:
            return paths[(stack, reference["Fn::GetAtt"][0])]
        if "Ref" in reference:
            return paths[(stack, reference["Ref"])]
        return exports[reference["Fn::ImportValue"]]

    return paths, group


# Per direction: the standalone rule type, the group's inline rules, and the key naming the other group.
_DIRECTIONS = {
    "ingress": ("AWS::EC2::SecurityGroupIngress", "SecurityGroupIngress", "SourceSecurityGroupId"),
    "egress": ("AWS::EC2::SecurityGroupEgress", "SecurityGroupEgress", "DestinationSecurityGroupId"),
}


def _rules(app: CheckedApp, direction: str) -> tuple[set[Rule], list[tuple[str, dict[str, Any]]]]:
    """Every rule of one direction: (owner group path, other group path, ports, protocol) for rules to or from
    groups, and (owner group path, rule) for rules to or from CIDRs or prefix lists."""
    standalone, inline, other_key = _DIRECTIONS[direction]
    paths, group = _group_paths(app)
    group_rules: set[Rule] = set()
    cidr_rules: list[tuple[str, dict[str, Any]]] = []
    for name, stack in app.stacks():
        found = [
            (group(name, r["Properties"]["GroupId"]), r["Properties"]) for r in stack.resources(standalone).values()
        ]
        for logical_id, resource in stack.resources("AWS::EC2::SecurityGroup").items():
            found.extend((paths[(name, logical_id)], r) for r in resource["Properties"].get(inline, []))
        for owner, rule in found:
            if other_key in rule:
                other = group(name, rule[other_key])
                group_rules.add((owner, other, rule["FromPort"], rule["ToPort"], rule["IpProtocol"]))
            else:
                cidr_rules.append((owner, rule))
    return group_rules, cidr_rules


def ingress_rules(app: CheckedApp) -> tuple[set[Rule], list[tuple[str, dict[str, Any]]]]:
    """Every ingress rule of ``app``'s stacks by construct paths: from groups, and from CIDRs or prefix lists."""
    group_rules, cidr_rules = _rules(app, "ingress")
    return {(source, target, low, high, protocol) for target, source, low, high, protocol in group_rules}, cidr_rules


def service_ingress_problems(app: CheckedApp) -> list[str]:
    """How the ingress of ``app``'s services differs from what was declared.

    A service's port admits exactly the callers declared with ``connect_to``/``backends`` and
    the peers let in with ``expose_to``, on that port, from their security groups: no CIDR.
    """
    services = [c for c in app.app.node.find_all() if isinstance(c, MeshedService)]
    group_of = {s: f"{s.security_group.node.path}/Resource" for s in services}
    declared = {
        (group_of[caller], group_of[callee], callee.port, callee.port, "tcp")
        for caller in services
        for callee in caller.callees
    }
    exposed = {group_of[s]: (s.exposed_to, s.port) for s in services}
    group_rules, cidr_rules = ingress_rules(app)
    to_services = {rule for rule in group_rules if rule[1] in exposed}
    from_peers = {rule for rule in to_services if any(rule[0].startswith(f"{peer}/") for peer in exposed[rule[1]][0])}
    problems = [f"undeclared: {rule}" for rule in sorted(to_services - from_peers - declared)]
    problems += [f"missing: {rule}" for rule in sorted(declared - to_services)]
    problems += [
        f"peer on another port: {rule}"
        for rule in sorted(from_peers)
        if rule[2:] != (exposed[rule[1]][1], exposed[rule[1]][1], "tcp")
    ]
    problems += [f"{target} admits {rule}" for target, rule in cidr_rules if target in exposed]
    return problems


def egress_rules(app: CheckedApp) -> tuple[set[Rule], list[tuple[str, dict[str, Any]]]]:
    """Every egress rule of ``app``'s stacks: (source group path, destination group path, ...) for rules to
    groups, and (source group path, rule) for rules to CIDRs or prefix lists."""
    return _rules(app, "egress")


def service_egress_problems(app: CheckedApp, opened_by_application: frozenset[Rule] = frozenset()) -> list[str]:
    """How the egress of ``app``'s services differs from least privilege.

    A service that did not pass ``allow_all_outbound=True`` reaches exactly its declared callees'
    ports (their groups), the rules the application opened itself (``opened_by_application``,
    e.g. through ``service.connections.allow_to``) and TCP 443 anywhere (AWS APIs, the data
    plane's control plane); one that did has CDK's allow-all rule and no other.
    """
    services = [c for c in app.app.node.find_all() if isinstance(c, MeshedService)]
    group_of = {s: f"{s.security_group.node.path}/Resource" for s in services}
    strict = {group_of[s] for s in services if not s.allow_all_outbound}
    declared = {
        (group_of[caller], group_of[callee], callee.port, callee.port, "tcp")
        for caller in services
        for callee in caller.callees
        if group_of[caller] in strict
    }
    group_rules, cidr_rules = egress_rules(app)
    from_services = {rule for rule in group_rules if rule[0] in group_of.values()}
    problems = [f"undeclared: {rule}" for rule in sorted(from_services - declared - opened_by_application)]
    problems += [f"missing: {rule}" for rule in sorted(declared - from_services)]
    https = {"CidrIp": ANYWHERE, "IpProtocol": "tcp", "FromPort": HTTPS_PORT, "ToPort": HTTPS_PORT}
    everything = {"CidrIp": ANYWHERE, "IpProtocol": "-1"}
    for service in services:
        source = group_of[service]
        to_cidrs = [{k: v for k, v in rule.items() if k != "Description"} for s, rule in cidr_rules if s == source]
        expected = [https] if source in strict else [everything]
        if to_cidrs != expected:
            problems.append(f"{source} reaches {to_cidrs}, expected {expected}")
    return problems
