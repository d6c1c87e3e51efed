"""The checkov gate: no failed check in any example template, and each acknowledgment says why, as cdk-nag's does.

The library writes each finding its design causes into the resource's template metadata
(``Metadata: {checkov: {skip: [{id, comment}]}}``) with the reason of its cdk-nag
acknowledgment, from one call (``mesh_microservices._acknowledgments.acknowledge``).
"""

from __future__ import annotations

import pytest

from checked_apps import CheckedApp
from checkov_check import BackgroundCheckov, CheckovResult, checkov_templates
from gate_counts import count
from record_logical_ids import discover as discover_examples

# What checkov's CloudFormation checks say when the bucket an application adds has no versioning.
BUCKET_VERSIONING = "CKV_AWS_21"
# AWS Solutions rules and the checkov checks of the same finding, on the same resource.
SAME_FINDINGS = {"AwsSolutions-S1": "CKV_AWS_18", "AwsSolutions-EC23": "CKV_AWS_260"}


@pytest.fixture(scope="session")
def checkov_results(
    checked_apps: list[CheckedApp], encrypted_logs_app: CheckedApp, background_checkov: BackgroundCheckov
) -> dict[str, dict[str, CheckovResult]]:
    """checkov's results by app label and stack name, for every checked app and the encrypted-logs app.

    ``checked_apps`` started checkov on these templates, in one process beside the tests.
    """
    templates = checkov_templates([*checked_apps, encrypted_logs_app])
    results = background_checkov.results()
    count("templates scanned by checkov", sum(len(stacks) for stacks in templates.values()))
    return {label: {name: results[path] for name, path in stacks.items()} for label, stacks in templates.items()}


@pytest.mark.parametrize("example", [e.name for e in discover_examples()])
def test_example_templates_pass_checkov(checkov_results: dict[str, dict[str, CheckovResult]], example: str) -> None:
    stacks = checkov_results[f"examples/{example}"]
    for result in stacks.values():
        count(f"checkov examples/{example}: passed", len(result.passed))
        count(f"checkov examples/{example}: failed", len(result.failed))
        count(f"checkov examples/{example}: acknowledged", len(result.skipped))
    failed = {name: result.describe_failed() for name, result in stacks.items() if result.failed}
    assert failed == {}, "\n".join(f"examples/{example} {name}:\n{text}" for name, text in failed.items())
    assert any(result.passed for result in stacks.values()), "checkov checked nothing"


def test_the_other_checked_apps_pass_checkov(
    checkov_results: dict[str, dict[str, CheckovResult]], example_apps: dict[str, CheckedApp]
) -> None:
    # The shop on App Mesh, the variant stacks, the Service Connect ingresses, the encrypted logs:
    # the library's other choices. OwnBucket is the application's own finding, on purpose.
    examples = {app.label for app in example_apps.values()}
    failed = {
        f"{label} {name}": result.describe_failed()
        for label, stacks in checkov_results.items()
        if label not in examples
        for name, result in stacks.items()
        if result.failed and name != "OwnBucket"
    }
    assert failed == {}, "\n".join(f"{where}:\n{text}" for where, text in failed.items())


def test_every_checkov_acknowledgment_says_why(checkov_results: dict[str, dict[str, CheckovResult]]) -> None:
    skipped = [s for stacks in checkov_results.values() for r in stacks.values() for s in r.skipped]
    assert skipped
    for finding in skipped:
        comment = finding["check_result"].get("suppress_comment", "")
        assert len(comment) >= 40 and finding["check_id"] not in comment, finding["resource"]


def test_an_application_bucket_without_versioning_fails_the_gate(
    checkov_results: dict[str, dict[str, CheckovResult]],
) -> None:
    result = checkov_results["encrypted logs"]["OwnBucket"]
    assert (BUCKET_VERSIONING, "AWS::S3::Bucket") in {
        (f["check_id"], f["resource"].split(".")[0]) for f in result.failed
    }


def test_log_groups_under_a_customer_key_need_no_acknowledgment(
    checkov_results: dict[str, dict[str, CheckovResult]],
) -> None:
    for stack in ("SealedLogs", "SealedMeshLogs"):
        result = checkov_results["encrypted logs"][stack]
        log_group_checks = [f for f in result.passed + result.failed + result.skipped if "LogGroup" in f["resource"]]
        assert log_group_checks
        assert [f["resource"] for f in log_group_checks if f in result.skipped or f in result.failed] == []


def test_the_checkov_comment_is_the_cdk_nag_reason(example_apps: dict[str, CheckedApp]) -> None:
    compared = 0
    for app in example_apps.values():
        for _, stack in app.stacks():
            skips = {
                (path, skip["id"]): skip["comment"]
                for resource in stack.json["Resources"].values()
                if (path := resource.get("Metadata", {}).get("aws:cdk:path"))
                for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
            }
            for finding in stack.acknowledged:
                check = SAME_FINDINGS.get(finding["rule"])
                if check is None or (finding["path"], check) not in skips:
                    continue
                assert skips[(finding["path"], check)] == finding["reason"], finding["path"]
                compared += 1
    assert compared >= 2  # the shop's access-log bucket and load balancer group at least
