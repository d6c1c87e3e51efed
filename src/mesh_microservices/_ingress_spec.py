"""What a MeshIngress is given, checked into a spec before any of its constructs exist.

Its routes (``IngressRoute``: a path prefix and, optionally, a host name, to a service of the
cluster), its certificate or plain HTTP on purpose, its access logs and where it lives; the
data plane then checks what it cannot do. Every problem is reported at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from aws_cdk import Duration, Stack, Token

from ._contract import IngressProxyOptions, IngressRouteSpec, IngressSpec, RoutedService
from ._deprecation import renamed
from ._placement import check_same_environment, depends_on, stack_of
from ._validate import (
    ValidationProblems,
    check_host_name,
    check_interface,
    check_path,
    check_service_name,
    check_type,
    kind_of,
)
from .cluster import MeshedCluster
from .options import IngressLoadBalancer, ListenerProtocol
from .service import APP_CONTAINER_NAME, MeshedService


@dataclass(frozen=True, kw_only=True)
class IngressRoute:
    """Requests the ingress sends to one service: a path prefix and, optionally, a host name.

    Routes are tried in the order given; the first that matches takes the request. On App Mesh
    the gateway rewrites the request's host name to the service's name (``web.shop.local``).

    Attributes:
        service: The MeshedService that receives the requests (HTTP, in the ingress's cluster).
        path_prefix: Requests whose path starts with this; must start with "/". Default: "/".
        hostname: Requests for exactly this host name, e.g. ``"shop.example.com"``.
            Default: any host name.
        strip_prefix: Whether the service sees the path with the matched prefix replaced by
            "/" (``/api/orders`` -> ``/orders`` for prefix ``/api/``) or unchanged. Default: the
            data plane's: True on App Mesh (App Mesh's own default); False on Service Connect,
            whose load balancer cannot rewrite paths and refuses True.
        name: A DNS label naming the route; it names the route's resources. Default: the
            service's name.
    """

    service: MeshedService
    path_prefix: str = "/"
    hostname: str | None = None
    strip_prefix: bool | None = None
    name: str | None = None

    @property
    def route_name(self) -> str:
        """The route's name: ``name``, or the service's name."""
        return self.name if self.name is not None else self.service.name

    def describe(self) -> str:
        """What the route matches, e.g. ``shop.example.com/api``."""
        return f"{self.hostname or ''}{self.path_prefix}"

    def _check(self, problems: ValidationProblems, where: str) -> bool:
        """Record what is wrong with the fields but ``service`` (the ingress checks it); return whether all are."""
        ordered = "the ingress matches it, in the order given, e.g. '/api/'"
        exact = "the ingress matches it exactly, e.g. 'shop.example.com'"
        host = self.hostname
        checks = [
            check_path(problems, f"{where}.path_prefix", self.path_prefix, prefix=True, literal=ordered),
            host is None
            or check_host_name(
                problems, f"{where}.hostname", host, example="shop.example.com", literal=exact, public=True
            ),
            self.strip_prefix is None or check_type(problems, f"{where}.strip_prefix", self.strip_prefix, bool),
        ]
        if self.name is not None:
            check_service_name(problems, f"{where}.name", self.name)
        return all(checks)


def check_ingress(
    id: str,
    stack: Stack,
    cluster: object,
    routes: object,
    load_balancer: object,
    certificate: object,
    allow_plain_http: object,
    access_logs: tuple[object, object],
    proxy: IngressProxyOptions,
    *,
    memory_mib: int | None = None,
) -> tuple[IngressSpec, tuple[IngressRoute, ...]]:
    """The checked declaration and routes; raises with every problem, the data plane's included.

    ``memory_mib`` is the deprecated name of ``proxy.memory_limit_mib``; the spec's proxy options
    hold the value given under either name.
    """
    problems = ValidationProblems(f"MeshIngress {id!r}")
    _, memory = renamed(
        problems, old="memory_mib", old_value=memory_mib, new="memory_limit_mib", new_value=proxy.memory_limit_mib
    )
    proxy = replace(proxy, memory_limit_mib=memory)
    cluster_ok = check_type(problems, "cluster", cluster, MeshedCluster)
    checked_routes = _check_routes(problems, routes, cluster)
    check_type(problems, "load_balancer", load_balancer, IngressLoadBalancer)
    _check_region(problems, stack)
    _check_certificate(problems, certificate, allow_plain_http, load_balancer)
    _check_access_logs(problems, *access_logs)
    spec = IngressSpec(
        name=id,
        stack=stack,
        cluster_stack=stack_of(cluster) if isinstance(cluster, MeshedCluster) else stack,
        routes=tuple(_route_spec(index, route) for index, route in checked_routes),
        load_balancer=load_balancer if isinstance(load_balancer, IngressLoadBalancer) else IngressLoadBalancer.ALB,
        proxy=proxy,
    )
    if cluster_ok:  # an invalid load_balancer is reported above; the data plane checks the routes as an ALB's
        assert isinstance(cluster, MeshedCluster)
        _check_cluster_stack(problems, cluster, stack)
        cluster._binding.check_ingress(problems, spec)
    problems.raise_if_any()
    return spec, tuple(route for _, route in checked_routes)


def _check_access_logs(problems: ValidationProblems, bucket: object, expiration: object) -> None:
    if bucket is not None:
        # Imported when used: every aws_cdk module loaded delays each synth's start.
        from aws_cdk import aws_s3 as s3

        check_interface(problems, "access_logs_bucket", bucket, s3.IBucket)
    if expiration is None or not check_type(problems, "access_logs_expiration", expiration, Duration):
        return
    assert isinstance(expiration, Duration)
    if bucket is not None:
        problems.add(
            f"access_logs_expiration={expiration.to_human_string()} is given with access_logs_bucket: the "
            "lifecycle of a bucket you pass is yours to set, and the ingress would ignore it. Remove "
            "access_logs_expiration, or set the expiration on your bucket's lifecycle rules."
        )
    elif not expiration.is_unresolved() and _not_whole_days(expiration.to_hours(integral=False)):
        problems.add(
            f"access_logs_expiration={expiration.to_human_string()} is not a whole number of days: S3 "
            "lifecycle rules expire objects after whole days. Pass e.g. Duration.days(365)."
        )


def _not_whole_days(hours: float) -> bool:
    return hours < 24 or hours % 24 != 0


def _route_spec(index: int, route: IngressRoute) -> IngressRouteSpec:
    """The data plane's view of a checked route."""
    service = route.service
    return IngressRouteSpec(
        where=f"routes[{index}]",
        name=route.route_name,
        path_prefix=route.path_prefix,
        hostname=route.hostname,
        strip_prefix=route.strip_prefix,
        service=RoutedService(
            name=service.name,
            dns_name=service.dns_name,
            port=service.port,
            health_check_path=service.health_check_path,
            stack=stack_of(service),
            service=service.service,
            container_name=APP_CONTAINER_NAME,
            meshing=service._meshing,
            add_target_group=service._add_target_group,
            rollout=service.rollout,
        ),
    )


def _check_certificate(
    problems: ValidationProblems, certificate: object, allow_plain_http: object, load_balancer: object
) -> None:
    """A certificate, or plain HTTP on purpose: the ingress fails closed."""
    if certificate is not None:
        # Imported when used: every aws_cdk module loaded delays each synth's start.
        from aws_cdk import aws_certificatemanager as acm

        check_interface(problems, "certificate", certificate, acm.ICertificate)
    if not check_type(problems, "allow_plain_http", allow_plain_http, bool):
        return
    network = load_balancer is IngressLoadBalancer.NLB
    if certificate is None and not allow_plain_http:
        served = "plain TCP on port 80" if network else "plain HTTP on port 80"
        secure = "terminate TLS on 443" if network else "serve HTTPS on 443 and redirect HTTP on 80 to it"
        problems.add(
            f"no certificate is given, so the load balancer would serve {served}. Pass certificate=<an ACM "
            f"certificate for your host names> to {secure}, or allow_plain_http=True to serve {served} on purpose."
        )
    elif certificate is not None and allow_plain_http:
        problems.add(
            "allow_plain_http=True is given with a certificate, which serves HTTPS (an NLB: TLS) on 443 and "
            "no plain HTTP (an ALB redirects it to HTTPS); drop allow_plain_http, or the certificate."
        )


def _check_cluster_stack(problems: ValidationProblems, cluster: MeshedCluster, stack: Stack) -> None:
    cluster_stack = stack_of(cluster)
    check_same_environment(problems, "scope", stack, cluster_stack, what=lambda: f"cluster {cluster.node.path!r}")
    if cluster_stack is not stack and depends_on(cluster_stack, stack):
        problems.add(
            f"cluster={cluster.node.path!r} lives in stack {cluster_stack.stack_name!r}, which deploys after the "
            f"ingress's stack {stack.stack_name!r}; the ingress needs the cluster's VPC first. Create the ingress "
            f"in stack {cluster_stack.stack_name!r} or in a stack that deploys after it."
        )


def _check_region(problems: ValidationProblems, stack: Stack) -> None:
    if Token.is_unresolved(stack.region):
        problems.add(
            f"stack {stack.node.path!r} has no region: the load balancer's access logs are delivered "
            "by its region's Elastic Load Balancing account, which must be known at synthesis. Give the "
            "stack a region, e.g. cdk.Stack(app, 'Edge', env=cdk.Environment(region='eu-west-1'))."
        )


def _check_routes(problems: ValidationProblems, routes: object, cluster: object) -> list[tuple[int, IngressRoute]]:
    """The valid routes with their positions; records what is wrong with each, and with the list."""
    if isinstance(routes, (str, bytes)) or not isinstance(routes, Sequence):
        problems.add(f"routes={routes!r} is not a list; pass a list of IngressRoute.", kind=TypeError)
        return []
    if not routes:
        problems.add(
            "routes is empty: an ingress that routes nowhere serves only 404s. Pass at least one, "
            "e.g. [IngressRoute(service=web)]."
        )
    valid: list[tuple[int, IngressRoute]] = []
    names: dict[str, int] = {}
    for index, route in enumerate(routes):
        where = f"routes[{index}]"
        if not check_type(problems, where, route, IngressRoute):
            continue
        assert isinstance(route, IngressRoute)
        checks = [_check_route_service(problems, where, route.service, cluster), route._check(problems, where)]
        if not all(checks):
            continue
        name = route.route_name
        if name in names:
            problems.add(
                f"{where} is named {name!r} like routes[{names[name]}]; give each route its own name "
                f"(IngressRoute(name=...)), e.g. {f'{name}-{index}'!r}."
            )
            continue
        names[name] = index
        valid.append((index, route))
    _check_reachable(problems, valid)
    return valid


def _check_route_service(problems: ValidationProblems, where: str, service: object, cluster: object) -> bool:
    if not isinstance(service, MeshedService):
        problems.add(
            f"{where}.service={service!r} is {kind_of(service)}; pass a MeshedService of the cluster.",
            kind=TypeError,
        )
        return False
    if isinstance(cluster, MeshedCluster) and service.cluster is not cluster:
        problems.add(
            f"{where}.service {service.name!r} runs in cluster {service.cluster.node.path!r}, not in "
            f"{cluster.node.path!r}; an ingress routes into its own cluster's mesh only. Pass "
            f"cluster={service.cluster.node.path!r}'s MeshedCluster, or give that cluster an ingress of its own."
        )
        return False
    if service.protocol is not ListenerProtocol.HTTP:
        problems.add(
            f"{where}.service {service.name!r} listens with {service.protocol.value}; the ingress routes "
            "HTTP requests to HTTP services only. Give that service a load balancer of its own "
            "(service.expose_to(load_balancer))."
        )
        return False
    return True


def _check_reachable(problems: ValidationProblems, valid: list[tuple[int, IngressRoute]]) -> None:
    """A route that an earlier one matches entirely would never receive a request."""
    for later_index, (later_position, later) in enumerate(valid):
        for earlier_position, earlier in valid[:later_index]:
            same_hosts = earlier.hostname is None or earlier.hostname == later.hostname
            if same_hosts and later.path_prefix.startswith(earlier.path_prefix):
                problems.add(
                    f"routes[{later_position}] ({later.describe()}) is never reached: "
                    f"routes[{earlier_position}] ({earlier.describe()}) comes first and matches all its "
                    "requests. List the more specific route first."
                )
                break
