"""How a finding is acknowledged: in cdk-nag, in checkov and in cfn-lint, with one reason.

cdk-nag reads acknowledgments from the construct tree (``Validations.of(c).acknowledge``, with the
plugin's name in the id, so CDK lists each among the ``suppressedViolations`` of the cloud
assembly's ``validation-report.json``); checkov and cfn-lint read theirs from the resource's
template metadata.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

AWS_SOLUTIONS_PLUGIN = "AwsSolutions"
# checkov reads a resource's acknowledgments from this key of its template metadata.
CHECKOV_METADATA = "checkov"
# cfn-lint reads the checks to ignore for a resource from this key of its template metadata.
CFN_LINT_METADATA = "cfn-lint"


def aws_solutions_rule(rule: str) -> str:
    """The id an acknowledgment of an AwsSolutions rule carries, e.g. ``AwsSolutions::AwsSolutions-S1``."""
    return f"{AWS_SOLUTIONS_PLUGIN}::{rule}"


def acknowledge(
    construct: IConstruct,
    reason: str,
    *,
    cdk_nag: Sequence[str] = (),
    checkov: Sequence[str] = (),
    just_created: bool = False,
) -> None:
    """Acknowledge findings on ``construct``'s resource, in cdk-nag and in checkov, with one reason.

    Args:
        construct: A CloudFormation resource, or an L2 construct whose default child is one.
        reason: Why the library's design causes the findings: the cdk-nag reason and the checkov comment.
        cdk_nag: cdk-nag rule ids, with the plugin's name (e.g. ``AwsSolutions::AwsSolutions-S1``).
            Default: none.
        checkov: checkov check ids (e.g. ``CKV_AWS_18``), written to the resource's template metadata.
            Default: none.
        just_created: Whether the library has only just created the resource, so that it holds no
            checkov acknowledgment to keep and none is read back (a jsii round trip per resource).
            Default: False.
    """
    resource = _resource(construct)
    if cdk_nag:
        Validations.of(resource).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule in cdk_nag))
    if checkov:
        held = {} if just_created else resource.get_metadata(CHECKOV_METADATA) or {}
        skips = [skip for skip in held.get("skip", []) if skip.get("id") not in checkov]
        skips += [{"id": check, "comment": reason} for check in checkov]
        resource.add_metadata(CHECKOV_METADATA, {**held, "skip": skips})


def ignore_cfn_lint(construct: IConstruct, *checks: str) -> None:
    """Have cfn-lint skip ``checks`` on ``construct``'s resource (cfn-lint takes no reason)."""
    _resource(construct).add_metadata(CFN_LINT_METADATA, {"config": {"ignore_checks": list(checks)}})


def _resource(construct: IConstruct) -> CfnResource:
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    assert isinstance(resource, CfnResource)
    return resource
