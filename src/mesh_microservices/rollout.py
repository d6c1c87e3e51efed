"""How ECS releases a new revision of a service: the ``rollout=`` option of MeshedService.

``Rollout.rolling()`` replaces tasks a few at a time (ECS's rolling update, the default).
``Rollout.canary``, ``Rollout.linear`` and ``Rollout.blue_green`` start the new revision beside
the old one and let ECS shift the callers' traffic to it (inside Service Connect, or at a load
balancer), with bake times, lifecycle hooks, a test header that reaches the new revision first,
and a rollback when an alarm fires. A data plane decides how a rollout is applied, and refuses
one it cannot carry out (App Mesh: only ``Rollout.rolling()``).

The limits checked here are ECS's, as aws-cdk-lib 2.275 checks them (``BaseService``'s canary
and linear configuration checks), and CloudFormation's 33 hours for a canary or linear
deployment it waits for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs

from ._validate import (
    FactoryOnly,
    ValidationProblems,
    check_header,
    check_interface,
    check_option,
    check_type,
    implements,
    is_token,
    kind_of,
)
from .options import ListenerProtocol

if TYPE_CHECKING:
    from aws_cdk import aws_cloudwatch as cloudwatch

# ECS's limits (and aws-cdk-lib's checks of them): traffic steps in tenths of a percent.
CANARY_MIN_PERCENT = 0.1
LINEAR_MIN_PERCENT = 3.0
MAX_PERCENT = 100.0
PERCENT_STEPS_PER_UNIT = 10
MAX_BAKE_MINUTES = 1440
# CloudFormation refuses a canary or linear deployment whose bake times add up to more than this
# (AWS::ECS::Service CanaryConfiguration / LinearConfiguration), to finish within its 36 hours.
MAX_CLOUDFORMATION_DEPLOYMENT_MINUTES = 33 * 60
# ECS's own defaults, written into the template so that it says what ECS does.
DEFAULT_CANARY_PERCENT = 5.0
DEFAULT_CANARY_BAKE = Duration.minutes(10)
DEFAULT_LINEAR_PERCENT = 10.0
DEFAULT_LINEAR_INTERVAL = Duration.minutes(6)
DEFAULT_BAKE = Duration.minutes(15)


@dataclass(frozen=True)
class TrafficShift:
    """How a canary or linear rollout moves production traffic to the new revision.

    Attributes:
        percent: The share of production traffic each step moves (canary: its one first step).
        step_bake: How long each step runs before the next one (canary: before the rest moves).
    """

    percent: float
    step_bake: Duration


class Rollout(FactoryOnly, ABC):
    """How ECS releases a new revision of a service; pass it as ``MeshedService(rollout=...)``.

    Create one with a factory: ``Rollout.rolling()`` (the default), ``Rollout.canary(...)``,
    ``Rollout.linear(...)`` or ``Rollout.blue_green(...)``. Canary, linear and blue/green
    rollouts run the new revision beside the old one while ECS shifts traffic to it, keep the
    old one for ``bake`` after all traffic has moved, and roll back when one of their alarms
    fires: the service's own alarms (``MeshedService.alarms``) and those you pass. Each has a
    test phase first, in which only requests carrying the test header reach the new revision.

    Attributes:
        strategy: The ECS deployment strategy.
        traffic_shift: The percentage and step bake of a canary or linear rollout; None otherwise.
        bake: How long the old revision stays after all production traffic has moved to the new
            one, ready for an instant rollback (ECS's bake time); None for a rolling update.
        test_header: The ``(name, value)`` a request carries to reach the new revision during the
            test phase; None for ECS's default header (see the plane) or a rolling update.
        alarms: Your alarms that fail the deployment (beside the service's own, see
            ``watches_service_alarms``).
        rollback_on_alarm: Whether a firing alarm rolls the deployment back (else it only fails).
        lifecycle_hooks: Targets ECS invokes at the deployment's lifecycle stages.
    """

    _factories = ("rolling", "canary", "linear", "blue_green")

    def __init__(
        self,
        *,
        test_header: tuple[str, str] | None,
        alarms: Sequence[cloudwatch.IAlarm],
        rollback_on_alarm: bool,
        lifecycle_hooks: Sequence[ecs.IDeploymentLifecycleHookTarget],
    ) -> None:
        # Kept as given, checked by check_rollout: a factory never raises.
        self._test_header: object = test_header
        self._alarms: object = alarms
        self._rollback_on_alarm: object = rollback_on_alarm
        self._lifecycle_hooks: object = lifecycle_hooks

    @classmethod
    def rolling(
        cls,
        *,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        rollback_on_alarm: bool = True,
        lifecycle_hooks: Sequence[ecs.IDeploymentLifecycleHookTarget] = (),
        test_header: tuple[str, str] | None = None,
    ) -> Rollout:
        """ECS's rolling update: new tasks replace old ones a few at a time (the default).

        Tasks that fail to start roll the update back (the deployment circuit breaker). Traffic
        is not shifted: callers reach old and new tasks alike as they come and go.

        Args:
            alarms: Alarms that fail the update while it runs; with any, the service's own
                alarms join them. Default: none, and then no alarm watches the update.
            rollback_on_alarm: Whether a firing alarm rolls the update back. Default: True.
            lifecycle_hooks: Targets ECS invokes at the update's lifecycle stages, e.g.
                ``ecs.DeploymentLifecycleLambdaTarget(function, "Check", lifecycle_stages=[...])``.
                Default: none.
            test_header: Refused: a rolling update has no test phase. Default: None.
        """
        return _Rolling(
            test_header=test_header, alarms=alarms, rollback_on_alarm=rollback_on_alarm, lifecycle_hooks=lifecycle_hooks
        )

    @classmethod
    def canary(
        cls,
        *,
        percent: float = DEFAULT_CANARY_PERCENT,
        bake: Duration = DEFAULT_CANARY_BAKE,
        final_bake: Duration = DEFAULT_BAKE,
        test_header: tuple[str, str] | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        rollback_on_alarm: bool = True,
        lifecycle_hooks: Sequence[ecs.IDeploymentLifecycleHookTarget] = (),
    ) -> Rollout:
        """A canary: ``percent`` of production traffic for ``bake``, then all of it.

        Example: ``Rollout.canary(percent=10, bake=Duration.minutes(30), test_header=("x-canary",
        "true"))``.

        Args:
            percent: The share of production traffic the new revision gets first, from 0.1 to 100
                in steps of 0.1. Default: 5 (ECS's default).
            bake: How long the canary step runs before the rest of the traffic moves, whole
                minutes from 0 to 1440. Default: 10 minutes (ECS's default).
            final_bake: How long the old revision stays once all traffic has moved, whole minutes
                from 0 to 1440; ``bake`` and ``final_bake`` together at most 33 hours
                (CloudFormation's limit). Default: 15 minutes (ECS's default).
            test_header: ``(name, value)`` of the header that sends a request to the new revision
                during the test phase, e.g. ``("x-canary", "true")`` (HTTP, HTTP/2 and gRPC
                services). Default: the plane's default header (Service Connect:
                ``x-amzn-ecs-blue-green-test``). A service a Service Connect ``MeshIngress``
                routes to needs one of yours: the load balancer's test listener rule matches
                it, for requests from the internet.
            alarms: Your alarms that roll the deployment back, beside the service's own.
                Default: none.
            rollback_on_alarm: Whether a firing alarm rolls the deployment back; False only
                fails it. Default: True.
            lifecycle_hooks: Targets ECS invokes at lifecycle stages, e.g.
                ``ecs.DeploymentLifecycleLambdaTarget(function, "Smoke", lifecycle_stages=[
                ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT])``. Without ``role=``, that
                target creates a role that may invoke the function and its versions
                (``<arn>:*``), which cdk-nag reports as AwsSolutions-IAM5. Default: none.
        """
        return _Canary(
            shift=TrafficShift(percent, bake),
            bake=final_bake,
            test_header=test_header,
            alarms=alarms,
            rollback_on_alarm=rollback_on_alarm,
            lifecycle_hooks=lifecycle_hooks,
        )

    @classmethod
    def linear(
        cls,
        *,
        percent: float = DEFAULT_LINEAR_PERCENT,
        interval: Duration = DEFAULT_LINEAR_INTERVAL,
        final_bake: Duration = DEFAULT_BAKE,
        test_header: tuple[str, str] | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        rollback_on_alarm: bool = True,
        lifecycle_hooks: Sequence[ecs.IDeploymentLifecycleHookTarget] = (),
    ) -> Rollout:
        """Linear: ``percent`` more of production traffic every ``interval`` until all has moved.

        Args:
            percent: The share of production traffic each step moves, from 3 to 100 in steps of
                0.1. Default: 10 (ECS's default).
            interval: How long each step runs before the next, whole minutes from 0 to 1440.
                Default: 6 minutes (ECS's default).
            final_bake: How long the old revision stays once all traffic has moved, whole minutes
                from 0 to 1440; with the steps' intervals at most 33 hours (CloudFormation's
                limit). Default: 15 minutes (ECS's default).
            test_header: As for ``canary``. Default: the plane's default header.
            alarms: As for ``canary``. Default: none.
            rollback_on_alarm: As for ``canary``. Default: True.
            lifecycle_hooks: As for ``canary``. Default: none.
        """
        return _Linear(
            shift=TrafficShift(percent, interval),
            bake=final_bake,
            test_header=test_header,
            alarms=alarms,
            rollback_on_alarm=rollback_on_alarm,
            lifecycle_hooks=lifecycle_hooks,
        )

    @classmethod
    def blue_green(
        cls,
        *,
        bake: Duration = DEFAULT_BAKE,
        test_header: tuple[str, str] | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        rollback_on_alarm: bool = True,
        lifecycle_hooks: Sequence[ecs.IDeploymentLifecycleHookTarget] = (),
    ) -> Rollout:
        """Blue/green: all production traffic moves at once, after the test phase.

        Args:
            bake: How long the old (blue) revision stays once all traffic has moved, ready for an
                instant rollback, whole minutes from 0 to 1440. Default: 15 minutes (ECS's default).
            test_header: As for ``canary``. Default: the plane's default header.
            alarms: As for ``canary``. Default: none.
            rollback_on_alarm: As for ``canary``. Default: True.
            lifecycle_hooks: As for ``canary``. Default: none.
        """
        return _BlueGreen(
            bake=bake,
            test_header=test_header,
            alarms=alarms,
            rollback_on_alarm=rollback_on_alarm,
            lifecycle_hooks=lifecycle_hooks,
        )

    @property
    @abstractmethod
    def strategy(self) -> ecs.DeploymentStrategy:
        """The ECS deployment strategy."""

    @property
    def traffic_shift(self) -> TrafficShift | None:
        """The percentage and step bake of a canary or linear rollout; None otherwise."""
        return None

    @property
    def bake(self) -> Duration | None:
        """How long the old revision stays after all traffic has moved; None for a rolling update."""
        return None

    @property
    def has_test_phase(self) -> bool:
        """Whether the new revision gets test traffic (the test header) before production traffic."""
        return self.strategy is not ecs.DeploymentStrategy.ROLLING

    @property
    def test_header(self) -> tuple[str, str] | None:
        """The ``(name, value)`` that reaches the new revision in the test phase; None for the default."""
        header = self._test_header
        return cast("tuple[str, str]", header) if isinstance(header, tuple) else None

    @property
    def alarms(self) -> tuple[cloudwatch.IAlarm, ...]:
        """Your alarms that fail the deployment."""
        return tuple(self._alarms) if isinstance(self._alarms, (list, tuple)) else ()

    @property
    def rollback_on_alarm(self) -> bool:
        """Whether a firing alarm rolls the deployment back (else it only fails)."""
        return self._rollback_on_alarm is not False

    @property
    def lifecycle_hooks(self) -> tuple[ecs.IDeploymentLifecycleHookTarget, ...]:
        """Targets ECS invokes at the deployment's lifecycle stages."""
        hooks = self._lifecycle_hooks
        return tuple(hooks) if isinstance(hooks, (list, tuple)) else ()

    @property
    def watches_service_alarms(self) -> bool:
        """Whether the service's own alarms fail the deployment too.

        Always for canary, linear and blue/green; for a rolling update only when it has alarms of
        yours, so that ``Rollout.rolling()`` stays ECS's plain rolling update.
        """
        return self.has_test_phase or bool(self.alarms)

    @property
    def is_default(self) -> bool:
        """Whether this is ``Rollout.rolling()`` with nothing set: ECS's plain rolling update."""
        return (
            not self.has_test_phase
            and not self.alarms
            and not self.lifecycle_hooks
            and self._test_header is None
            and self._rollback_on_alarm is True
        )

    def describe(self) -> str:
        """A short description for diagrams, e.g. ``canary 10 % · bake 30m``."""
        described = self._describe()
        header = self._test_header
        if isinstance(header, tuple) and len(header) == 2:
            described += f" · test {header[0]}={header[1]}"
        return described

    def __repr__(self) -> str:
        arguments = self._arguments()
        if self._test_header is not None:
            arguments.append(f"test_header={self._test_header!r}")
        if self._alarms:
            arguments.append(f"alarms=<{len(self.alarms) or '?'} alarms>")
        if self._rollback_on_alarm is not True:
            arguments.append(f"rollback_on_alarm={self._rollback_on_alarm!r}")
        if self._lifecycle_hooks:
            arguments.append(f"lifecycle_hooks=<{len(self.lifecycle_hooks) or '?'} hooks>")
        return f"Rollout.{self._factory()}({', '.join(arguments)})"

    def _check(self, problems: ValidationProblems, where: str, *, protocol: object = None) -> None:
        """Record what is wrong with the rollout, naming each field as ``<where>.<field>``."""
        self._check_timings(problems, where)
        _check_test_header(problems, f"{where}.test_header", self, protocol)
        _check_alarms(problems, f"{where}.alarms", self._alarms)
        check_type(problems, f"{where}.rollback_on_alarm", self._rollback_on_alarm, bool)
        hooks = self._lifecycle_hooks
        if _check_sequence(problems, f"{where}.lifecycle_hooks", hooks, "ecs.IDeploymentLifecycleHookTarget"):
            assert isinstance(hooks, (list, tuple))
            for index, hook in enumerate(hooks):
                check_interface(problems, f"{where}.lifecycle_hooks[{index}]", hook, ecs.IDeploymentLifecycleHookTarget)

    @abstractmethod
    def _factory(self) -> str:
        """The name of the factory that made this rollout."""

    @abstractmethod
    def _arguments(self) -> list[str]:
        """The strategy's own arguments, as a call would show them."""

    @abstractmethod
    def _describe(self) -> str:
        """The strategy and its timings, for ``describe``."""

    @abstractmethod
    def _check_timings(self, problems: ValidationProblems, parameter: str) -> None:
        """Record what is wrong with the strategy's percentages and bake times."""


class _Rolling(Rollout):
    @property
    def strategy(self) -> ecs.DeploymentStrategy:
        return ecs.DeploymentStrategy.ROLLING

    def _factory(self) -> str:
        return "rolling"

    def _arguments(self) -> list[str]:
        return []

    def _describe(self) -> str:
        return "rolling"

    def _check_timings(self, problems: ValidationProblems, parameter: str) -> None:
        return  # a rolling update has none


class _BlueGreen(Rollout):
    def __init__(
        self,
        *,
        bake: Duration,
        test_header: tuple[str, str] | None,
        alarms: Sequence[cloudwatch.IAlarm],
        rollback_on_alarm: bool,
        lifecycle_hooks: Sequence[ecs.IDeploymentLifecycleHookTarget],
    ) -> None:
        super().__init__(
            test_header=test_header, alarms=alarms, rollback_on_alarm=rollback_on_alarm, lifecycle_hooks=lifecycle_hooks
        )
        self._bake = bake

    @property
    def strategy(self) -> ecs.DeploymentStrategy:
        return ecs.DeploymentStrategy.BLUE_GREEN

    @property
    def bake(self) -> Duration:
        return self._bake

    def _factory(self) -> str:
        return "blue_green"

    def _arguments(self) -> list[str]:
        return [f"bake={_code(self._bake)}"]

    def _describe(self) -> str:
        return f"blue/green · bake {_short(self._bake)}"

    def _check_timings(self, problems: ValidationProblems, parameter: str) -> None:
        _check_minutes(problems, f"{parameter}.bake", self._bake)


class _Shifting(Rollout):
    """A rollout that moves production traffic in steps: canary or linear."""

    def __init__(
        self,
        *,
        shift: TrafficShift,
        bake: Duration,
        test_header: tuple[str, str] | None,
        alarms: Sequence[cloudwatch.IAlarm],
        rollback_on_alarm: bool,
        lifecycle_hooks: Sequence[ecs.IDeploymentLifecycleHookTarget],
    ) -> None:
        super().__init__(
            test_header=test_header, alarms=alarms, rollback_on_alarm=rollback_on_alarm, lifecycle_hooks=lifecycle_hooks
        )
        self._shift = shift
        self._bake = bake

    @property
    def traffic_shift(self) -> TrafficShift:
        return self._shift

    @property
    def bake(self) -> Duration:
        return self._bake

    @property
    @abstractmethod
    def _minimum_percent(self) -> float:
        """The smallest step ECS accepts."""

    @property
    @abstractmethod
    def _step_parameter(self) -> str:
        """The factory's name for the step bake: ``bake`` or ``interval``."""

    @abstractmethod
    def _steps(self, percent: float) -> int:
        """How many step bakes CloudFormation counts for a step of ``percent``."""

    def _arguments(self) -> list[str]:
        return [
            f"percent={self._shift.percent!r}",
            f"{self._step_parameter}={_code(self._shift.step_bake)}",
            f"final_bake={_code(self._bake)}",
        ]

    def _check_timings(self, problems: ValidationProblems, parameter: str) -> None:
        percent_ok = self._check_percent(problems, f"{parameter}.percent", self._shift.percent)
        step = _check_minutes(problems, f"{parameter}.{self._step_parameter}", self._shift.step_bake)
        final = _check_minutes(problems, f"{parameter}.final_bake", self._bake)
        if not percent_ok or step is None or final is None:
            return
        steps = self._steps(self._shift.percent)
        total = final + step * steps
        if total > MAX_CLOUDFORMATION_DEPLOYMENT_MINUTES:
            problems.add(
                f"{parameter}: final_bake ({final} minutes) and {steps} step(s) of {self._step_parameter}="
                f"{step} minutes add up to {total} minutes; CloudFormation refuses an ECS {self._factory()} "
                f"deployment of more than {MAX_CLOUDFORMATION_DEPLOYMENT_MINUTES} minutes (33 hours). Shorten "
                f"{self._step_parameter} or final_bake, or move more traffic per step."
            )

    def _check_percent(self, problems: ValidationProblems, parameter: str, percent: object) -> bool:
        if isinstance(percent, bool) or not isinstance(percent, (int, float)):
            problems.add(f"{parameter}={percent!r} is {kind_of(percent)}; pass a number.", kind=TypeError)
            return False
        if is_token(percent):
            return False
        minimum = self._minimum_percent
        # aws-cdk-lib's test, in the same floating point: a whole number of tenths.
        tenths = percent * PERCENT_STEPS_PER_UNIT
        if not (minimum <= percent <= MAX_PERCENT) or not float(tenths).is_integer():
            problems.add(
                f"{parameter}={percent!r} is not a share of traffic ECS moves in a {self._factory()} step: use "
                f"{minimum:g} to {MAX_PERCENT:g} in steps of 0.1, e.g. {DEFAULT_LINEAR_PERCENT:g}."
            )
            return False
        return True


class _Canary(_Shifting):
    @property
    def strategy(self) -> ecs.DeploymentStrategy:
        return ecs.DeploymentStrategy.CANARY

    @property
    def _minimum_percent(self) -> float:
        return CANARY_MIN_PERCENT

    @property
    def _step_parameter(self) -> str:
        return "bake"

    def _steps(self, percent: float) -> int:
        return 1  # one canary step, then the rest at once

    def _factory(self) -> str:
        return "canary"

    def _describe(self) -> str:
        return f"canary {self._shift.percent:g} % · bake {_short(self._shift.step_bake)}"


class _Linear(_Shifting):
    @property
    def strategy(self) -> ecs.DeploymentStrategy:
        return ecs.DeploymentStrategy.LINEAR

    @property
    def _minimum_percent(self) -> float:
        return LINEAR_MIN_PERCENT

    @property
    def _step_parameter(self) -> str:
        return "interval"

    def _steps(self, percent: float) -> int:
        # CloudFormation's count: no step bake after the shift that reaches 100 %.
        tenths = round(percent * PERCENT_STEPS_PER_UNIT)
        whole = MAX_PERCENT * PERCENT_STEPS_PER_UNIT
        return int(whole // tenths) - (1 if whole % tenths == 0 else 0)

    def _factory(self) -> str:
        return "linear"

    def _describe(self) -> str:
        return f"linear {self._shift.percent:g} % every {_short(self._shift.step_bake)}"


def check_rollout(problems: ValidationProblems, parameter: str, value: object, *, protocol: object) -> None:
    """Record what is wrong with a ``Rollout`` whatever the data plane (each plane checks the rest).

    Args:
        problems: Where problems are recorded.
        parameter: The parameter's name in messages, e.g. "rollout".
        value: What was given.
        protocol: The service's listener protocol: a test header needs HTTP headers.
    """
    check_option(problems, parameter, value, Rollout, protocol=protocol)


def _check_minutes(problems: ValidationProblems, parameter: str, duration: object) -> int | None:
    """A bake time: a Duration of whole minutes from 0 to 1440; return the minutes (None: a token or wrong)."""
    if not check_type(problems, parameter, duration, Duration):
        return None
    assert isinstance(duration, Duration)
    if duration.is_unresolved():
        return None
    seconds = duration.to_seconds(integral=False)
    if seconds % 60 or not 0 <= seconds / 60 <= MAX_BAKE_MINUTES:
        problems.add(
            f"{parameter}={_code(duration)} is not a bake time ECS accepts: use whole minutes from 0 "
            f"to {MAX_BAKE_MINUTES} (24 hours), e.g. Duration.minutes(30)."
        )
        return None
    return int(seconds // 60)


def _check_test_header(problems: ValidationProblems, parameter: str, rollout: Rollout, protocol: object) -> None:
    header = rollout._test_header
    if header is None:
        return
    if not (
        isinstance(header, tuple) and len(header) == 2 and isinstance(header[0], str) and isinstance(header[1], str)
    ):
        problems.add(
            f"{parameter}={header!r} is {kind_of(header)}; pass (name, value), e.g. ('x-canary', 'true').",
            kind=TypeError,
        )
        return
    check_header(problems, parameter, *header)
    if not rollout.has_test_phase:
        problems.add(
            f"{parameter}={header!r}: a rolling update has no test phase, so the header would route no request. "
            "Use Rollout.canary(...), Rollout.linear(...) or Rollout.blue_green(...) with test_header=, or drop "
            "test_header."
        )
    if isinstance(protocol, ListenerProtocol) and protocol is ListenerProtocol.TCP:
        problems.add(
            f"{parameter}={header!r}: protocol=ListenerProtocol.TCP carries no HTTP headers to match. Drop "
            "test_header (the rollout still shifts connections), or serve HTTP, HTTP/2 or gRPC."
        )


def _check_alarms(problems: ValidationProblems, parameter: str, alarms: object) -> None:
    if not _check_sequence(problems, parameter, alarms, "cloudwatch.IAlarm") or not alarms:
        return
    assert isinstance(alarms, (list, tuple))
    # Imported when used: aws_cloudwatch loads only for applications with alarms.
    from aws_cdk import aws_cloudwatch as cloudwatch

    for index, alarm in enumerate(alarms):
        if not implements(alarm, cloudwatch.IAlarm):
            problems.add(
                f"{parameter}[{index}]={alarm!r} is {kind_of(alarm)}; pass a CloudWatch alarm "
                "(cloudwatch.IAlarm), e.g. cloudwatch.Alarm(...) or cloudwatch.Alarm.from_alarm_name(...).",
                kind=TypeError,
            )


def _check_sequence(problems: ValidationProblems, parameter: str, value: object, item: str) -> bool:
    if isinstance(value, (list, tuple)):
        return True
    problems.add(f"{parameter}={value!r} is {kind_of(value)}; pass a list of {item}.", kind=TypeError)
    return False


def _minutes(duration: Duration) -> int | None:
    if not isinstance(duration, Duration) or duration.is_unresolved():
        return None
    seconds = duration.to_seconds(integral=False)
    return int(seconds // 60) if seconds % 60 == 0 else None


def _short(duration: Duration) -> str:
    """A bake time as a diagram shows it: ``30m``, ``2h``, ``1h30m``."""
    minutes = _minutes(duration)
    if minutes is None:
        return duration.to_human_string() if isinstance(duration, Duration) else repr(duration)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h" + (f"{rest}m" if rest else "")


def _code(duration: object) -> str:
    """A bake time as code would write it: ``Duration.minutes(30)``, ``Duration.seconds(90)``."""
    if not isinstance(duration, Duration) or duration.is_unresolved():
        return repr(duration)
    seconds = duration.to_seconds(integral=False)
    if seconds % 60 == 0:
        return f"Duration.minutes({int(seconds // 60)})"
    return f"Duration.seconds({seconds:g})"
