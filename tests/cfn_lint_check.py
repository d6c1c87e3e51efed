"""cfn-lint over synthesized templates, through its Python API, against each stack's region."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from cfnlint.api import lint
from cfnlint.config import ManualArgs

# W3696: App Mesh resources are past AWS's end of life; the library says so once per cluster.
ALLOWED_RULES = frozenset({"W3696"})
# Env-agnostic stacks are linted in CloudFormation's primary region.
DEFAULT_REGION = "us-east-1"


def lint_problems(template: dict[str, Any] | str, region: str | None) -> list[str]:
    """Every cfn-lint error and warning of ``template`` except the allowed ones, readable."""
    text = template if isinstance(template, str) else json.dumps(template)
    matches = lint(text, config=ManualArgs(regions=[region or DEFAULT_REGION]))
    return [
        f"{match.rule.id} {'/'.join(map(str, match.path)) if match.path else ''}: {match.message}"
        for match in matches
        if match.rule.id not in ALLOWED_RULES
    ]


def lint_many(templates: Mapping[str, tuple[dict[str, Any], str | None]]) -> dict[str, list[str]]:
    """``lint_problems`` of each (template, region), by label, on every core: cfn-lint is pure Python."""
    # spawn: the workers need none of this process's state (its jsii runtime least of all).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2, mp_context=context) as pool:
        futures = {
            label: pool.submit(lint_problems, json.dumps(template), region)
            for label, (template, region) in templates.items()
        }
        return {label: future.result() for label, future in futures.items()}
