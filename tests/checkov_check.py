"""checkov over synthesized templates: one process for all of them, from the project's checkov venv.

checkov 3.3 cannot share a venv with the pinned dev tools (it requires packaging<24), so
scripts/setup installs it into ``.venv-checkov`` from requirements-checkov.txt and the gate runs
it as a command. One process reads every template: each start costs seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfn_lint_check import BACKGROUND_NICENESS
from checked_apps import CheckedApp

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


class BackgroundCheckov:
    """``checkov`` over templates in a process of its own, started when they are synthesized.

    checkov takes 20-30 s for the checked apps on 2 cores and needs no jsii: it runs beside the
    tests that do, and the gates that read its results run last (see conftest).
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._templates: list[Path] = []
        # Files, not pipes: a pipe nobody reads until the end would fill up and stop checkov. Closed in stop().
        self._output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self._errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self._results: dict[Path, CheckovResult] | None = None

    def start(self, templates: Sequence[Path]) -> None:
        """Starts checkov's CloudFormation checks of every template, in one process (each start costs seconds)."""
        if not CHECKOV.exists():
            return  # results() says so: only the checkov gates fail
        arguments = [str(CHECKOV), "--framework", "cloudformation", "--output", "json", "--skip-download", "--compact"]
        for template in templates:
            arguments += ["--file", str(template)]
        # No telemetry, no download: the gate reads the templates and nothing else.
        environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
        self._templates = [t.resolve() for t in templates]
        self._process = subprocess.Popen(arguments, stdout=self._output, stderr=self._errors, env=environment)
        # The cores the tests leave idle (set after the start: preexec_fn is unsafe beside threads).
        os.setpriority(os.PRIO_PROCESS, self._process.pid, BACKGROUND_NICENESS)

    def results(self) -> dict[Path, CheckovResult]:
        """checkov's verdicts by template path, once it has finished."""
        if self._results is None:
            self._results = self._read()
        return self._results

    def stop(self) -> None:
        """Ends checkov if nobody read its results."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._output.close()
        self._errors.close()

    def _read(self) -> dict[Path, CheckovResult]:
        if not CHECKOV.exists():
            raise RuntimeError(f"{CHECKOV} is missing: run scripts/setup; it installs requirements-checkov.txt there")
        if self._process is None:
            raise RuntimeError("checkov was not started: no checked app was synthesized in this session")
        if self._process.wait() not in (0, 1):  # 1: some check failed
            self._errors.seek(0)
            raise RuntimeError(f"checkov exited {self._process.returncode}:\n{self._errors.read()[-3000:]}")
        self._output.seek(0)
        reports = json.loads(self._output.read())
        results: dict[Path, CheckovResult] = {t: CheckovResult([], [], []) for t in self._templates}
        for report in reports if isinstance(reports, list) else [reports]:
            for kind in ("passed", "failed", "skipped"):
                for result in report.get("results", {}).get(f"{kind}_checks", []):
                    getattr(results[Path(result["file_abs_path"]).resolve()], kind).append(result)
        return results


def checkov_templates(apps: list[CheckedApp]) -> dict[str, dict[str, Path]]:
    """The templates checkov checks, by app label and stack name."""
    return {
        app.label: {
            artifact.stack_name: Path(artifact.template_full_path).resolve()
            for artifact in app.assembly.stacks_recursively
        }
        for app in apps
    }
