"""Spreading many services over stacks that stay within CloudFormation's resource limit."""

from __future__ import annotations

import math
import re

import aws_cdk as cdk
from constructs import Construct

from ._validate import ValidationProblems, check_positive, check_type, refuse_token

# A meshed service is about 17 resources (its two alarms included) plus two rules per call it takes
# part in (the callee's ingress, the caller's egress), and on Service Connect two per caller it
# restarts (a call round a loop) plus two per stack; stacks are also filled by resource count.
DEFAULT_SERVICES_PER_STACK = 15
# CloudFormation's limit of resources in one stack.
CLOUDFORMATION_RESOURCE_LIMIT = 500
# The stacks are filled up to this many resources; the rest is for the calls (one security-group
# rule each) that later connect_to calls place in a stack already filled.
DEFAULT_RESOURCES_PER_STACK = 450
# CloudFormation's rule for stack names: a letter, then letters, digits and hyphens; 128 at most.
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_STACK_NAME_MAX_LENGTH = 128
# Room left in a stack name for the stack's number.
_NUMBER_DIGITS = 4


class ServiceStacks:
    """Hands out stacks for services, opening a new one when the current one is full.

    ``MeshedService(stacks.next(), "Orders", cluster=cluster, ...)`` places each service; the
    stacks are named ``<prefix>1``, ``<prefix>2``, ... A stack is full when it holds
    ``services_per_stack`` services, or when the next service would take it past
    ``resources_per_stack`` resources (counted, so that services with many versions fill a stack
    sooner). Calls between services of different stacks never make their stacks import from each
    other in a loop. A stack that still ends up over CloudFormation's 500 resources (many calls
    placed in it after it was filled) fails synthesis with aws-cdk-lib's error naming it, its
    count and its resources by type; lower ``services_per_stack`` or ``resources_per_stack`` to
    leave room for those calls.

    Attributes:
        stacks: The stacks opened so far.
    """

    def __init__(
        self,
        scope: Construct,
        prefix: str,
        *,
        env: cdk.Environment | None = None,
        services_per_stack: int = DEFAULT_SERVICES_PER_STACK,
        resources_per_stack: int = DEFAULT_RESOURCES_PER_STACK,
    ) -> None:
        """Prepare to open stacks.

        Args:
            scope: Where the stacks are created (the app or a stage).
            prefix: The stacks' construct ids (and names) are this prefix and a number from 1: a
                letter, then letters, digits and hyphens, as CloudFormation wants stack names.
            env: The stacks' environment; give the cluster stack's. Default: environment-agnostic.
            services_per_stack: How many services one stack takes at most. Default: 15.
            resources_per_stack: How many resources a stack is filled to, at most 500; what is left
                under CloudFormation's 500 holds the rules of calls placed in the stack later.
                Default: 450.
        """
        problems = ValidationProblems(f"ServiceStacks {prefix!r}")
        _check_prefix(problems, prefix)
        literal = "the stacks are filled at synthesis"
        check_positive(problems, "services_per_stack", services_per_stack, literal=literal)
        check_positive(
            problems,
            "resources_per_stack",
            resources_per_stack,
            maximum=CLOUDFORMATION_RESOURCE_LIMIT,
            literal=literal,
        )
        problems.raise_if_any()
        self._scope = scope
        self._prefix = prefix
        self._env = env
        self._services_per_stack = services_per_stack
        self._resources_per_stack = resources_per_stack
        self._in_stack = 0  # services handed the current stack
        self._counted = 0  # the current stack's resources when last counted
        self._since_count = 0  # services handed the current stack since
        self._footprint = 0  # the most resources one service was seen to add
        self.stacks: list[cdk.Stack] = []

    def next(self) -> cdk.Stack:
        """The stack for the next service."""
        if not self.stacks or self._full():
            self.stacks.append(self._open(len(self.stacks) + 1))
            self._in_stack = self._counted = self._since_count = 0
        self._in_stack += 1
        self._since_count += 1
        return self.stacks[-1]

    def _full(self) -> bool:
        if self._in_stack >= self._services_per_stack:
            return True
        # Counting walks the whole stack through jsii: only when an estimate comes near the budget.
        estimate = self._counted + (self._since_count + 1) * self._footprint
        if self._footprint and estimate <= self._resources_per_stack:
            return False
        counted = resource_count(self.stacks[-1])
        added = math.ceil((counted - self._counted) / self._since_count) if self._since_count else 0
        self._footprint = max(self._footprint, added)
        self._counted, self._since_count = counted, 0
        return counted + self._footprint > self._resources_per_stack

    def _open(self, number: int) -> cdk.Stack:
        return cdk.Stack(self._scope, f"{self._prefix}{number}", env=self._env)


def resource_count(stack: cdk.Stack) -> int:
    """The CloudFormation resources ``stack`` holds so far."""
    return sum(1 for construct in stack.node.find_all() if isinstance(construct, cdk.CfnResource))


def _check_prefix(problems: ValidationProblems, prefix: object) -> None:
    if not check_type(problems, "prefix", prefix, str):
        return
    assert isinstance(prefix, str)
    longest = _STACK_NAME_MAX_LENGTH - _NUMBER_DIGITS
    if refuse_token(problems, "prefix", prefix, "it names the stacks at synthesis, e.g. 'Services'"):
        return
    if not _STACK_NAME.fullmatch(prefix) or len(prefix) > longest:
        problems.add(
            f"prefix={prefix!r} cannot start a CloudFormation stack name; use a letter, then letters, digits and "
            f"hyphens, {longest} characters at most (the stack's number follows), e.g. 'Services'."
        )
