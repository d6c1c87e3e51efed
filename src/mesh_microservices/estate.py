"""Spreading many services over stacks that stay within CloudFormation's resource limit."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from ._validate import ValidationProblems, check_positive, check_type

# A meshed service is about 17 resources (its two alarms included) plus two rules per call it
# takes part in (the callee's ingress and the caller's egress); 15 leave room under 500.
DEFAULT_SERVICES_PER_STACK = 15


class ServiceStacks:
    """Hands out stacks for services, opening a new one when the current one is full.

    ``MeshedService(stacks.next(), "Orders", cluster=cluster, ...)`` places each service; the
    stacks are named ``<prefix>1``, ``<prefix>2``, ... Calls between services of different
    stacks never make their stacks import from each other in a loop.

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
    ) -> None:
        """Prepare to open stacks.

        Args:
            scope: Where the stacks are created (the app or a stage).
            prefix: The stacks' construct ids are this prefix and a number from 1.
            env: The stacks' environment. Default: environment-agnostic.
            services_per_stack: How many services one stack takes. Default: 15.
        """
        problems = ValidationProblems(f"ServiceStacks {prefix!r}")
        check_type(problems, "prefix", prefix, str)
        check_positive(problems, "services_per_stack", services_per_stack)
        problems.raise_if_any()
        self._scope = scope
        self._prefix = prefix
        self._env = env
        self._services_per_stack = services_per_stack
        self._placed = 0
        self.stacks: list[cdk.Stack] = []

    def next(self) -> cdk.Stack:
        """The stack for the next service."""
        if self._placed % self._services_per_stack == 0:
            self.stacks.append(cdk.Stack(self._scope, f"{self._prefix}{len(self.stacks) + 1}", env=self._env))
        self._placed += 1
        return self.stacks[-1]
