"""Input checks of a service's traffic options that span several of them: versions, weights, routes.

Each option checks its own fields (``ServiceVersion._check``, ``RouteRule._check``, ...); what is
checked here needs the service's other options: the names the versions take, the weights they add
up to, and which versions a route may name.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._validate import ValidationProblems, check_option, check_service_name
from .options import PATH_PROTOCOLS, ListenerProtocol, RoutePolicy
from .traffic import MAX_WEIGHT, ConnectionPool, OutlierDetection, RouteRule, ServiceVersion, check_weight, is_weight

# What each list parameter holds, for messages.
_EXAMPLES = {"versions": "ServiceVersion(name='v2', image=..., weight=10)", "routes": "RouteRule(name='api', ...)"}


def check_traffic(
    problems: ValidationProblems,
    *,
    protocol: object,
    version: object,
    weight: object,
    versions: object,
    routes: object,
    outlier_detection: object,
    connection_pool: object,
) -> dict[str, int]:
    """Record what is wrong with the traffic options; return version name -> weight, primary first."""
    weights: dict[str, int] = {}
    check_service_name(problems, "version", version)
    if check_weight(problems, "weight", weight) and isinstance(version, str) and isinstance(weight, int):
        weights[version] = weight
    version_list = _as_list(problems, "versions", versions)
    if version_list is None:
        return weights
    for index, extra in enumerate(version_list):
        where = f"versions[{index}]"
        if not check_option(problems, where, extra, ServiceVersion):
            continue
        assert isinstance(extra, ServiceVersion)
        if extra.name in weights:
            problems.add(f"{where}.name={extra.name!r} is used twice; give each version its own name.")
        elif is_weight(extra.weight):
            weights[extra.name] = extra.weight
    _check_total(problems, "weight and versions[].weight", weights)
    if not version_list and isinstance(weight, int) and 0 < weight < MAX_WEIGHT:
        problems.add(
            f"weight={weight} has no effect without versions: the primary version serves every request. "
            "Drop weight=, or add versions=[ServiceVersion(...)] to split the traffic."
        )
    route_list = _as_list(problems, "routes", routes)
    if route_list is not None:
        _check_routes(problems, route_list, protocol, set(weights))
    if outlier_detection is not None:
        check_option(problems, "outlier_detection", outlier_detection, OutlierDetection)
    if connection_pool is not None:
        check_option(problems, "connection_pool", connection_pool, ConnectionPool)
    return weights


def check_route_policy(problems: ValidationProblems, parameter: str, policy: object, protocol: object) -> None:
    """A route policy: retries from 0, literal durations, and only what ``protocol`` has."""
    check_option(problems, parameter, policy, RoutePolicy, protocol=protocol)


def _check_routes(problems: ValidationProblems, routes: list[object], protocol: object, versions: set[str]) -> None:
    # A protocol of the wrong type is reported by its own check; the rules' fields are checked still.
    if routes and isinstance(protocol, ListenerProtocol) and protocol not in PATH_PROTOCOLS:
        problems.add(f"routes match HTTP paths and headers; protocol={protocol!r} has none. Drop routes= or use HTTP.")
        return
    names: set[str] = set()
    for index, rule in enumerate(routes):
        where = f"routes[{index}]"
        if not check_option(problems, where, rule, RouteRule, protocol=protocol):
            continue
        assert isinstance(rule, RouteRule)
        if rule.name in names:
            problems.add(f"{where}.name={rule.name!r} is used twice; give each route its own name.")
        names.add(rule.name)
        if isinstance(rule.weights, Mapping):
            _check_rule_weights(problems, where, dict(rule.weights), versions)


def _check_rule_weights(
    problems: ValidationProblems, where: str, weights: dict[str, object], versions: set[str]
) -> None:
    rule_weights: dict[str, int] = {}
    for target, target_weight in weights.items():
        if target not in versions:
            problems.add(
                f"{where}.weights names version {target!r}, which the service does not run; "
                f"name one of its versions: {', '.join(sorted(versions))}."
            )
        elif is_weight(target_weight):
            assert isinstance(target_weight, int)
            rule_weights[target] = target_weight
    _check_total(problems, f"{where}.weights", rule_weights)


def _check_total(problems: ValidationProblems, parameter: str, weights: dict[str, int]) -> None:
    if weights and sum(weights.values()) == 0:
        problems.add(f"{parameter} add up to 0: no request would be served; give at least one version a weight.")


def _as_list(problems: ValidationProblems, parameter: str, value: object) -> list[object] | None:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        problems.add(
            f"{parameter}={value!r} is not a list; pass a list, e.g. [{_EXAMPLES[parameter]}].", kind=TypeError
        )
        return None
    return list(value)
