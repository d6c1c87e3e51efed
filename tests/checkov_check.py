"""checkov over synthesized templates: one process for all of them, from the project's checkov venv.

checkov 3.3 cannot share a venv with the pinned dev tools (it requires packaging<24), so
scripts/setup installs it into ``.venv-checkov`` from requirements-checkov.txt and the gate runs
it as a command. One process reads every template: each start costs seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass(frozen=True)
class CheckovResult:
    """checkov's verdicts on one template."""

    passed: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    skipped: list[dict[str, Any]]  # acknowledged in the resource's metadata, with a comment

    def describe_failed(self) -> str:
        return "\n".join(f"  {f['check_id']} {f['resource']}: {f['check_name']}" for f in self.failed)


def run_checkov(templates: Sequence[Path]) -> dict[Path, CheckovResult]:
    """checkov's CloudFormation checks of every template, by template path, in one process."""
    if not CHECKOV.exists():
        raise RuntimeError(f"{CHECKOV} is missing: run scripts/setup, which installs requirements-checkov.txt there")
    arguments = [str(CHECKOV), "--framework", "cloudformation", "--output", "json", "--skip-download", "--compact"]
    for template in templates:
        arguments += ["--file", str(template)]
    # No telemetry, no download: the gate reads the templates and nothing else.
    environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    completed = subprocess.run(arguments, capture_output=True, text=True, env=environment, check=False)
    if completed.returncode not in (0, 1):  # 1: some check failed
        raise RuntimeError(f"checkov exited {completed.returncode}:\n{completed.stderr[-3000:]}")
    reports = json.loads(completed.stdout)
    results: dict[Path, CheckovResult] = {t.resolve(): CheckovResult([], [], []) for t in templates}
    for report in reports if isinstance(reports, list) else [reports]:
        for kind in ("passed", "failed", "skipped"):
            for result in report.get("results", {}).get(f"{kind}_checks", []):
                getattr(results[Path(result["file_abs_path"]).resolve()], kind).append(result)
    return results
