"""cdk-nag's AwsSolutions pack finds nothing unacknowledged, and each acknowledgment is narrow and says why.

The library acknowledges the findings its design causes on the resource that causes them, or on
the task definition whose every resource it checked (``mesh_microservices._acknowledgments``);
examples acknowledge only their own constructs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

import mesh_microservices
from checked_apps import CheckedApp, check_app, new_checked_app
from conftest import ENV, NGINX
from gate_counts import count
from mesh_microservices import DataPlane, MeshedCluster, MeshedService, ServiceRepository
from mesh_microservices._acknowledgments import (
    AWS_MANAGED_POLICIES,
    CONTAINER_ENVIRONMENT_RULE,
    LAMBDA_BASIC_EXECUTION_POLICY,
    WILDCARD_RESOURCE_RULE,
)
from record_logical_ids import discover as discover_examples
from synthesized import synthesize_reporting

PLUGIN = "AwsSolutions"
# Every construct the library exports: what it acknowledges inside them is its own doing.
LIBRARY_CONSTRUCTS = tuple(
    exported
    for exported in (getattr(mesh_microservices, name) for name in mesh_microservices.__all__)
    if isinstance(exported, type) and issubclass(exported, Construct)
)


def _rule(acknowledged_id: str) -> str:
    return acknowledged_id.split("::", 1)[1]


def _describe(findings: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {f['rule']} at {f['path']}" for f in findings)


@pytest.mark.parametrize("example", [e.name for e in discover_examples()])
def test_example_has_no_unacknowledged_finding(example_apps: dict[str, CheckedApp], example: str) -> None:
    checked = example_apps[example]
    findings = [f for _, stack in checked.stacks() for f in stack.findings]
    assert findings == [], f"examples/{example} has findings to fix in the library:\n{_describe(findings)}"


def test_variant_stacks_have_no_unacknowledged_finding(variants_app: CheckedApp) -> None:
    findings = [f for _, stack in variants_app.stacks() for f in stack.findings]
    assert findings == [], _describe(findings)


def test_nag_ran_and_its_acknowledged_findings_are_reported_with_reasons(checked_apps: list[CheckedApp]) -> None:
    acknowledged = [
        f for app in checked_apps for _, stack in app.stacks() for f in stack.acknowledged if f["plugin"] == PLUGIN
    ]
    assert acknowledged, "no AwsSolutions finding reached the report: is cdk-nag attached?"
    for finding in acknowledged:
        assert len(finding["reason"]) >= 40, finding
    count("cdk-nag findings acknowledged (checked apps)", len(acknowledged))


def test_every_acknowledgment_says_why(checked_apps: list[CheckedApp]) -> None:
    recorded = [(c.node.path, rule, reason) for app in checked_apps for c, rule, reason in app.acknowledgments()]
    assert recorded
    for path, rule, reason in recorded:
        # A reason is a sentence of its own, not the rule id again or a placeholder.
        assert len(reason) >= 40 and _rule(rule) not in reason, (path, rule, reason)
    count("acknowledgments recorded in construct trees (checked apps)", len(recorded))


def test_library_acknowledges_on_the_resource_or_the_task_definition_holding_it(
    checked_apps: list[CheckedApp],
) -> None:
    for app in checked_apps:
        for _, stack in app.stacks():
            for finding in stack.acknowledged:
                where = finding["acknowledged_at"]
                if finding["plugin"] != PLUGIN or not _is_library_path(app, where) or where == finding["path"]:
                    continue
                # Else on the task definition holding the resource (its own, or a role's policy).
                assert finding["path"].startswith(where + "/"), finding
                assert isinstance(_construct_at(app, where), ecs.TaskDefinition), finding


def test_apps_acknowledge_nothing_that_contains_a_library_construct(checked_apps: list[CheckedApp]) -> None:
    for app in checked_apps:
        library_paths = [c.node.path for c in app.app.node.find_all() if isinstance(c, LIBRARY_CONSTRUCTS)]
        for construct, rule, _ in app.acknowledgments():
            if PLUGIN not in rule or _is_library_path(app, construct.node.path):
                continue  # aws-cdk-lib's own acknowledgments (e.g. W3010 for looked-up AZs) are not ours
            covered = [p for p in library_paths if p == construct.node.path or p.startswith(construct.node.path + "/")]
            assert not covered, f"{app.label}: {rule} acknowledged at {construct.node.path!r} also hides {covered}"


def _construct_at(app: CheckedApp, path: str) -> object:
    construct = app.app.node.try_find_child(path.split("/")[0])
    for part in path.split("/")[1:]:
        construct = construct.node.try_find_child(part) if construct is not None else None
    return construct


def _is_library_path(app: CheckedApp, path: str) -> bool:
    construct = app.app.node.try_find_child(path.split("/")[0]) if path else None
    for part in path.split("/")[1:]:
        if construct is None or isinstance(construct, LIBRARY_CONSTRUCTS):
            break
        construct = construct.node.try_find_child(part)
    return isinstance(construct, LIBRARY_CONSTRUCTS)


@pytest.fixture(scope="module")
def own_choices(tmp_path_factory: pytest.TempPathFactory) -> CheckedApp:
    """Services whose application adds plain variables and a wildcard grant of its own."""

    def build(app: cdk.App) -> None:
        stack = cdk.Stack(app, "OwnChoices", env=ENV)
        cluster = MeshedCluster(stack, "Cluster", namespace="own.local", data_plane=DataPlane.app_mesh())
        image = ecs.ContainerImage.from_registry(NGINX)
        MeshedService(
            stack, "Configured", cluster=cluster, name="configured", image=image, environment={"LOG_LEVEL": "debug"}
        )
        granted = MeshedService(stack, "Granted", cluster=cluster, name="granted", image=image)
        granted.task_definition.add_to_execution_role_policy(
            iam.PolicyStatement(actions=["ssm:GetParameters"], resources=["*"])
        )
        repository = ServiceRepository(stack, "Repo")
        MeshedService(stack, "Pulled", cluster=cluster, name="pulled", image=repository.image("1.0.0"))
        # After construction: a variable of the application container, and a container of its own.
        added = MeshedService(stack, "Added", cluster=cluster, name="added", image=image)
        added.app_container.add_environment("FEATURE_FLAGS", "checkout")
        extended = MeshedService(stack, "Extended", cluster=cluster, name="extended", image=image)
        extended.task_definition.add_container(
            "Worker", image=image, environment={"QUEUE": "orders"}, memory_reservation_mib=64
        )
        # Through an escape hatch: overrides the L2 API never sees, but the template carries.
        overridden = MeshedService(stack, "Overridden", cluster=cluster, name="overridden", image=image)
        resource = overridden.task_definition.node.default_child
        assert isinstance(resource, ecs.CfnTaskDefinition)
        resource.add_property_override("ContainerDefinitions.0.Environment", [{"Name": "DEBUG", "Value": "1"}])
        policy = overridden.task_definition.obtain_execution_role().node.find_child("DefaultPolicy")
        assert isinstance(policy.node.default_child, iam.CfnPolicy)
        policy.node.default_child.add_property_override(
            "PolicyDocument.Statement.3", {"Action": "s3:GetObject", "Effect": "Allow", "Resource": "*"}
        )
        _own_provider_role(cdk.Stack(app, "OwnProvider", env=ENV))

    return check_app("own choices", build, Path(tmp_path_factory.mktemp("own-choices")))


def _own_provider_role(stack: cdk.Stack) -> None:
    """An AwsCustomResource of the application's, with a role of its own, before a call round a loop."""
    role = iam.Role(
        stack,
        "OwnProviderRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(LAMBDA_BASIC_EXECUTION_POLICY)],
    )
    cr.AwsCustomResource(
        stack,
        "OwnLookup",
        on_create=cr.AwsSdkCall(
            service="STS", action="GetCallerIdentity", physical_resource_id=cr.PhysicalResourceId.of("caller")
        ),
        role=role,
        install_latest_aws_sdk=False,
    )
    cluster = MeshedCluster(stack, "Cluster", namespace="own-provider.local", data_plane=DataPlane.service_connect())
    image = ecs.ContainerImage.from_registry(NGINX)
    ping = MeshedService(stack, "Ping", cluster=cluster, name="ping", image=image)
    MeshedService(stack, "Pong", cluster=cluster, name="pong", image=image, backends=[ping])
    ping.connect_to("pong")  # closes a loop: the restart uses the provider, with the application's role


def test_application_variables_are_left_for_the_application_to_judge(own_choices: CheckedApp) -> None:
    stack = own_choices.stack("OwnChoices")
    rules = {(f["rule"], f["path"].split("/")[1]) for f in stack.findings}
    # Given at construction, added to the application container later, in a container of its own,
    # or through an escape hatch on the task definition's resource.
    for service in ("Configured", "Added", "Extended", "Overridden"):
        assert (_rule(CONTAINER_ENVIRONMENT_RULE), service) in rules, service
    acknowledged = {(f["rule"], f["path"].split("/")[1]) for f in stack.acknowledged}
    assert (_rule(CONTAINER_ENVIRONMENT_RULE), "Granted") in acknowledged  # only Envoy's variable there


def test_wildcard_grants_the_library_did_not_make_stay_reported(own_choices: CheckedApp) -> None:
    stack = own_choices.stack("OwnChoices")
    # Granted added ssm:GetParameters on "*" itself, Overridden s3:GetObject through an escape hatch:
    # the findings stay. Pulled only pulls from ECR.
    reported = {(f["rule"], f["path"].split("/")[1]) for f in stack.findings}
    assert (_rule(WILDCARD_RESOURCE_RULE), "Granted") in reported
    assert (_rule(WILDCARD_RESOURCE_RULE), "Overridden") in reported
    assert (_rule(WILDCARD_RESOURCE_RULE), "Pulled") in {
        (f["rule"], f["path"].split("/")[1]) for f in stack.acknowledged
    }


def test_task_findings_are_acknowledged_in_a_nested_stage_without_path_metadata(tmp_path: Path) -> None:
    """The check is a plugin of the stage holding the stack, and reads paths from the cloud assembly.

    Templates carry no construct paths here: the cloud assembly's metadata maps them to logical ids.
    """
    app = new_checked_app(tmp_path, {"aws:cdk:enable-path-metadata": False})
    stack = cdk.Stack(cdk.Stage(app, "Staged", env=ENV), "Services")
    cluster = MeshedCluster(stack, "Cluster", namespace="staged.local", data_plane=DataPlane.app_mesh())
    MeshedService(stack, "Orders", cluster=cluster, name="orders", image=ecs.ContainerImage.from_registry(NGINX))
    checked = CheckedApp("nested stage", app, synthesize_reporting(app))
    rules = {_rule(CONTAINER_ENVIRONMENT_RULE), _rule(WILDCARD_RESOURCE_RULE)}
    report = json.loads((Path(checked.assembly.directory) / "validation-report.json").read_text())
    nag = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == PLUGIN]
    assert nag, "cdk-nag did not report on the nested stage's stack"
    reported = [v["ruleName"] for plugin in nag for v in plugin["violations"] if v["ruleName"] in rules]
    assert reported == []
    acknowledged = {
        (v["ruleName"], v["acknowledgedAt"])
        for plugin in nag
        for v in plugin.get("suppressedViolations") or []
        if v["ruleName"] in rules
    }
    assert acknowledged == {(rule, "Staged/Services/Orders/TaskDefinition") for rule in rules}


def test_a_service_with_a_grant_of_its_own_has_its_other_policies_acknowledged_one_by_one(
    own_choices: CheckedApp,
) -> None:
    stack = own_choices.stack("OwnChoices")
    reported = {f["path"] for f in stack.findings if f["rule"] == _rule(WILDCARD_RESOURCE_RULE)}
    acknowledged = [f for f in stack.acknowledged if f["rule"] == _rule(WILDCARD_RESOURCE_RULE)]
    assert "OwnChoices/Granted/TaskDefinition/ExecutionRole/DefaultPolicy/Resource" in reported
    # The task role's telemetry grant is the library's: acknowledged on that policy alone.
    granted = [f for f in acknowledged if f["path"].startswith("OwnChoices/Granted/")]
    assert [f["path"] for f in granted] == ["OwnChoices/Granted/TaskDefinition/TaskRole/DefaultPolicy/Resource"]
    assert granted[0]["acknowledged_at"] == granted[0]["path"]


# cdk-nag's rule id for an AWS managed policy on a role.
LAMBDA_BASIC_EXECUTION_RULE = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
)


def test_the_restart_provider_role_aws_cdk_lib_made_is_acknowledged_with_why(
    example_apps: dict[str, CheckedApp],
) -> None:
    # The estate's services call each other round loops: each service stack holds the provider Lambda.
    estate = example_apps["estate"]
    stacks = [name for name in estate.stack_names if name.startswith("Services")]
    assert stacks
    for name in stacks:
        (finding,) = [f for f in estate.stack(name).acknowledged if f["rule"] == LAMBDA_BASIC_EXECUTION_RULE]
        assert finding["path"] == f"{name}/AWS679f53fac002430cb0da5b7982bd2287/ServiceRole/Resource"
        assert finding["reason"] == AWS_MANAGED_POLICIES[LAMBDA_BASIC_EXECUTION_POLICY]


def test_a_provider_role_the_application_gave_stays_reported(own_choices: CheckedApp) -> None:
    stack = own_choices.stack("OwnProvider")
    assert stack.resources("Custom::ServiceConnectCallerRestart")  # the restart shares the application's provider
    reported = {(f["rule"], f["path"]) for f in stack.findings}
    assert (LAMBDA_BASIC_EXECUTION_RULE, "OwnProvider/OwnProviderRole/Resource") in reported
    assert not [f for f in stack.acknowledged if f["rule"] == LAMBDA_BASIC_EXECUTION_RULE]
