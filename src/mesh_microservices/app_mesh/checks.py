"""What App Mesh would accept in a service's declaration and then never use: refused with the fix."""

from __future__ import annotations

from collections.abc import Iterator

from .._contract import ServiceSpec
from .._durations import milliseconds
from .._validate import ValidationProblems
from ..options import DiscoveryMode, ListenerProtocol, RoutePolicy
from ..traffic import ConnectionPool, RouteRule

# The ConnectionPool fields each listener protocol has; App Mesh ignores the others.
_POOL_FIELDS: dict[ListenerProtocol, tuple[str, ...]] = {
    ListenerProtocol.HTTP: ("max_connections", "max_pending_requests"),
    ListenerProtocol.HTTP2: ("max_requests",),
    ListenerProtocol.GRPC: ("max_requests",),
    ListenerProtocol.TCP: ("max_connections",),
}


def check_unused_options(problems: ValidationProblems, spec: ServiceSpec) -> None:
    """Record every option of ``spec`` that App Mesh would not apply."""
    _check_connection_pool(problems, spec)
    if spec.outlier_detection is not None and spec.discovery._mode is DiscoveryMode.DNS:
        problems.add(
            "outlier_detection is not applied with discovery=Discovery.dns(): App Mesh ejects hosts only when it "
            "discovers them through Cloud Map. Drop discovery= (Cloud Map is the default), or drop "
            "outlier_detection."
        )
    _check_per_retry_timeouts(problems, spec)
    _check_route_order(problems, spec.routes)
    _check_rollout(problems, spec)
    _check_scaling(problems, spec)


def _check_rollout(problems: ValidationProblems, spec: ServiceSpec) -> None:
    """ECS's rollouts shift Service Connect and load balancer traffic, never App Mesh's routes."""
    rollout = spec.rollout
    if rollout.has_test_phase:
        problems.add(
            f"rollout={rollout!r}: ECS-managed rollouts do not shift App Mesh traffic (callers' Envoys route by "
            "the virtual router's weights, which ECS does not change), so the new revision would get its share "
            "of requests at once. On DataPlane.app_mesh() release with versions=[ServiceVersion(name='v2', "
            "image=..., weight=10)] and raise the weight; or move the cluster to DataPlane.service_connect(), "
            "where this rollout shifts traffic."
        )
    elif not rollout.is_default:
        problems.add(
            f"rollout={rollout!r}: the library applies a rollout's alarms, lifecycle hooks and "
            "rollback_on_alarm on DataPlane.service_connect() only. On DataPlane.app_mesh() use "
            "Rollout.rolling() (ECS's rolling update, rolled back by its circuit breaker), or move the cluster "
            "to DataPlane.service_connect()."
        )


def _check_connection_pool(problems: ValidationProblems, spec: ServiceSpec) -> None:
    pool = spec.connection_pool
    if pool is None:
        return
    used, default = _POOL_FIELDS[spec.protocol], ConnectionPool()
    for field_name in ("max_connections", "max_pending_requests", "max_requests"):
        value = getattr(pool, field_name)
        if field_name not in used and value != getattr(default, field_name):
            problems.add(
                f"connection_pool.{field_name}={value} is not used by {spec.protocol.name} listeners, which "
                f"limit {' and '.join(used)} only; drop {field_name}."
            )


def _policies(spec: ServiceSpec) -> Iterator[tuple[str, RoutePolicy]]:
    yield "route_policy", spec.route_policy
    for index, rule in enumerate(spec.routes):
        if rule.policy is not None:
            yield f"routes[{index}].policy", rule.policy


def _check_per_retry_timeouts(problems: ValidationProblems, spec: ServiceSpec) -> None:
    """A per-retry timeout longer than the request's never fires: the request times out first."""
    if spec.protocol is ListenerProtocol.TCP:
        return  # TCP policies keep their retry defaults, which no TCP route uses
    default = milliseconds(RoutePolicy().per_retry_timeout)
    for parameter, policy in _policies(spec):
        per_retry, request = policy.per_retry_timeout, policy.request_timeout
        if milliseconds(per_retry) != default and milliseconds(per_retry) > milliseconds(request):
            problems.add(
                f"{parameter}.per_retry_timeout={per_retry.to_human_string()} is longer than "
                f"{parameter}.request_timeout={request.to_human_string()}: no attempt can outlast the request, "
                "so the per-retry timeout never applies. Make per_retry_timeout shorter than request_timeout, "
                "or raise request_timeout."
            )


def _check_route_order(problems: ValidationProblems, routes: tuple[RouteRule, ...]) -> None:
    """Rules are tried in order, before the default route: one an earlier rule covers never serves."""
    for index, rule in enumerate(routes):
        if rule.path_prefix == "/" and not rule.headers:
            problems.add(
                f"routes[{index}] ({rule.name!r}) matches every request (path_prefix '/' and no headers), so "
                "the default route (weight, the versions' weights, route_policy) and any rule after it never "
                "serve one. Give the rule a narrower path_prefix or headers, or set weight, versions and "
                "route_policy on the service instead."
            )
            return
        for earlier_index, earlier in enumerate(routes[:index]):
            if _covers(earlier, rule):
                problems.add(
                    f"routes[{index}] ({rule.name!r}) is never reached: routes[{earlier_index}] "
                    f"({earlier.name!r}) comes first and matches all its requests. List the more specific "
                    "rule first."
                )
                break


def _covers(earlier: RouteRule, later: RouteRule) -> bool:
    """Whether every request ``later`` matches also matches ``earlier`` (prefix and exact headers)."""
    later_headers = dict(later.headers)
    same_headers = all(later_headers.get(name) == value for name, value in earlier.headers.items())
    return later.path_prefix.startswith(earlier.path_prefix) and same_headers


def _check_scaling(problems: ValidationProblems, spec: ServiceSpec) -> None:
    """The load balancer in front of an App Mesh service counts requests to the gateway, not to its tasks."""
    if spec.scaling is None or spec.scaling.requests_per_target is None:
        return
    problems.add(
        f"scaling.requests_per_target={spec.scaling.requests_per_target}: on DataPlane.app_mesh() the load "
        "balancer's targets are the ingress gateway's tasks, not this service's, so no load balancer counts "
        "requests per task of the service. Scale on cpu_percent or memory_percent instead, or move the service "
        "to DataPlane.service_connect(), where a MeshIngress forwards to the service's own tasks."
    )
