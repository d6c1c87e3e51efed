"""cfn-lint over synthesized templates, through its Python API, against each stack's region."""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from cfnlint.config import ConfigMixIn
from cfnlint.decode.decode import decode_str
from cfnlint.rules import Rules
from cfnlint.runner import Runner, run_template_by_data

# W3696: App Mesh resources are past AWS's end of life; the library says so once per cluster.
ALLOWED_RULES = frozenset({"W3696"})
# A background process's niceness: the lowest CPU priority Linux gives.
BACKGROUND_NICENESS = 19
# Env-agnostic stacks are linted in CloudFormation's primary region.
DEFAULT_REGION = "us-east-1"


def lint_problems(template: dict[str, Any] | str, region: str | None) -> list[str]:
    """Every cfn-lint error and warning of ``template`` except the allowed ones, readable."""
    text = template if isinstance(template, str) else json.dumps(template)
    decoded, errors = decode_str(text)
    config = ConfigMixIn(regions=[region or DEFAULT_REGION])
    matches = errors or list(run_template_by_data(decoded, config, _rules()))
    return [
        f"{match.rule.id} {'/'.join(map(str, match.path)) if match.path else ''}: {match.message}"
        for match in matches
        if match.rule.id not in ALLOWED_RULES
    ]


@functools.cache
def _rules() -> Rules:
    """cfn-lint's rules, loaded once per process (``cfnlint.api.lint`` loads them per template, 0.5 s each)."""
    return Runner(ConfigMixIn(regions=[DEFAULT_REGION])).rules


class BackgroundLint:
    """``lint_problems`` of templates on every core while the test session goes on.

    cfn-lint is pure Python and takes about a minute for the checked apps: tests submit templates
    as soon as they are synthesized, linting runs beside the tests that need jsii, and the gates
    that read the results run last (see ``pytest_collection_modifyitems`` in conftest).
    """

    def __init__(self) -> None:
        # spawn: the workers need none of this process's state (its jsii runtime least of all).
        context = multiprocessing.get_context("spawn")
        # Lowest priority: the workers take the cores the tests leave idle, never the tests' own.
        self._pool = ProcessPoolExecutor(
            max_workers=os.cpu_count() or 2, mp_context=context, initializer=os.nice, initargs=(BACKGROUND_NICENESS,)
        )
        self._futures: dict[str, dict[str, Future[list[str]]]] = {}

    def submit(self, group: str, templates: Mapping[str, tuple[dict[str, Any], str | None]]) -> None:
        """Starts linting each (template, region) of ``templates``, by label, under ``group``."""
        futures = self._futures.setdefault(group, {})
        for label, (template, region) in templates.items():
            futures[label] = self._pool.submit(lint_problems, json.dumps(template), region)

    def results(self, group: str) -> dict[str, list[str]]:
        """Every template's problems in ``group``, by label, once all are linted."""
        return {label: future.result() for label, future in self._futures.get(group, {}).items()}

    def shutdown(self) -> None:
        """Stops the workers, dropping what nobody read."""
        self._pool.shutdown(wait=False, cancel_futures=True)
