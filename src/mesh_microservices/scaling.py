"""Scaling: how many tasks a service runs, tracked against its load by Application Auto Scaling.

A ``Scaling`` given to ``MeshedService(scaling=...)`` registers each version's ECS service as a
scalable target between ``min_tasks`` and ``max_tasks`` and adds one target-tracking policy per
target given: average CPU, average memory, and requests per task counted by the Application
Load Balancer that routes to the service. With several targets, the service scales out when
any policy asks for more tasks and in only when all of them allow fewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._validate import ValidationProblems, check_positive, check_type, is_token

# Target-tracking percentages, as Application Auto Scaling reads the ECS utilization metrics.
MIN_PERCENT = 1
MAX_PERCENT = 100


@dataclass(frozen=True, kw_only=True)
class Scaling:
    """Target tracking of a service's task count, checked when it is created.

    ``MeshedService``'s ``desired_count`` (and each version's) must lie within
    ``[min_tasks, max_tasks]``: it is the count the service starts with; Application Auto
    Scaling moves the count from there. A later deployment that changes ``desired_count`` sets
    the count again until the next scaling activity; one that keeps it leaves the count alone.

    Attributes:
        max_tasks: The most tasks the service scales out to. Required.
        min_tasks: The fewest tasks the service scales in to, 1 or more. Default: 1.
        cpu_percent: The average CPU utilization, in percent (1 to 100), to keep the tasks at.
            Default: none (no CPU policy).
        memory_percent: The average memory utilization, in percent (1 to 100), to keep the tasks
            at. Default: none (no memory policy).
        requests_per_target: The requests per task per minute to keep, counted by the
            Application Load Balancer that routes to the service (Service Connect, through a
            ``MeshIngress`` with an ALB). Default: none (no request-count policy).

    Raises:
        ValueError: A field is out of range, ``min_tasks`` exceeds ``max_tasks``, or no target
            is given; every problem is listed.
        TypeError: A field has the wrong type.
    """

    max_tasks: int
    min_tasks: int = 1
    cpu_percent: float | None = None
    memory_percent: float | None = None
    requests_per_target: int | None = None

    def __post_init__(self) -> None:
        problems = ValidationProblems("Scaling")
        self._check(problems, "")
        problems.raise_if_any()

    def _check(self, problems: ValidationProblems, where: str) -> None:
        """Record what is wrong with the fields, named ``<where>.<field>`` (bare when ``where`` is empty)."""
        at = f"{where}." if where else ""
        min_ok = _check_count(problems, f"{at}min_tasks", self.min_tasks)
        max_ok = _check_count(problems, f"{at}max_tasks", self.max_tasks)
        known = min_ok and max_ok and not is_token(self.min_tasks) and not is_token(self.max_tasks)
        if known and self.min_tasks > self.max_tasks:
            problems.add(
                f"{at}min_tasks={self.min_tasks} exceeds {at}max_tasks={self.max_tasks}; raise max_tasks to "
                f"{self.min_tasks} or more, or lower min_tasks."
            )
        for parameter in ("cpu_percent", "memory_percent"):
            _check_percent(problems, f"{at}{parameter}", getattr(self, parameter))
        if self.requests_per_target is not None:
            _check_count(problems, f"{at}requests_per_target", self.requests_per_target)
        if self.targets == ():
            problems.add(
                f"{where + ': ' if where else ''}no target is given, so nothing would ever change the task count: give "
                "cpu_percent, memory_percent or requests_per_target, e.g. Scaling(max_tasks=10, cpu_percent=60)."
            )

    @property
    def targets(self) -> tuple[str, ...]:
        """The names of the targets given, in the order ``cpu_percent``, ``memory_percent``, ``requests_per_target``."""
        names = ("cpu_percent", "memory_percent", "requests_per_target")
        return tuple(name for name in names if getattr(self, name) is not None)

    def _bounds_problem(self, parameter: str, desired_count: object) -> str | None:
        """Why ``desired_count`` (given as ``parameter``) cannot start this scaling, or None if it can."""
        values = (desired_count, self.min_tasks, self.max_tasks)
        if not isinstance(desired_count, int) or isinstance(desired_count, bool) or any(map(is_token, values)):
            return None  # a wrong type is reported by the desired_count check; tokens are CloudFormation's
        if self.min_tasks <= desired_count <= self.max_tasks:
            return None
        return (
            f"{parameter}={desired_count} lies outside scaling's min_tasks={self.min_tasks} to "
            f"max_tasks={self.max_tasks}: the service would start at a count scaling moves away from at once. "
            f"Give {parameter} from {self.min_tasks} to {self.max_tasks}, or widen the scaling bounds."
        )


def _check_count(problems: ValidationProblems, parameter: str, value: object) -> bool:
    """A count of 1 or more; a number token (a CfnParameter's value) is CloudFormation's to check."""
    if isinstance(value, float) and is_token(value):
        return True
    return check_positive(problems, parameter, value)


def _check_percent(problems: ValidationProblems, parameter: str, value: object) -> None:
    if value is None or not check_type(problems, parameter, value, (int, float)):
        return
    if isinstance(value, bool):
        problems.add(f"{parameter}={value!r} is a bool; pass a number from 1 to 100.", kind=TypeError)
        return
    assert isinstance(value, (int, float))
    if not is_token(value) and not MIN_PERCENT <= value <= MAX_PERCENT:
        problems.add(
            f"{parameter}={value} is not a percentage from {MIN_PERCENT} to {MAX_PERCENT}; give the average "
            "utilization to keep the tasks at, e.g. 60."
        )
