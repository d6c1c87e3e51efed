"""Deterministic call graphs for the synthesis benchmark.

A graph is a list of ``(caller, callee)`` service indexes in declaration order: both app
builders connect the edges in this order, so their cross-stack rule placement sees the same
sequence of decisions.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Edge = tuple[int, int]

DEFAULT_SEED = 20261129
CALLS_PER_SERVICE = 2


def chain(n: int) -> list[Edge]:
    """Service i calls service i+1; the last calls nobody."""
    return [(i, i + 1) for i in range(n - 1)]


def random_graph(n: int, seed: int = DEFAULT_SEED) -> list[Edge]:
    """Each service calls ``CALLS_PER_SERVICE`` distinct other services chosen with a fixed seed."""
    choose = random.Random(seed)  # own generator: the same graph whatever else uses `random`
    edges: list[Edge] = []
    for caller in range(n):
        others = [i for i in range(n) if i != caller]
        edges.extend((caller, callee) for callee in choose.sample(others, min(CALLS_PER_SERVICE, len(others))))
    return edges


GRAPHS: dict[str, Callable[[int], list[Edge]]] = {"chain": chain, "random": random_graph}
