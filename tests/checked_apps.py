"""Apps synthesized once per session with cdk-nag's AwsSolutions pack attached, for every gate.

The session fixtures in conftest build each example with its own ``build()`` (what its app.py
deploys) and the variant stacks; the gate tests (cdk-nag, cfn-lint, least privilege, logical
ids) all read these assemblies instead of synthesizing again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cx_api
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from synthesized import Synthesized, synthesize_reporting

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))


@dataclass(frozen=True)
class CheckedApp:
    """One synthesized app, its construct tree and its cloud assembly."""

    label: str
    app: cdk.App
    assembly: cx_api.CloudAssembly
    _stacks: dict[str, Synthesized] = field(default_factory=dict, repr=False)
    _acknowledgments: list[tuple[IConstruct, str, str]] = field(default_factory=list, repr=False)

    @property
    def stack_names(self) -> list[str]:
        return [artifact.stack_name for artifact in self.assembly.stacks_recursively]

    def stack(self, name: str) -> Synthesized:
        if name not in self._stacks:
            self._stacks[name] = Synthesized.from_assembly(self.assembly, name)
        return self._stacks[name]

    def stacks(self) -> list[tuple[str, Synthesized]]:
        return [(name, self.stack(name)) for name in self.stack_names]

    def acknowledgments(self) -> list[tuple[IConstruct, str, str]]:
        """``acknowledgments(self.app)``, walked once: a walk costs seconds in a large app."""
        if not self._acknowledgments:
            self._acknowledgments.extend(acknowledgments(self.app))
        return self._acknowledgments

    def region(self, stack_name: str) -> str | None:
        """The stack's region, or None when it is environment-agnostic."""
        region = self.assembly.get_stack_by_name(stack_name).environment.region
        return None if region == cdk.Aws.REGION or "unknown" in region else region


def new_checked_app(outdir: Path, context: dict[str, object] | None = None) -> cdk.App:
    """An app that records construct paths as the CDK CLI does, checked by the AwsSolutions pack."""
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True, **(context or {})})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def check_app(label: str, build: Callable[[cdk.App], None], outdir: Path) -> CheckedApp:
    """Build an app with ``build`` and synthesize it, keeping unacknowledged findings for the tests."""
    app = new_checked_app(outdir)
    build(app)
    return CheckedApp(label, app, synthesize_reporting(app))


def acknowledgments(scope: IConstruct) -> Iterator[tuple[IConstruct, str, str]]:
    """(construct, rule id, reason) for every ``Validations.acknowledge()`` below ``scope``."""
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in dict(entry.data).items():
                    yield construct, str(rule), str(reason)
