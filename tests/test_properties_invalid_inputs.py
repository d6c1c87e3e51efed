"""Property: any invalid input raises ValueError/TypeError naming the parameter, and builds nothing.

Hypothesis draws one to three bad arguments at a time from each parameter's own strategy (bad
DNS names, ports, task sizes, image tags, counts, wrong types). Whatever it draws, the
construct must refuse it before any jsii call: no jsii RuntimeError, no construct left behind
in the tree, no service registered in the cluster. The worlds the refusals are tried in are
locked (``node.lock()``), so a refusal that built any construct fails with jsii's "Cannot add
children" error, at no cost per example. The examples are derandomized, so every run
tries the same inputs; how many ran is printed in the "gate counts" summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ENV, NGINX
from gate_counts import count
from mesh_microservices import (
    DataPlane,
    Discovery,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    Rollout,
    RoutePolicy,
    RouteRule,
    Scaling,
    ServiceRepository,
    ServiceStacks,
    ServiceVersion,
)
from mesh_microservices._validate import FARGATE_TASK_SIZES, RESERVED_ENVIRONMENT_NAMES, RESERVED_ENVIRONMENT_PREFIXES
from mesh_microservices.app_mesh.envoy import reserved_ports
from mesh_microservices.rollout import CANARY_MIN_PERCENT, LINEAR_MIN_PERCENT, MAX_BAKE_MINUTES, MAX_PERCENT
from refusals import assert_refused

# Derandomized: CI tries the same inputs on every run, and a failure reproduces.
SETTINGS = settings(derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SERVICE_EXAMPLES = 800
CLUSTER_EXAMPLES = 400
REPOSITORY_EXAMPLES = 400
TAG_EXAMPLES = 300
ROLLOUT_EXAMPLES = 300
STACKS_EXAMPLES = 300

DNS_LABEL = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
DNS_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
ECR_NAME = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
MAX_SAFE_INTEGER = 2**53 - 1  # larger counts lose precision on their way through jsii
STACK_NAME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,123}")  # CloudFormation's stack names, room for the number
PRIVATE_CA_ARN = re.compile(r"arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority/.+")
# Tokens, as a CfnParameter's value would be: only known at deployment.
NUMBER_TOKEN = cdk.Token.as_number(cdk.Aws.ACCOUNT_ID)
STRING_TOKEN = cdk.Aws.STACK_NAME
WORLD_VPC = object()  # stands for the world cluster's VPC, which a strategy cannot hold


@dataclass(frozen=True)
class Bad:
    """One invalid argument: which parameter, its value, and the exception it must raise."""

    parameter: str
    value: Any
    error: type[Exception]
    names: tuple[str, ...] = ()  # what the message must name; default: the parameter
    extra: tuple[tuple[str, Any], ...] = ()  # arguments that go with it (memory_limit_mib with cpu)

    @property
    def named(self) -> tuple[str, ...]:
        return self.names or (self.parameter,)

    def arguments(self) -> dict[str, Any]:
        return {self.parameter: self.value, **dict(self.extra)}


def wrong_type(parameter: str, *values: Any, none: bool = False, integer: bool = False) -> st.SearchStrategy[Bad]:
    """Values of the wrong type: common mistakes and arbitrary objects.

    ``none``: None is wrong too (it is no default); ``integer``: the parameter takes an int, so ints are right.
    """
    others = st.one_of(
        st.booleans() if integer else st.integers(),
        st.floats(),
        st.binary(max_size=4),
        st.lists(st.integers(), min_size=1, max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=1),
        st.sampled_from(values or (object(),)),
        *([st.none()] if none else []),
    )
    return others.map(lambda value: Bad(parameter, value, TypeError))


def bad_text(parameter: str, valid: re.Pattern[str], *extra: str) -> st.SearchStrategy[Bad]:
    """Strings that do not fully match ``valid``: arbitrary text, and valid text with a trailing newline."""
    text = st.one_of(
        st.text(max_size=70).filter(lambda s: not valid.fullmatch(s)),
        st.from_regex(valid, fullmatch=True).map(lambda s: s + "\n"),
        st.sampled_from(extra or ("",)).filter(lambda s: not valid.fullmatch(s)),
    )
    return text.map(lambda value: Bad(parameter, value, ValueError))


def bad_count(parameter: str, minimum: int = 1) -> st.SearchStrategy[Bad]:
    values = st.one_of(st.integers(max_value=minimum - 1), st.integers(min_value=MAX_SAFE_INTEGER + 1))
    return st.one_of(
        values.map(lambda v: Bad(parameter, v, ValueError)), wrong_type(parameter, "3", 2.0, none=True, integer=True)
    )


def bad_port() -> st.SearchStrategy[Bad]:
    out_of_range = st.one_of(st.integers(max_value=0), st.integers(min_value=65536))
    return st.one_of(
        st.one_of(out_of_range, st.sampled_from(sorted(reserved_ports()))).map(lambda v: Bad("port", v, ValueError)),
        wrong_type("port", "8080", 8080.0, none=True, integer=True),
    )


def bad_task_size() -> st.SearchStrategy[Bad]:
    # A pair Fargate does not offer: the message names cpu, and memory_limit_mib when cpu itself is valid.
    pairs = st.tuples(st.integers(), st.integers()).filter(lambda p: p[1] not in FARGATE_TASK_SIZES.get(p[0], ()))
    return st.one_of(
        pairs.map(lambda p: Bad("cpu", p[0], ValueError, extra=(("memory_limit_mib", p[1]),))),
        wrong_type("cpu", "256", none=True, integer=True),
        # None is memory_limit_mib's default: the task gets 512 MiB.
        wrong_type("memory_limit_mib", "512", 512.0, integer=True),
    )


def bad_path() -> st.SearchStrategy[Bad]:
    no_slash = st.text(max_size=20).filter(lambda s: not s.startswith("/"))
    invisible = (
        st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=10)
        .filter(lambda s: any(not ("!" <= ch <= "~") for ch in s))
        .map(lambda s: "/" + s)
    )
    return st.one_of(
        st.one_of(no_slash, invisible).map(lambda v: Bad("health_check_path", v, ValueError)),
        wrong_type("health_check_path", b"/health"),  # None is the default
    )


# What an ALB path-pattern condition matches literally (Elastic Load Balancing API, RuleCondition), the
# stricter of a route prefix's consumers: A-Z, a-z, 0-9 and _ - . $ / ~ " ' @ : + &.
ALB_LITERAL_PREFIX = re.compile(r"/[A-Za-z0-9_\-.$/~\"'@:+&]*")


def bad_prefix() -> st.SearchStrategy[Bad]:
    """A route rule whose path prefix a load balancer's path pattern or App Mesh would not match literally."""
    text = st.one_of(st.text(max_size=20), st.text(max_size=10).map(lambda s: "/" + s)).filter(
        lambda s: not ALB_LITERAL_PREFIX.fullmatch(s)
    )
    return st.one_of(
        text.map(
            lambda v: Bad("routes", [RouteRule(name="beta", path_prefix=v)], ValueError, ("routes[0].path_prefix",))
        ),
        st.sampled_from([7, b"/api", None]).map(
            lambda v: Bad("routes", [RouteRule(name="beta", path_prefix=v)], TypeError, ("routes[0].path_prefix",))
        ),
    )


def _valid_percent(percent: float, minimum: float) -> bool:
    # ECS's rule as aws-cdk-lib checks it: minimum to 100, a whole number of tenths.
    return minimum <= percent <= MAX_PERCENT and float(percent * 10).is_integer()


def bad_percents(minimum: float) -> st.SearchStrategy[float]:
    numbers = st.one_of(
        st.floats(min_value=-1e6, max_value=1e6),
        st.sampled_from([float("nan"), float("inf"), float("-inf")]),
        st.integers(min_value=-1000, max_value=1000),
    )
    return numbers.filter(lambda p: not _valid_percent(p, minimum))


def bad_bakes() -> st.SearchStrategy[Duration]:
    return st.one_of(
        st.integers(min_value=MAX_BAKE_MINUTES + 1, max_value=10**6).map(Duration.minutes),
        st.integers(min_value=1, max_value=10**6).filter(lambda s: s % 60 != 0).map(Duration.seconds),
    )


def rollout_bad(field: str, build: Callable[[Any], Rollout], values: st.SearchStrategy[Any], error: type) -> Any:
    """A rollout ``build`` makes with a bad value; the message must name ``rollout.<field>``."""
    return values.map(lambda v: Bad("rollout", build(v), error, (f"rollout.{field}",)))


HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
NOT_A_NUMBER = st.sampled_from(["10", None, b"1", [10], True, Duration.minutes(1)])
NOT_A_DURATION = st.one_of(st.integers(), st.floats(allow_nan=False), st.sampled_from(["30m", None]))
NOT_A_LIST = st.one_of(st.integers(), st.text(max_size=3), st.none())


def bad_rollout() -> st.SearchStrategy[Bad]:
    """One rollout outside ECS's limits, of a wrong type, or with a test header that cannot work."""
    return st.one_of(
        rollout_bad("percent", lambda p: Rollout.canary(percent=p), bad_percents(CANARY_MIN_PERCENT), ValueError),
        rollout_bad("percent", lambda p: Rollout.linear(percent=p), bad_percents(LINEAR_MIN_PERCENT), ValueError),
        rollout_bad("bake", lambda d: Rollout.canary(bake=d), bad_bakes(), ValueError),
        rollout_bad("bake", lambda d: Rollout.blue_green(bake=d), bad_bakes(), ValueError),
        rollout_bad("interval", lambda d: Rollout.linear(interval=d), bad_bakes(), ValueError),
        rollout_bad("final_bake", lambda d: Rollout.canary(final_bake=d), bad_bakes(), ValueError),
        rollout_bad(
            "test_header",
            lambda n: Rollout.canary(test_header=(n, "true")),
            st.text(max_size=12).filter(lambda n: not HEADER_NAME.fullmatch(n)),
            ValueError,
        ),
        rollout_bad(
            "test_header",
            lambda v: Rollout.blue_green(test_header=("x-canary", v)),
            st.text(max_size=12).filter(lambda v: not HEADER_VALUE.fullmatch(v)),
            ValueError,
        ),
        rollout_bad(
            "test_header",
            lambda h: Rollout.rolling(test_header=h),
            st.tuples(st.from_regex(HEADER_NAME, fullmatch=True), st.from_regex(HEADER_VALUE, fullmatch=True)),
            ValueError,
        ),  # a rolling update has no test phase
        rollout_bad("percent", lambda p: Rollout.canary(percent=p), NOT_A_NUMBER, TypeError),
        rollout_bad("bake", lambda d: Rollout.blue_green(bake=d), NOT_A_DURATION, TypeError),
        rollout_bad("interval", lambda d: Rollout.linear(interval=d), NOT_A_DURATION, TypeError),
        rollout_bad(
            "test_header",
            lambda h: Rollout.canary(test_header=h),
            st.one_of(st.integers(), st.text(max_size=3), st.lists(st.text(max_size=3), max_size=3)),
            TypeError,
        ),  # None is the default
        rollout_bad("alarms", lambda a: Rollout.canary(alarms=a), NOT_A_LIST, TypeError),
        rollout_bad(
            "alarms", lambda a: Rollout.linear(alarms=[a]), st.one_of(st.integers(), st.text(max_size=3)), TypeError
        ),
        rollout_bad("lifecycle_hooks", lambda h: Rollout.blue_green(lifecycle_hooks=h), NOT_A_LIST, TypeError),
        rollout_bad(
            "lifecycle_hooks", lambda h: Rollout.canary(lifecycle_hooks=[h]), st.sampled_from(["hook", 1]), TypeError
        ),
        rollout_bad("rollback_on_alarm", lambda r: Rollout.canary(rollback_on_alarm=r), NOT_A_LIST, TypeError),
        wrong_type("rollout", "canary", Rollout),
    )


def reserved_name() -> st.SearchStrategy[str]:
    """A name ECS, Fargate or App Mesh set themselves: a reserved name, or a reserved prefix and anything."""
    suffixes = st.text(st.characters(min_codepoint=ord("A"), max_codepoint=ord("Z")), max_size=12)
    prefixed = st.tuples(st.sampled_from(RESERVED_ENVIRONMENT_PREFIXES), suffixes).map("".join)
    return st.one_of(st.sampled_from(sorted(RESERVED_ENVIRONMENT_NAMES)), prefixed)


@cache
def secret() -> ecs.Secret:
    """A secret of a throwaway stack: refused inputs never reach it."""
    from aws_cdk import aws_ssm as ssm

    stack = cdk.Stack(cdk.App(), "Secrets")
    return ecs.Secret.from_ssm_parameter(ssm.StringParameter.from_string_parameter_name(stack, "P", "/shop/secret"))


def bad_environment() -> st.SearchStrategy[Bad]:
    """Reserved names, in the service's variables or a version's, and a name both plain and secret."""
    env_name = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True).filter(
        lambda n: not n.startswith(("ECS_", "APPMESH_", "AWS_"))
    )
    return st.one_of(
        reserved_name().map(lambda n: Bad("environment", {n: "x"}, ValueError)),
        reserved_name().map(lambda n: Bad("secrets", {n: secret()}, ValueError)),
        reserved_name().map(
            lambda n: Bad(
                "versions",
                [
                    ServiceVersion(
                        name="v2", image=ecs.ContainerImage.from_registry(NGINX), weight=10, environment={n: "x"}
                    )
                ],
                ValueError,
                ("versions[0].environment",),
                extra=(("weight", 90),),
            )
        ),
        env_name.map(
            lambda n: Bad(
                "environment", {n: "x"}, ValueError, ("environment", "secrets"), extra=(("secrets", {n: secret()}),)
            )
        ),
    )


def service_arguments() -> st.SearchStrategy[Bad]:
    """One bad argument of MeshedService."""
    return st.one_of(
        st.one_of(
            bad_text("name", DNS_LABEL, "Orders", "orders.v2", "a" * 64, "orders-"),
            st.just(Bad("name", "orders", ValueError)),  # taken by the world's service
            wrong_type("name", b"orders", none=True),
        ),
        bad_port(),
        st.just(Bad("port", NUMBER_TOKEN, ValueError)),  # the data plane derives its listeners from it
        st.just(Bad("name", STRING_TOKEN, ValueError)),  # names resources and the DNS name callers dial
        st.just(Bad("weight", NUMBER_TOKEN, ValueError)),  # the versions' split is checked at synthesis
        bad_environment(),
        bad_task_size(),
        bad_count("desired_count", minimum=0),  # 0: created without tasks, for a first deploy
        bad_path(),
        bad_prefix(),
        wrong_type("image", "nginx:latest", NGINX, none=True),
        wrong_type("protocol", "http", "grpc", none=True),
        wrong_type("environment", "A=1", [("A", "1")]),
        st.dictionaries(
            st.text(max_size=5), st.one_of(st.integers(), st.none(), st.binary(max_size=2)), min_size=1, max_size=2
        ).map(lambda v: Bad("environment", v, TypeError)),
        st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.integers()), min_size=1, max_size=2).map(
            lambda v: Bad("secrets", v, TypeError)
        ),
        wrong_type("secrets", "DB_PASSWORD"),
        wrong_type("discovery", "dns", Discovery),
        st.integers(max_value=-1).map(
            lambda v: Bad("route_policy", RoutePolicy(retry_attempts=v), ValueError, ("route_policy.retry_attempts",))
        ),
        wrong_type("route_policy", {"retry_attempts": 2}),
        st.one_of(st.text(max_size=10), st.integers(), st.none()).map(lambda v: Bad("backends", v, TypeError)),
        st.lists(st.one_of(st.integers(), st.none(), st.floats()), min_size=1, max_size=2).map(
            lambda v: Bad("backends", v, TypeError)
        ),
        st.lists(st.from_regex(DNS_LABEL, fullmatch=True).filter(lambda n: n != "orders"), min_size=1, max_size=2).map(
            lambda v: Bad("backends", v, ValueError)
        ),  # names of services that do not exist
        bad_rollout(),
        wrong_type("log_retention", 30, "ONE_MONTH", none=True),
        wrong_type("removal_policy", "retain", "RETAIN", none=True),
        bad_scaling(),
    )


def bad_scaling() -> st.SearchStrategy[Bad]:
    """A Scaling of the wrong type, or one whose bounds leave out the desired count.

    (The data plane's refusals, such as requests per target on App Mesh, come after the other
    checks pass: tests/test_scaling.py has them.)
    """
    return st.one_of(
        wrong_type("scaling", {"max_tasks": 4}, "cpu"),
        st.integers(min_value=3, max_value=1000).map(
            lambda v: Bad("scaling", Scaling(min_tasks=v, max_tasks=v, cpu_percent=50), ValueError, ("desired_count",))
        ),
    )


def distinct(bad: list[Bad]) -> bool:
    """No parameter is given twice (cpu brings memory_limit_mib along)."""
    names = [name for b in bad for name in b.arguments()]
    return len(names) == len(set(names))


@dataclass
class World:
    """A stack with one cluster, one service and one repository; invalid inputs must not change it."""

    app: cdk.App
    stack: cdk.Stack
    cluster: MeshedCluster
    repository: ServiceRepository
    image: ecs.ContainerImage

    def locked(self) -> World:
        """This world, where adding any construct raises (constructs' own lock, as during synthesis)."""
        self.app.node.lock()
        return self


@cache
def world() -> World:
    return new_world().locked()


@cache
def connect_world() -> World:
    """The same world on Service Connect, where rollouts apply."""
    return new_world(DataPlane.service_connect()).locked()


def new_world(data_plane: DataPlane | None = None) -> World:
    app = cdk.App()
    stack = cdk.Stack(app, "Invalid", env=ENV)
    data_plane = data_plane or DataPlane.app_mesh()
    cluster = MeshedCluster(stack, "Cluster", namespace="shop.local", data_plane=data_plane)
    image = ecs.ContainerImage.from_registry(NGINX)
    MeshedService(stack, "Orders", cluster=cluster, name="orders", image=image)
    return World(app, stack, cluster, ServiceRepository(stack, "Repo"), image)


def assert_refuses(label: str, build: Callable[[], object], bad: list[Bad], world_of: Any = world) -> None:
    """``build`` must raise the error ``bad`` calls for, naming each parameter, and create nothing.

    ``world_of`` is the cached world ``build`` uses (``world`` or ``connect_world``): locked, so
    creating any construct fails the refusal.
    """
    w = world_of()
    expected = TypeError if any(b.error is TypeError for b in bad) else ValueError
    try:
        message = assert_refused(build, error=expected, unchanged=lambda: list(w.cluster.services), label=label)
    except BaseException:
        world_of.cache_clear()  # the next example gets an untouched world
        raise
    for b in bad:
        for name in b.named:
            assert re.search(rf"(?<![\w.]){re.escape(name)}\b", message), f"{name} not named in: {message}"


@settings(SETTINGS, max_examples=SERVICE_EXAMPLES)
@given(st.lists(service_arguments(), min_size=1, max_size=3).filter(distinct))
def test_invalid_service_arguments_are_refused(bad: list[Bad]) -> None:
    w = world()
    arguments: dict[str, Any] = {"cluster": w.cluster, "name": "payments", "image": w.image}
    for b in bad:
        arguments.update(b.arguments())
    count("invalid inputs tried: MeshedService")
    assert_refuses("MeshedService 'Candidate'", lambda: MeshedService(w.stack, "Candidate", **arguments), bad)


@settings(SETTINGS, max_examples=ROLLOUT_EXAMPLES)
@given(
    st.lists(st.one_of(bad_rollout(), bad_count("desired_count", minimum=0)), min_size=1, max_size=2).filter(distinct)
)
def test_invalid_rollouts_are_refused_on_service_connect(bad: list[Bad]) -> None:
    w = connect_world()
    arguments: dict[str, Any] = {"cluster": w.cluster, "name": "payments", "image": w.image}
    for b in bad:
        arguments.update(b.arguments())
    count("invalid inputs tried: MeshedService rollout (Service Connect)")
    build = lambda: MeshedService(w.stack, "Candidate", **arguments)  # noqa: E731
    assert_refuses("MeshedService 'Candidate'", build, bad, connect_world)


def cluster_arguments() -> st.SearchStrategy[Bad]:
    return st.one_of(
        bad_text("namespace", DNS_NAME, "shop", "Shop.Local", "shop..local", "-shop.local", "shop.local."),
        wrong_type("namespace", b"shop.local", 42, none=True),
        wrong_type("vpc", "vpc-123"),
        wrong_type("data_plane", "app_mesh", DataPlane),
        bad_text("envoy_image_tag", IMAGE_TAG, "", "-x", "v1:2", "a" * 129).map(
            lambda b: Bad("data_plane", DataPlane.app_mesh(envoy_image_tag=b.value), ValueError, ("envoy_image_tag",))
        ),
        st.one_of(st.just(""), st.text(min_size=256, max_size=300)).map(
            lambda v: Bad("data_plane", DataPlane.app_mesh(mesh_name=v), ValueError, ("mesh_name",))
        ),
        wrong_type("mesh_name", 7, ["mesh"]).map(
            lambda b: Bad("data_plane", DataPlane.app_mesh(mesh_name=b.value), TypeError, ("mesh_name",))
        ),
        bad_text("service_domain", DNS_NAME, "shop", "Shop.Local"),
        wrong_type("removal_policy", "retain", none=True),
        wrong_type("flow_log_retention", 365, "ONE_YEAR", none=True),
        bad_authority_arn(),
        # The world's cluster has a namespace of that name in that VPC already.
        st.just(Bad("namespace", "shop.local", ValueError, extra=(("vpc", WORLD_VPC),))),
        st.just(Bad("namespace", STRING_TOKEN, ValueError)),
    )


def bad_authority_arn() -> st.SearchStrategy[Bad]:
    """Strings that are not an AWS Private CA's ARN: text, other services' ARNs, ARNs missing a part."""
    valid = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0123abcd"
    broken = st.sampled_from(
        [
            valid.replace("acm-pca", "acm"),
            valid.replace("certificate-authority/", "ca/"),
            valid.replace("123456789012", "1234"),
            valid.replace("eu-west-1", ""),
            valid + "\n",
            " " + valid,
        ]
    )
    text = st.one_of(st.text(max_size=60), broken).filter(lambda v: not PRIVATE_CA_ARN.fullmatch(v))
    return text.map(
        lambda v: Bad("data_plane", DataPlane.service_connect(tls_authority_arn=v), ValueError, ("tls_authority_arn",))
    )


@settings(SETTINGS, max_examples=CLUSTER_EXAMPLES)
@given(st.lists(cluster_arguments(), min_size=1, max_size=3).filter(distinct))
def test_invalid_cluster_arguments_are_refused(bad: list[Bad]) -> None:
    arguments: dict[str, Any] = {"namespace": "next.local"}
    for b in bad:
        arguments.update(b.arguments())
    if arguments.get("vpc") is WORLD_VPC:
        arguments["vpc"] = world().cluster.vpc
    count("invalid inputs tried: MeshedCluster")
    assert_refuses("MeshedCluster 'Candidate'", lambda: MeshedCluster(world().stack, "Candidate", **arguments), bad)


def repository_arguments() -> st.SearchStrategy[Bad]:
    return st.one_of(
        bad_text("repository_name", ECR_NAME, "Orders", "orders/", "a", "orders//v2", "-orders"),
        st.from_regex(ECR_NAME, fullmatch=True)
        .filter(lambda s: len(s) < 2)
        .map(lambda v: Bad("repository_name", v, ValueError)),
        wrong_type("repository_name", b"orders", 42),
        wrong_type("encryption_key", "alias/images", "arn:aws:kms:eu-west-1:123456789012:key/1"),
        bad_count("max_image_count"),
        bad_count("untagged_image_expiry_days"),
        st.just(Bad("max_image_count", NUMBER_TOKEN, ValueError)),  # lifecycle policy text resolves no token
        st.just(Bad("untagged_image_expiry_days", NUMBER_TOKEN, ValueError)),
        wrong_type("removal_policy", "DESTROY", "retain", True),
        st.just(Bad("removal_policy", cdk.RemovalPolicy.SNAPSHOT, ValueError)),  # ECR keeps no snapshots
    )


@settings(SETTINGS, max_examples=REPOSITORY_EXAMPLES)
@given(st.lists(repository_arguments(), min_size=1, max_size=3, unique_by=lambda bad: bad.parameter))
def test_invalid_repository_arguments_are_refused(bad: list[Bad]) -> None:
    arguments = {b.parameter: b.value for b in bad}
    count("invalid inputs tried: ServiceRepository")
    assert_refuses(
        "ServiceRepository 'Candidate'", lambda: ServiceRepository(world().stack, "Candidate", **arguments), bad
    )


@settings(SETTINGS, max_examples=TAG_EXAMPLES)
@given(st.one_of(bad_text("tag", IMAGE_TAG, "", " ", "-x", "v1:2", "a" * 129), wrong_type("tag", 1, b"1.0", none=True)))
def test_invalid_image_tags_are_refused(bad: Bad) -> None:
    count("invalid inputs tried: ServiceRepository.image")
    assert_refuses("ServiceRepository 'Repo'.image", lambda: world().repository.image(bad.value), [bad])


def stacks_arguments() -> st.SearchStrategy[Bad]:
    return st.one_of(
        bad_text("prefix", STACK_NAME_PREFIX, "", "1Services", "Services_", "S" * 125),
        wrong_type("prefix", b"Services", 7, none=True),
        st.just(Bad("prefix", STRING_TOKEN, ValueError)),
        bad_count("services_per_stack"),
        st.just(Bad("services_per_stack", NUMBER_TOKEN, ValueError)),  # stacks are filled at synthesis
        st.one_of(st.integers(max_value=0), st.integers(min_value=501)).map(
            lambda v: Bad("resources_per_stack", v, ValueError)
        ),
        wrong_type("resources_per_stack", "450", 450.0, none=True, integer=True),
    )


@settings(SETTINGS, max_examples=STACKS_EXAMPLES)
@given(st.lists(stacks_arguments(), min_size=1, max_size=3, unique_by=lambda bad: bad.parameter))
def test_invalid_service_stacks_arguments_are_refused(bad: list[Bad]) -> None:
    arguments: dict[str, Any] = {"prefix": "Services", **{b.parameter: b.value for b in bad}}
    count("invalid inputs tried: ServiceStacks")
    label = f"ServiceStacks {arguments['prefix']!r}"
    assert_refuses(label, lambda: ServiceStacks(world().app, **arguments), bad)


def test_a_refusal_that_builds_a_construct_first_fails_in_the_locked_world() -> None:
    # What makes "builds nothing" hold above without counting constructs per example.
    w = world()

    def refuse_too_late() -> None:
        cdk.CfnResource(w.stack, "HalfBuilt", type="Custom::HalfBuilt")
        raise ValueError("payments: refused after building")

    with pytest.raises(pytest.fail.Exception, match="Cannot add children"):
        assert_refused(refuse_too_late)


def test_the_world_accepts_valid_input() -> None:
    # The refusals above mean something only if such a world accepts valid input.
    w = new_world()
    built = MeshedService(
        w.stack,
        "Valid",
        cluster=w.cluster,
        name="valid",
        image=w.image,
        port=9000,
        protocol=ListenerProtocol.TCP,
        log_retention=logs.RetentionDays.ONE_WEEK,
        removal_policy=RemovalPolicy.DESTROY,
        backends=["orders"],
    )
    assert built in w.cluster.services
