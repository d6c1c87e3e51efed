"""Where the cross-stack parts of a call live, so that stacks never import from each other in a loop.

A call between services in two stacks needs one security-group rule that names both groups, so
one stack must import from the other. The rule goes to a stack that already depends on the other
(directly or through others); when neither does, to the caller's stack, which then depends on
the callee's — callees deploy first, as Service Connect wants. Dependencies are made explicit, so
each later decision sees them.
"""

from __future__ import annotations

from aws_cdk import Stack


def depends_on(stack: Stack, other: Stack) -> bool:
    """Whether ``stack`` depends on ``other``, directly or through other stacks."""
    # jsii hands out one Python object per stack, so identity is equality (and costs no round trip).
    seen: set[Stack] = set()
    pending = list(stack.dependencies)
    while pending:
        current = pending.pop()
        if current is other:
            return True
        if current not in seen:
            seen.add(current)
            pending.extend(current.dependencies)
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
    if later is earlier or depends_on(earlier, later):
        return later is earlier
    later.add_stack_dependency(earlier, "mesh-microservices: callees and their clusters deploy first")
    return True
