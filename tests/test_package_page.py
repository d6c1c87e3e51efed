"""README as PyPI shows it: absolute links only, and the shop's diagram as a current image.

PyPI renders README.md away from the repository, so a relative link leads nowhere there and a
```mermaid block shows as code. The diagram is docs/topology.svg, drawn by scripts/render_topology
from docs/topology.mmd; these tests need no browser: they check that the library still draws the
shop as docs/topology.mmd says, and that the image was drawn from that source.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

from checked_apps import CheckedApp
from mesh_microservices import mermaid_topology

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DIAGRAM_SOURCE = ROOT / "docs" / "topology.mmd"
DIAGRAM_IMAGE = ROOT / "docs" / "topology.svg"
RENDER = "scripts/render_topology"

# Link targets in Markdown: [text](target), ![alt](target), [label]: target, and HTML src/href.
_LINK_TARGETS = re.compile(r"\]\(\s*<?([^)\s>]+)|^\s*\[[^\]]+\]:\s*<?(\S+?)>?\s*$|(?:src|href)=\"([^\"]+)\"", re.M)


def _repository() -> str:
    """The repository's URL, as pyproject.toml gives it to PyPI."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return str(project["urls"]["Repository"])


def _link_targets(markdown: str) -> list[str]:
    """Every link and image target of ``markdown``, code blocks left out."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    return [next(group for group in match.groups() if group) for match in _LINK_TARGETS.finditer(prose)]


def test_readme_links_are_absolute() -> None:
    targets = _link_targets(README.read_text())
    assert targets, "README.md has no links: is the pattern still right?"
    relative = [target for target in targets if not target.startswith("https://")]
    assert relative == [], f"PyPI cannot follow these: make them {_repository()}/blob/main/..."


def test_readme_shows_the_diagram_as_an_image_not_as_mermaid() -> None:
    readme = README.read_text()
    raw = _repository().replace("https://github.com/", "https://raw.githubusercontent.com/")
    assert f"]({raw}/main/docs/topology.svg)" in readme
    assert "```mermaid" not in readme


def test_diagram_source_is_how_the_library_draws_the_shop_today(example_apps: dict[str, CheckedApp]) -> None:
    drawn = mermaid_topology(example_apps["shop"].app)
    assert DIAGRAM_SOURCE.read_text() == drawn, f"the shop's diagram changed: run {RENDER} and commit docs/"


def test_diagram_image_was_drawn_from_the_committed_source() -> None:
    first_line = DIAGRAM_IMAGE.read_text().split("\n", 1)[0]
    recorded = re.search(r"sha256 ([0-9a-f]{64})", first_line)
    assert recorded is not None, f"docs/topology.svg lacks its source's digest: run {RENDER}"
    source_digest = hashlib.sha256(DIAGRAM_SOURCE.read_bytes()).hexdigest()
    assert recorded[1] == source_digest, f"docs/topology.svg was drawn from another source: run {RENDER}"
