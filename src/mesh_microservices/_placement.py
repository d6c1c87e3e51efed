"""Where the cross-stack parts of a call live, so that stacks never import from each other in a loop.

A call between services in two stacks needs one security-group rule that names both groups, so
one stack must import from the other. The rule goes to a stack that already depends on the other
(directly or through others); when neither does, to the caller's stack, which then depends on
the callee's — callees deploy first, as Service Connect wants. Dependencies are made explicit, so
each later decision sees them. Dependencies an application adds between two stacks after the
library first looked at them are not seen; CDK refuses a loop they would close, with its error.
"""

from __future__ import annotations

import weakref

from aws_cdk import Stack
from constructs import IConstruct


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


def depends_on(stack: Stack, other: Stack) -> bool:
    """Whether ``stack`` depends on ``other``, directly or through other stacks."""
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
    if later is earlier or earlier in _dependencies(later):
        return True
    if depends_on(earlier, later):
        return False
    later.add_stack_dependency(earlier, "mesh-microservices: callees and their clusters deploy first")
    _dependencies(later).add(earlier)
    return True


# Each stack's dependencies as first seen, plus those added here: walking them in Python spares a
# jsii round trip per stack visited, which made placement grow with the square of the services.
# jsii hands out one Python object per stack, so identity is equality.
_KNOWN_DEPENDENCIES: weakref.WeakKeyDictionary[Stack, set[Stack]] = weakref.WeakKeyDictionary()
_STACKS: weakref.WeakKeyDictionary[IConstruct, Stack] = weakref.WeakKeyDictionary()


def _dependencies(stack: Stack) -> set[Stack]:
    known = _KNOWN_DEPENDENCIES.get(stack)
    if known is None:
        known = _KNOWN_DEPENDENCIES[stack] = set(stack.dependencies)
    return known
