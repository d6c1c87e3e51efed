"""What the gates covered in this run, counted by the tests and printed at the end of the session.

The counts (acknowledged findings, linted templates, inputs tried by the property tests) say how
much a green run proved; they are printed in pytest's summary and written to
``.pytest_cache/gate-counts.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

COUNTS: Counter[str] = Counter()


def count(name: str, amount: int = 1) -> None:
    """Add ``amount`` to the count called ``name``."""
    COUNTS[name] += amount


def report_gate_counts(terminalreporter: Any) -> None:
    """pytest_terminal_summary: print the counts, and keep them next to pytest's cache."""
    if not COUNTS:
        return
    terminalreporter.section("gate counts")
    for name, value in sorted(COUNTS.items()):
        terminalreporter.line(f"{name}: {value}")
    cache = Path(terminalreporter.config.rootpath) / ".pytest_cache"
    cache.mkdir(exist_ok=True)
    (cache / "gate-counts.json").write_text(json.dumps(dict(sorted(COUNTS.items())), indent=2) + "\n")
