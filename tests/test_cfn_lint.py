"""cfn-lint finds no error and no warning (but App Mesh's end of life) in any synthesized template."""

from __future__ import annotations

import copy

from cfn_lint_check import BackgroundLint, lint_problems
from checked_apps import CheckedApp
from conftest import CHECKED_APPS_LINT
from gate_counts import count
from synthesized import Synthesized


def test_every_template_passes_cfn_lint(checked_apps: list[CheckedApp], background_lint: BackgroundLint) -> None:
    results = background_lint.results(CHECKED_APPS_LINT)  # submitted by the checked_apps fixture
    problems = {label: found for label, found in results.items() if found}
    count("templates linted by cfn-lint (checked apps)", len(results))
    assert len(results) == sum(len(app.stack_names) for app in checked_apps)
    assert problems == {}, "\n".join(f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items())


def test_the_linter_reports_what_it_finds(shop: Synthesized) -> None:
    # A gate that cannot fail proves nothing: a broken copy of the shop must be reported.
    broken = copy.deepcopy(shop.json)
    logical_id, _ = shop.only("AWS::ECS::Cluster")
    broken["Resources"][logical_id]["Properties"]["ClusterSettings"] = "containerInsights"
    assert any(problem.startswith("E") for problem in lint_problems(broken, "eu-west-1"))
