"""Input checks shared by the constructs.

Every check records a problem instead of raising, so that a construct can report all of its
bad inputs at once, before it creates any resource. Token values (unresolved at synth) are
skipped: they cannot be checked eagerly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from aws_cdk import Token

# A DNS label: service names become Cloud Map records and virtual service host names.
_DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
# Encoded number tokens are doubles whose top bits are 0xFBFF: their magnitude is at least this.
_NUMBER_TOKEN_MIN_MAGNITUDE = 2.0**960
# ECR's rule for image tags.
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# ECR's rule for repository names (2-256 characters), as aws-cdk-lib checks it.
_REPOSITORY_NAME = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
# An HTTP request path as it goes on the wire: visible ASCII, anything else percent-encoded. A target
# group takes a health-check path of 1 to 1024 characters (Elastic Load Balancing API, HealthCheckPath).
_HTTP_PATH = re.compile(r"/[!-~]*")
MAX_REQUEST_PATH_LENGTH = 1024
# A path prefix is matched by App Mesh routes and, on Service Connect, by an Application Load Balancer's
# path-pattern condition, the stricter of the two: its literal characters are A-Z, a-z, 0-9 and
# _ - . $ / ~ " ' @ : + & ('*' and '?' are wildcards there; Elastic Load Balancing API, RuleCondition).
_PATH_PREFIX = re.compile(r"/[A-Za-z0-9_\-.$/~\"'@:+&]*")
_PATH_WILDCARDS = "*?"
# A host name: two or more lower-case DNS labels separated by dots, 253 characters at most.
_HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")
# A public host name, as an ALB's host-header condition takes it: letters only after the last dot.
_PUBLIC_TOP_LABEL = re.compile(r".*\.[a-z]+")
# An HTTP field name (RFC 9110 token) and a field value of visible characters, inner spaces allowed.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
# An ARN: arn:<partition>:<service>:<region>:<account>:<resource> (AWS General Reference, "ARN format").
_ARN = re.compile(
    r"arn:(?P<partition>aws(-cn|-us-gov|-iso[a-z]?)?):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*)"
    r":(?P<account>\d{12}|):(?P<resource>.+)"
)
# What ECS and App Mesh set in a task's containers (Amazon ECS developer guide, "Amazon ECS environment
# variables"; App Mesh reads APPMESH_* in its Envoy). AWS_REGION and AWS_DEFAULT_REGION are not refused:
# applications set them on purpose to reach another region's APIs.
RESERVED_ENVIRONMENT_PREFIXES = ("ECS_", "AWS_CONTAINER_", "APPMESH_")
RESERVED_ENVIRONMENT_NAMES = frozenset({"AWS_EXECUTION_ENV"})
# Numbers reach aws-cdk-lib as JavaScript numbers: larger integers would silently change.
MAX_SAFE_INTEGER = 2**53 - 1

# Fargate's supported task sizes: cpu units -> memory (MiB) values allowed with it.
FARGATE_TASK_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


class ValidationProblems:
    """Collects the problems found in a construct's inputs and raises them together."""

    def __init__(self, construct_name: str) -> None:
        self._construct_name = construct_name
        self._problems: list[tuple[type[Exception], str]] = []

    def add(self, message: str, *, kind: type[Exception] = ValueError) -> None:
        """Record one problem; ``kind`` is ValueError for bad values, TypeError for bad types."""
        self._problems.append((kind, message))

    def raise_if_any(self) -> None:
        """Raise one exception listing every recorded problem (TypeError if any is a type error)."""
        if not self._problems:
            return
        kind: type[Exception] = TypeError if any(k is TypeError for k, _ in self._problems) else ValueError
        lines = "\n".join(f"  - {message}" for _, message in self._problems)
        raise kind(f"{self._construct_name}: invalid input:\n{lines}")


def is_token(value: object) -> bool:
    """True when ``value`` is a CDK token, which eager checks must skip."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    # Spare the jsii round trip for what cannot be a token: string tokens contain "Token[" and
    # number tokens are doubles of huge magnitude (aws-cdk-lib's own encoding).
    if isinstance(value, str) and "Token[" not in value:
        return False
    # NaN and infinities are no tokens, and jsii cannot even send them to aws-cdk-lib (JSON has none).
    if not isinstance(value, str) and (not math.isfinite(value) or abs(value) < _NUMBER_TOKEN_MIN_MAGNITUDE):
        return False
    return Token.is_unresolved(value)


def is_number_token(value: object) -> bool:
    """True when ``value`` is a number token, e.g. ``CfnParameter(...).value_as_number`` (a float)."""
    return isinstance(value, float) and is_token(value)


def with_article(name: str) -> str:
    """``name`` after its indefinite article, for messages: ``an int``, ``a str``, ``an IngressRoute``."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def kind_of(value: object) -> str:
    """``value``'s type after its article, for messages: ``an int``, ``a dict``."""
    return with_article(type(value).__name__)


def check_type(problems: ValidationProblems, parameter: str, value: object, expected: type | tuple[type, ...]) -> bool:
    """Record a TypeError unless ``value`` is an instance of ``expected``; return whether it is.

    A number token (a float to Python) is an int here: CloudFormation resolves it to a number.
    Checks that need the value itself refuse tokens by name with ``refuse_token``.
    """
    wants_int = expected is int or (isinstance(expected, tuple) and int in expected)
    if wants_int and is_number_token(value):
        return True
    # bool is an int to isinstance, never to a parameter that wants a number
    ok = not (isinstance(value, bool) and wants_int) and isinstance(value, expected)
    if not ok:
        names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
        problems.add(
            f"{parameter}={value!r} is {kind_of(value)}; pass {with_article(names)}.",
            kind=TypeError,
        )
    return ok


def refuse_token(problems: ValidationProblems, parameter: str, value: object, why: str) -> bool:
    """Record that ``parameter`` must be known at synthesis when ``value`` is a token; return whether it is one.

    ``why`` says what the library derives from the value at synthesis, for the message.
    """
    if not is_token(value):
        return False
    kind = "number" if isinstance(value, (int, float)) else "string"
    problems.add(
        f"{parameter} is a token (e.g. a CfnParameter's value), which is only known at deployment; pass a literal "
        f"{kind}: {why}."
    )
    return True


def check_service_name(problems: ValidationProblems, parameter: str, name: object) -> None:
    """A service name is a DNS label: it becomes ``<name>.<namespace>`` for callers."""
    if not check_type(problems, parameter, name, str):
        return
    assert isinstance(name, str)
    if refuse_token(problems, parameter, name, "it names resources and the DNS name callers dial"):
        return
    if not _DNS_LABEL.fullmatch(name):
        problems.add(
            f"{parameter}={name!r} is not a DNS label; use 1-63 lower-case letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen (e.g. 'orders')."
        )


def check_namespace_name(problems: ValidationProblems, parameter: str, name: object) -> None:
    """A private DNS namespace name is a host name such as 'shop.local'."""
    check_host_name(problems, parameter, name, example="shop.local", literal="services derive their DNS names from it")


def check_host_name(
    problems: ValidationProblems,
    parameter: str,
    name: object,
    *,
    example: str,
    literal: str | None = None,
    public: bool = False,
) -> bool:
    """A host name: two or more lower-case DNS labels separated by dots; return whether it is one.

    The one rule for every host name the library takes (a namespace, an ingress route's host).

    Args:
        problems: Where problems are recorded.
        parameter: The parameter's name in messages.
        name: What was given.
        example: A valid name for the message, e.g. 'shop.example.com'.
        literal: Why the name must be known at synthesis; None lets a token pass.
        public: The name is matched by a public load balancer, whose host-header condition takes
            letters only after the last dot.
    """
    if not check_type(problems, parameter, name, str):
        return False
    assert isinstance(name, str)
    if is_token(name):
        return literal is None or not refuse_token(problems, parameter, name, literal)
    if not _HOST_NAME.fullmatch(name):
        problems.add(
            f"{parameter}={name!r} is not a host name; use two or more lower-case DNS labels (letters, digits and "
            f"hyphens) separated by dots, e.g. {example!r}."
        )
        return False
    if public and not _PUBLIC_TOP_LABEL.fullmatch(name):
        problems.add(
            f"{parameter}={name!r} ends in a label that is not letters only, which a load balancer's host-header "
            f"condition refuses; use a public host name, e.g. {example!r}."
        )
        return False
    return True


def check_port(problems: ValidationProblems, parameter: str, port: object, *, reserved: Iterable[int] = ()) -> None:
    """A listener port is 1-65535 and not one the data plane reserves for itself."""
    if not check_type(problems, parameter, port, int):
        return
    reserved = set(reserved)
    why = "the data plane's listeners and health checks are derived from it"
    if reserved:
        ports = ", ".join(map(str, sorted(reserved)))
        why += f", and it must differ from the ports the data plane reserves ({ports})"
    if refuse_token(problems, parameter, port, why):
        return
    assert isinstance(port, int)
    if not 1 <= port <= 65535:
        problems.add(f"{parameter}={port} is out of range; use a TCP port from 1 to 65535.")
    elif port in reserved:
        problems.add(
            f"{parameter}={port} is reserved by the Envoy sidecar ({', '.join(map(str, sorted(reserved)))}); "
            "choose another port for the application."
        )


def check_task_size(
    problems: ValidationProblems, cpu: object, memory_mib: object, *, memory_parameter: str = "memory_mib"
) -> None:
    """Cpu and memory (given as ``memory_parameter``) must be a pair that Fargate supports.

    Tokens pass (CloudFormation takes the task size as parameters); Fargate checks the pair then.
    """
    cpu_ok = check_type(problems, "cpu", cpu, int)
    memory_ok = check_type(problems, memory_parameter, memory_mib, int)
    if not (cpu_ok and memory_ok) or is_token(cpu) or is_token(memory_mib):
        return
    assert isinstance(cpu, int) and isinstance(memory_mib, int)
    allowed = FARGATE_TASK_SIZES.get(cpu)
    if allowed is None:
        problems.add(f"cpu={cpu} is not a Fargate size; use one of {sorted(FARGATE_TASK_SIZES)}.")
    elif memory_mib not in allowed:
        problems.add(
            f"{memory_parameter}={memory_mib} is not available with cpu={cpu}; use one of "
            f"{_describe_sizes(allowed)} MiB, or change cpu."
        )


def check_positive(
    problems: ValidationProblems,
    parameter: str,
    value: object,
    *,
    minimum: int = 1,
    maximum: int = MAX_SAFE_INTEGER,
    literal: str | None = None,
) -> bool:
    """An integer count from ``minimum`` to ``maximum``; return whether it is one.

    A number token passes (CloudFormation resolves it), unless ``literal`` says why the value
    must be known at synthesis: the token is then refused with that reason.
    """
    if not check_type(problems, parameter, value, int):
        return False
    if is_token(value):
        return literal is None or not refuse_token(problems, parameter, value, literal)
    assert isinstance(value, int)
    if value < minimum:
        problems.add(f"{parameter}={value} is too small; use {minimum} or more.")
        return False
    if value > maximum:
        problems.add(f"{parameter}={value} is too large; use at most {maximum}.")
        return False
    return True


def check_path(
    problems: ValidationProblems, parameter: str, path: object, *, prefix: bool = False, literal: str | None = None
) -> bool:
    """An HTTP path, or a path prefix a route matches; return whether it is one.

    The one rule for every path the library takes. Every path starts with '/'. A request path
    (a health check's) holds visible ASCII only, percent-encoding anything else, up to 1024
    characters as a target group takes it. A prefix (a route's) holds only the characters an
    Application Load Balancer's path pattern matches literally, the stricter of its consumers.

    Args:
        problems: Where problems are recorded.
        parameter: The parameter's name in messages.
        path: What was given.
        prefix: Whether the path is a prefix that routes match, rather than a request path.
        literal: Why the path must be known at synthesis; None lets a token pass.
    """
    if not check_type(problems, parameter, path, str):
        return False
    assert isinstance(path, str)
    if is_token(path):
        return literal is None or not refuse_token(problems, parameter, path, literal)
    example = "/api/" if prefix else "/health"
    if not path.startswith("/"):
        problems.add(f"{parameter}={path!r} must start with '/', e.g. {example!r}.")
        return False
    wildcards = [c for c in _PATH_WILDCARDS if c in path]
    if prefix and wildcards:
        problems.add(
            f"{parameter}={path!r} holds {' and '.join(map(repr, wildcards))}, which a load balancer's path pattern "
            f"reads as a wildcard; use a literal prefix, e.g. {example!r}."
        )
    elif prefix and not _PATH_PREFIX.fullmatch(path):
        problems.add(
            f"{parameter}={path!r} holds characters a load balancer's path pattern cannot match; use letters, "
            f"digits and _ - . $ / ~ \" ' @ : + & only (no spaces, '%', '#' or query), e.g. {example!r}."
        )
    elif not prefix and not _HTTP_PATH.fullmatch(path):
        problems.add(
            f"{parameter}={path!r} has spaces, control or non-ASCII characters; percent-encode them, e.g. '/caf%C3%A9'."
        )
    elif not prefix and len(path) > MAX_REQUEST_PATH_LENGTH:
        problems.add(
            f"{parameter} has {len(path)} characters; a load balancer's health check takes at most "
            f"{MAX_REQUEST_PATH_LENGTH}. Use a shorter path."
        )
    else:
        return True
    return False


def check_header(problems: ValidationProblems, parameter: str, name: object, value: object) -> bool:
    """An HTTP header a request carries to match a route: a field name and an exact value; return whether it is one.

    The one rule for every header the library matches (route rules, a rollout's test header).
    """
    if not isinstance(name, str) or not isinstance(value, str):
        problems.add(
            f"{parameter}={(name, value)!r}: pass a header name and its exact value as strings, e.g. "
            "('x-canary', 'true').",
            kind=TypeError,
        )
        return False
    ok = True
    if not is_token(name) and not _HEADER_NAME.fullmatch(name):
        problems.add(
            f"{parameter}: {name!r} is not an HTTP header name; use letters, digits and - (no spaces or ':'), "
            "e.g. 'x-canary'."
        )
        ok = False
    if not is_token(value) and not _HEADER_VALUE.fullmatch(value):
        problems.add(
            f"{parameter}: value {value!r} is not an exact header value a request can carry; use visible ASCII "
            "characters, e.g. 'true'."
        )
        ok = False
    return ok


def check_option(problems: ValidationProblems, parameter: str, value: object, option: type, **context: object) -> bool:
    """Record what is wrong with an option object, by its own ``_check``; return whether its type is right.

    Each option class (RouteRule, Scaling, Rollout, ...) checks its own fields in
    ``_check(problems, where, **context)``, naming each as ``<where>.<field>``.
    """
    if not check_type(problems, parameter, value, option):
        return False
    value._check(problems, parameter, **context)  # type: ignore[attr-defined]
    return True


def check_repository_name(problems: ValidationProblems, parameter: str, name: object) -> None:
    """An ECR repository name: 2-256 lower-case letters, digits, '.', '_', '-' and '/' between parts."""
    if not check_type(problems, parameter, name, str):
        return
    assert isinstance(name, str)
    if is_token(name):
        return
    if not 2 <= len(name) <= 256 or not _REPOSITORY_NAME.fullmatch(name):
        problems.add(
            f"{parameter}={name!r} is not an ECR repository name; use 2 to 256 lower-case letters and digits, "
            "separated by '.', '_', '-' or '/', e.g. 'shop/orders'."
        )


def check_name_length(problems: ValidationProblems, parameter: str, name: object, *, maximum: int) -> None:
    """A resource name of 1 to ``maximum`` characters."""
    if not check_type(problems, parameter, name, str):
        return
    assert isinstance(name, str)
    if not is_token(name) and not 1 <= len(name) <= maximum:
        problems.add(f"{parameter}={name!r} has {len(name)} characters; use 1 to {maximum}.")


def check_image_tag(problems: ValidationProblems, parameter: str, tag: object) -> None:
    """An image tag is a non-empty ECR tag (letters, digits, '_', '.', '-'; 128 at most)."""
    if not check_type(problems, parameter, tag, str):
        return
    assert isinstance(tag, str)
    if is_token(tag):
        return
    if not tag:
        problems.add(f"{parameter} is empty; pass the tag of an image you pushed, e.g. '1.4.2'.")
    elif not _IMAGE_TAG.fullmatch(tag):
        problems.add(
            f"{parameter}={tag!r} is not a valid image tag; use up to 128 letters, digits, '_', '.' "
            "or '-', not starting with '.' or '-'."
        )


def check_arn(
    problems: ValidationProblems, parameter: str, arn: object, *, service: str, resource_type: str, example: str
) -> None:
    """An ARN of ``service`` naming a ``resource_type`` (e.g. acm-pca's certificate-authority); tokens pass."""
    if not check_type(problems, parameter, arn, str):
        return
    assert isinstance(arn, str)
    if is_token(arn):
        return
    parts = _ARN.fullmatch(arn)
    if parts is None or parts["service"] != service or not parts["resource"].startswith(f"{resource_type}/"):
        problems.add(
            f"{parameter}={arn!r} is not the ARN of an {service} {resource_type}; pass one such as {example!r} "
            "(copy it from the console or the CLI), or a token from the resource itself."
        )
    elif not parts["region"] or not parts["account"]:
        problems.add(f"{parameter}={arn!r} names no region or account; pass the full ARN, e.g. {example!r}.")


def reserved_environment_name(name: str) -> bool:
    """Whether ECS, Fargate or App Mesh set ``name`` in a task's containers themselves."""
    return name in RESERVED_ENVIRONMENT_NAMES or name.startswith(RESERVED_ENVIRONMENT_PREFIXES)


def check_environment_names(problems: ValidationProblems, parameter: str, names: Iterable[object]) -> None:
    """Refuse the environment names ECS, Fargate and App Mesh set themselves (token names pass)."""
    for name in names:
        if isinstance(name, str) and not is_token(name) and reserved_environment_name(name):
            problems.add(
                f"{parameter}[{name!r}] is reserved: ECS, Fargate and App Mesh own the names "
                f"{', '.join(p + '*' for p in RESERVED_ENVIRONMENT_PREFIXES)} and "
                f"{', '.join(sorted(RESERVED_ENVIRONMENT_NAMES))} and set them in every task. Rename the variable, "
                f"e.g. 'APP_{name}'."
            )


def _describe_sizes(values: tuple[int, ...]) -> str:
    if len(values) <= 3:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step}"


def implements(value: object, interface: type) -> bool:
    """Whether ``value`` implements the jsii ``interface``.

    jsii interfaces are protocols that ``isinstance`` refuses; owned classes list them in
    ``__jsii_ifaces__`` and imported objects are proxies carrying the interface's jsii type.
    """
    fqn = interface.__dict__.get("__jsii_type__")
    for candidate in (value, *getattr(value, "_delegates", ())):
        for klass in type(candidate).__mro__:
            if any(interface in declared.__mro__ for declared in klass.__dict__.get("__jsii_ifaces__", ())):
                return True
            if fqn is not None and klass.__dict__.get("__jsii_type__") == fqn:
                return True
    return False


def check_interface(problems: ValidationProblems, parameter: str, value: object, interface: type) -> bool:
    """Record a TypeError unless ``value`` implements the jsii ``interface``; return whether it does."""
    if implements(value, interface):
        return True
    problems.add(
        f"{parameter}={value!r} is {kind_of(value)}; pass {with_article(interface.__name__)}.",
        kind=TypeError,
    )
    return False


class FactoryOnly:
    """Base of a choice class that is built only through its factories (as aws-cdk-lib's ``ServiceDiscovery``).

    The public class lists its factories in ``_factories``; calling it directly raises a TypeError
    naming them. Its private implementation classes, which the factories return, construct normally.
    """

    _factories: tuple[str, ...] = ()

    def __new__(cls, *args: object, **kwargs: object) -> FactoryOnly:
        if "_factories" in cls.__dict__:
            public = cls.__name__
            calls = [f"{public}.{name}(...)" for name in cls._factories]
            factories = f"{', '.join(calls[:-1])} or {calls[-1]}" if len(calls) > 1 else calls[0]
            raise TypeError(f"{public} is created by its factories only: call {factories}, not {public}(...).")
        return super().__new__(cls)
