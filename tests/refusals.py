"""The one way tests assert a refusal: a ValueError/TypeError naming what was wrong, and nothing built."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import aws_cdk as cdk
import pytest
from constructs import IConstruct


def assert_refused(
    build: Callable[[], object],
    *fragments: str,
    error: type[Exception] | None = None,
    within: IConstruct | Iterable[IConstruct] | None = None,
    unchanged: Callable[[], object] | None = None,
    label: str | None = None,
) -> str:
    """Run ``build``; it must be refused by the library before anything is built. Return the message.

    Args:
        build: What is tried, e.g. ``lambda: MeshedService(stack, "S", ...)``.
        fragments: Text the message must hold: the parameter, the value and the fix.
        error: The exception type expected (ValueError or TypeError). Default: either.
        within: A construct (or several) whose app must hold the same constructs after the
            refusal as before: nothing half-created. Default: no tree is checked (options that
            build nothing, such as ``Scaling(...)``).
        unchanged: A function whose result must be the same before and after, e.g. a cluster's
            registered services. Default: none.
        label: How the message must begin, e.g. ``"MeshedService 'Payments'"`` (``<label>: invalid
            input:``). Default: not checked.
    """
    roots = _roots(within)
    before_count, before_state = _construct_count(roots), unchanged() if unchanged else None
    try:
        build()
    except (ValueError, TypeError) as refused:
        message = str(refused)
        if error is not None:
            assert isinstance(refused, error), f"{type(refused).__name__} instead of {error.__name__}: {message}"
    except Exception as other:  # a jsii RuntimeError: an input reached aws-cdk-lib unchecked
        pytest.fail(f"{type(other).__name__} instead of a ValueError/TypeError: {other}")
    else:
        pytest.fail("accepted: no ValueError/TypeError was raised")
    if label is not None:
        assert message.startswith(f"{label}: invalid input:"), f"not refused by {label}: {message}"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    # Constructs are never removed, so the same count means nothing was added.
    added = _construct_count(roots) - before_count
    assert added == 0, f"{added} constructs were left half-created"
    if unchanged is not None:
        assert unchanged() == before_state, "the refusal changed what it must not"
    return message


def _roots(within: IConstruct | Iterable[IConstruct] | None) -> list[IConstruct]:
    if within is None:
        return []
    constructs = [within] if hasattr(within, "node") else list(within)  # type: ignore[arg-type]
    roots: list[IConstruct] = []
    for construct in constructs:
        root = construct if isinstance(construct, cdk.App) else construct.node.root  # an app is a root: no jsii call
        if all(root is not seen for seen in roots):
            roots.append(root)
    return roots


def _construct_count(roots: list[IConstruct]) -> int:
    # A count costs one jsii call per root; every construct's path would cost two per construct, and
    # the property tests take thousands of examples.
    return sum(len(root.node.find_all()) for root in roots)
