"""A synthesized stack with what tests read: its template, its messages and validation findings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api
from aws_cdk.assertions import Template


@dataclass(frozen=True)
class Synthesized:
    """One stack of a synthesized app."""

    template: Template
    json: dict[str, Any]
    messages: list[tuple[str, str, str]]  # level, construct path, text
    findings: list[dict[str, Any]]  # validation-plugin violations that were not acknowledged
    # Violations acknowledged with Validations.acknowledge(id="<plugin>::<rule>"), with their reason.
    acknowledged: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_assembly(cls, assembly: cx_api.CloudAssembly, stack_name: str) -> Synthesized:
        artifact = assembly.get_stack_by_name(stack_name)
        template_json: dict[str, Any] = artifact.template
        messages = [(str(m.level.value).lower(), m.id, str(m.entry.data)) for m in artifact.messages]
        report_file = Path(assembly.directory) / "validation-report.json"
        findings: list[dict[str, Any]] = []
        acknowledged: list[dict[str, Any]] = []
        if report_file.exists():
            for plugin in json.loads(report_file.read_text())["pluginReports"]:
                if (plugin.get("metadata") or {}).get("cdk:annotations") == "true":
                    continue  # annotations (flag @aws-cdk/core:annotationsInValidationReport) are in messages
                for violation in plugin["violations"]:
                    for construct in violation["violatingConstructs"]:
                        if construct["constructPath"].split("/")[0] == stack_name:
                            findings.append(
                                {
                                    "plugin": plugin["pluginName"],
                                    "rule": violation["ruleName"],
                                    "path": construct["constructPath"],
                                }
                            )
                for violation in plugin.get("suppressedViolations") or []:
                    for construct in violation["violatingConstructs"]:
                        if construct["constructPath"].split("/")[0] == stack_name:
                            acknowledged.append(
                                {
                                    "plugin": plugin["pluginName"],
                                    "rule": violation["ruleName"],
                                    "path": construct["constructPath"],
                                    "acknowledged_at": violation.get("acknowledgedAt", ""),
                                    "reason": violation.get("reason", ""),
                                }
                            )
        return cls(Template.from_json(template_json), template_json, messages, findings, acknowledged)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The resources of one type, by logical id."""
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        """The one resource of a type: (logical id, resource)."""
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))

    def resource(self, resource_type: str, path_part: str) -> dict[str, Any]:
        """The resource of ``resource_type`` whose construct path contains ``path_part``."""
        resource: dict[str, Any] = self.json["Resources"][self.logical_id(resource_type, path_part)]
        return resource

    def logical_id(self, resource_type: str, path_part: str) -> str:
        """The logical id of the resource of ``resource_type`` whose construct path contains ``path_part``."""
        matches = [
            k
            for k, v in self.resources(resource_type).items()
            if path_part in v.get("Metadata", {}).get("aws:cdk:path", "")
        ]
        assert len(matches) == 1, f"{resource_type} at *{path_part}*: {matches}"
        return matches[0]


def synthesize(app: cdk.App, stack_name: str) -> Synthesized:
    """Synthesize ``app`` and return one of its stacks."""
    return Synthesized.from_assembly(app.synth(), stack_name)


def synthesize_reporting(app: cdk.App) -> cx_api.CloudAssembly:
    """Synthesize ``app`` even when a validation plugin (cdk-nag) reports unacknowledged findings.

    CDK then raises after writing the whole assembly; reading it back lets the tests that check
    other things run, and the gate tests show each finding from validation-report.json.
    """
    try:
        return app.synth()
    except RuntimeError as error:
        # A plugin's findings ("ValidationFailed: ..."), not a construct's own validation errors
        # ("ValidationFailedWithErrors: ..."), which must fail the test.
        if not str(error).startswith("ValidationFailed:"):
            raise
        return cx_api.CloudAssembly(app.outdir)
