"""Input checks of a service's traffic options: versions, weights, route rules, pools."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs

from ._validate import ValidationProblems, check_positive, check_service_name, check_type, refuse_token
from .options import PATH_PROTOCOLS, ListenerProtocol, RoutePolicy
from .traffic import ConnectionPool, OutlierDetection, RouteRule, ServiceVersion

MAX_WEIGHT = 100  # App Mesh's largest weighted-target weight
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
    if _check_weight(problems, "weight", weight) and isinstance(version, str) and isinstance(weight, int):
        weights[version] = weight
    version_list = _as_list(problems, "versions", versions)
    if version_list is None:
        return weights
    for index, extra in enumerate(version_list):
        where = f"versions[{index}]"
        if not isinstance(extra, ServiceVersion):
            check_type(problems, where, extra, ServiceVersion)
            continue
        check_service_name(problems, f"{where}.name", extra.name)
        check_type(problems, f"{where}.image", extra.image, ecs.ContainerImage)
        if extra.desired_count is not None:
            check_positive(problems, f"{where}.desired_count", extra.desired_count, minimum=0)
        if extra.name in weights:
            problems.add(f"{where}.name={extra.name!r} is used twice; give each version its own name.")
        elif _check_weight(problems, f"{where}.weight", extra.weight):
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
    if outlier_detection is not None and check_type(problems, "outlier_detection", outlier_detection, OutlierDetection):
        assert isinstance(outlier_detection, OutlierDetection)
        check_positive(problems, "outlier_detection.max_server_errors", outlier_detection.max_server_errors)
        check_type(problems, "outlier_detection.interval", outlier_detection.interval, Duration)
        check_type(
            problems, "outlier_detection.base_ejection_duration", outlier_detection.base_ejection_duration, Duration
        )
        if not 0 <= outlier_detection.max_ejection_percent <= 100:
            problems.add(
                f"outlier_detection.max_ejection_percent={outlier_detection.max_ejection_percent} is not from 0 to "
                "100; pass a share of the tasks, e.g. 50."
            )
    if connection_pool is not None and check_type(problems, "connection_pool", connection_pool, ConnectionPool):
        assert isinstance(connection_pool, ConnectionPool)
        for field_name in ("max_connections", "max_pending_requests", "max_requests"):
            check_positive(problems, f"connection_pool.{field_name}", getattr(connection_pool, field_name))
    return weights


def _check_routes(problems: ValidationProblems, routes: list[object], protocol: object, versions: set[str]) -> None:
    if routes and protocol not in PATH_PROTOCOLS:
        problems.add(f"routes match HTTP paths and headers; protocol={protocol!r} has none. Drop routes= or use HTTP.")
        return
    names: set[str] = set()
    for index, rule in enumerate(routes):
        where = f"routes[{index}]"
        if not check_type(problems, where, rule, RouteRule):
            continue
        assert isinstance(rule, RouteRule)
        check_service_name(problems, f"{where}.name", rule.name)
        if rule.name in names:
            problems.add(f"{where}.name={rule.name!r} is used twice; give each route its own name.")
        names.add(rule.name)
        if not isinstance(rule.path_prefix, str) or not rule.path_prefix.startswith("/"):
            problems.add(f"{where}.path_prefix={rule.path_prefix!r} must start with '/', e.g. '/api'.")
        if not isinstance(rule.headers, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in rule.headers.items()
        ):
            problems.add(
                f"{where}.headers={rule.headers!r}: pass a dict of header name to exact value.", kind=TypeError
            )
        if rule.weights is not None:
            rule_weights: dict[str, int] = {}
            for target, target_weight in dict(rule.weights).items():
                if target not in versions:
                    problems.add(
                        f"{where}.weights names version {target!r}, which the service does not run; "
                        f"name one of its versions: {', '.join(sorted(versions))}."
                    )
                elif _check_weight(problems, f"{where}.weights[{target!r}]", target_weight):
                    rule_weights[target] = target_weight
            _check_total(problems, f"{where}.weights", rule_weights)
        if rule.policy is not None:
            check_route_policy(problems, f"{where}.policy", rule.policy, protocol)


def check_route_policy(problems: ValidationProblems, parameter: str, policy: object, protocol: object) -> None:
    """A route policy: retries from 0, literal durations, and only what ``protocol`` has."""
    if not isinstance(policy, RoutePolicy):
        check_type(problems, parameter, policy, RoutePolicy)
        return
    retries_ok = check_positive(problems, f"{parameter}.retry_attempts", policy.retry_attempts, minimum=0)
    durations = {
        "per_retry_timeout": policy.per_retry_timeout,
        "request_timeout": policy.request_timeout,
        **({"idle_timeout": policy.idle_timeout} if policy.idle_timeout is not None else {}),
    }
    durations_ok = True
    for field_name, value in durations.items():
        if not check_type(problems, f"{parameter}.{field_name}", value, Duration):
            durations_ok = False
        elif value.is_unresolved():
            problems.add(
                f"{parameter}.{field_name} must be a literal Duration, not a token: the listener and idle "
                "timeouts are derived from it at synthesis. Pass e.g. Duration.seconds(15)."
            )
            durations_ok = False
    if not (retries_ok and durations_ok):
        return
    if protocol is ListenerProtocol.TCP:
        _check_tcp_policy(problems, parameter, policy)
    elif policy.idle_timeout is not None and _millis(policy.idle_timeout) < _millis(policy.request_timeout):
        idle, request = policy.idle_timeout.to_human_string(), policy.request_timeout.to_human_string()
        problems.add(
            f"{parameter}.idle_timeout={idle} is shorter than {parameter}.request_timeout={request}: the proxy "
            f"would close the connection when idle_timeout is reached, before the request may end. Make "
            f"idle_timeout at least {request}, or leave it out (default: 5 minutes, or request_timeout when "
            "that is longer)."
        )


def _check_tcp_policy(problems: ValidationProblems, parameter: str, policy: RoutePolicy) -> None:
    """TCP carries no requests: only the idle timeout applies."""
    default = RoutePolicy()
    given = [
        f"{field_name}={_describe(value)}"
        for field_name, value, default_value in (
            ("retry_attempts", policy.retry_attempts, default.retry_attempts),
            ("per_retry_timeout", policy.per_retry_timeout, default.per_retry_timeout),
            ("request_timeout", policy.request_timeout, default.request_timeout),
        )
        if _describe(value) != _describe(default_value)
    ]
    if given:
        problems.add(
            f"{parameter}: {', '.join(given)} cannot apply to protocol=TCP, which carries no requests: TCP routes "
            "have no retry policy and no per-request timeout. Leave retry_attempts, per_retry_timeout and "
            "request_timeout at their defaults, and bound idle connections with idle_timeout instead "
            "(default: 1 hour)."
        )


def _millis(duration: Duration) -> float:
    return duration.to_milliseconds()


def _describe(value: object) -> str:
    return value.to_human_string() if isinstance(value, Duration) else repr(value)


def _check_weight(problems: ValidationProblems, parameter: str, weight: object) -> bool:
    if not check_type(problems, parameter, weight, int):
        return False
    if refuse_token(problems, parameter, weight, "the versions' shares of traffic are checked and split at synthesis"):
        return False
    assert isinstance(weight, int)
    if not 0 <= weight <= MAX_WEIGHT:
        problems.add(f"{parameter}={weight} is not from 0 to {MAX_WEIGHT}; pass a share of the traffic, e.g. 10.")
        return False
    return True


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
