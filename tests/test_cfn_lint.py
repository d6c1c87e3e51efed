"""cfn-lint finds no error and no warning (but App Mesh's end of life) in any synthesized template."""

from __future__ import annotations

import copy

from cfn_lint_check import BackgroundLint
from checked_apps import CheckedApp
from conftest import CHECKED_APPS_LINT
from gate_counts import count
from synthesized import Synthesized

BROKEN_COPY = "broken copy"


def test_every_template_passes_cfn_lint(checked_apps: list[CheckedApp], background_lint: BackgroundLint) -> None:
    results = background_lint.results(CHECKED_APPS_LINT)  # submitted as each app is synthesized
    problems = {label: found for label, found in results.items() if found}
    count("templates linted by cfn-lint (checked apps)", len(results))
    assert len(results) == sum(len(app.stack_names) for app in checked_apps)
    assert problems == {}, "\n".join(f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items())


def test_the_linter_reports_what_it_finds(shop: Synthesized, background_lint: BackgroundLint) -> None:
    # A gate that cannot fail proves nothing: a broken copy of the shop must be reported, by the
    # same workers as the gates (a run among the gates, where their rules are loaded).
    broken = copy.deepcopy(shop.json)
    logical_id, _ = shop.only("AWS::ECS::Cluster")
    broken["Resources"][logical_id]["Properties"]["ClusterSettings"] = "containerInsights"
    background_lint.submit(BROKEN_COPY, {"shop": (broken, "eu-west-1")})
    assert any(problem.startswith("E") for problem in background_lint.results(BROKEN_COPY)["shop"])
