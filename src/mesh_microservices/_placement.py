"""Where the cross-stack parts of a call live, so that stacks never import from each other in a loop.

A call between services in two stacks needs one security-group rule that names both groups, so
one stack must import from the other. The rule goes to a stack that already depends on the other
(directly or through others); when neither does, to the caller's stack, which then depends on
the callee's — callees deploy first, as Service Connect wants. Dependencies are made explicit, so
each later decision sees them.

Each decision reads the stacks' dependencies as they are, including those the application added
after earlier decisions: every public entry point (a service, a call, an ingress) calls
``begin_round()``, and within a round each stack's dependencies are read from jsii at most once.
A dependency once seen stays known across rounds (aws-cdk-lib has no way to remove one), so a
stack already known to wait for another is not asked again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from aws_cdk import Stack
from constructs import IConstruct

from ._validate import ValidationProblems


def stack_of(construct: IConstruct, *, parent: IConstruct | None = None) -> Stack:
    """``Stack.of(construct)``, asked of jsii once per construct: a construct never changes stack.

    Args:
        construct: The construct whose stack is wanted.
        parent: The scope ``construct`` was created in, when known: its stack is the same
            unless ``construct`` is a stack itself.
    """
    stack = _STACKS.get(construct)
    if stack is None:
        if isinstance(construct, Stack):
            stack = construct
        elif parent is not None:
            stack = stack_of(parent)
        else:
            stack = Stack.of(construct)
        _STACKS[construct] = stack
    return stack


def begin_round() -> None:
    """Read each stack's dependencies again when next needed: the application may have added some since."""
    _READ_THIS_ROUND.clear()


def depends_on(stack: Stack, other: Stack) -> bool:
    """Whether ``stack`` depends on ``other``, directly or through other stacks."""
    if other in _KNOWN.get(stack, ()):
        return True
    seen: set[Stack] = set()
    pending = list(_dependencies(stack))
    while pending:
        current = pending.pop()
        if current is other:
            return True
        if current not in seen:
            seen.add(current)
            pending.extend(_dependencies(current))
    return False


def rule_owner(caller: Stack, callee: Stack) -> Stack:
    """The stack that holds the rule letting ``caller``'s service reach ``callee``'s service."""
    if caller is callee or depends_on(caller, callee):
        return caller
    if depends_on(callee, caller):
        return callee
    return caller


def deploy_after(later: Stack, earlier: Stack) -> bool:
    """Make ``later`` deploy after ``earlier`` unless that would be a loop; return whether it does."""
    if later is earlier or earlier in _KNOWN.get(later, ()) or earlier in _dependencies(later):
        return True
    if depends_on(earlier, later):
        return False
    later.add_stack_dependency(earlier, "mesh-microservices: callees and their clusters deploy first")
    _dependencies(later).add(earlier)
    return True


def environment_of(stack: Stack) -> str:
    """``aws://<account>/<region>`` of ``stack``, ``unknown-account``/``unknown-region`` where not given."""
    environment = _ENVIRONMENTS.get(stack)
    if environment is None:
        environment = _ENVIRONMENTS[stack] = stack.environment
    return environment


def check_same_environment(
    problems: ValidationProblems, parameter: str, stack: Stack, home: Stack, *, what: str | Callable[[], str]
) -> None:
    """Record a problem unless ``stack`` deploys to the account and region of ``home``, the stack of ``what``.

    aws-cdk-lib refuses references between stacks of different environments (an explicit and an
    unknown account or region included) at synthesis, with a RuntimeError naming neither input;
    and an ECS service runs in its cluster's account and region anyway. ``what`` may be a function
    that names it, called only for the message: a construct path costs jsii round trips.
    """
    if stack is home or environment_of(stack) == environment_of(home):
        return
    what = what if isinstance(what, str) else what()
    problems.add(
        f"{parameter}: stack {stack.node.path!r} deploys to {environment_of(stack)}, but {what} is in stack "
        f"{home.node.path!r}, which deploys to {environment_of(home)}; a cluster's services and ingress run in its "
        f"account and region. Give stack {stack.node.path!r} the same env as {home.node.path!r} (e.g. "
        "env=cdk.Environment(account=..., region=...) on both, or on neither), or create the construct in a stack "
        "that has it."
    )


# Each stack's dependencies as far as known: read from jsii, plus those added here; they stay
# (aws-cdk-lib removes none). Walking them in Python spares a jsii round trip per stack visited,
# which made placement grow with the square of the services. jsii hands out one Python object per
# stack, so identity is equality.
_KNOWN: weakref.WeakKeyDictionary[Stack, set[Stack]] = weakref.WeakKeyDictionary()
# The stacks whose dependencies were read from jsii in this round.
_READ_THIS_ROUND: weakref.WeakSet[Stack] = weakref.WeakSet()
_STACKS: weakref.WeakKeyDictionary[IConstruct, Stack] = weakref.WeakKeyDictionary()
_ENVIRONMENTS: weakref.WeakKeyDictionary[Stack, str] = weakref.WeakKeyDictionary()


def _dependencies(stack: Stack) -> set[Stack]:
    known = _KNOWN.setdefault(stack, set())
    if stack not in _READ_THIS_ROUND:
        known.update(stack.dependencies)
        _READ_THIS_ROUND.add(stack)
    return known
