"""Scanner findings that the library's design causes, acknowledged where they arise, with one reason.

Two scanners read what the library builds: cdk-nag's AwsSolutions pack (on the construct tree)
and checkov (on the synthesized templates). A finding both report is acknowledged by one call,
which writes the cdk-nag acknowledgment and the resource's checkov metadata
(``Metadata: {checkov: {skip: [{id, comment}]}}``) with the same reason text.

Each acknowledgment covers only resources the library created and checked, with its reason, so
``Validations.of(app).add_plugins(AwsSolutionsChecks(app))`` leaves an application only the
findings of its own choices. One-off resources (a load balancer's group, its log bucket, a role)
are acknowledged on the resource itself. A task definition's findings are decided when the app
is validated, from the synthesized template cdk-nag reads (so whatever the application added,
through the API or an escape hatch, counts), and acknowledged on the task definition when they
hold for everything below it, else on each resource they hold for. Every other finding is fixed
in the constructs' defaults.

The cdk-nag ids carry the plugin's name (``AwsSolutions::``): CDK then lists each acknowledged finding,
with its reason and where it was acknowledged, among the ``suppressedViolations`` of the cloud
assembly's ``validation-report.json``. The one cfn-lint finding the library's resources cause
(aws-cdk-lib's provider Lambda for AwsCustomResource) is acknowledged in that resource's template
metadata, where cfn-lint reads it.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import (
    Acknowledgment,
    CfnResource,
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    Stack,
    Stage,
    Validations,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import IConstruct

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

AWS_SOLUTIONS_PLUGIN = "AwsSolutions"
CONTAINER_ENVIRONMENT_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-ECS2"
WILDCARD_RESOURCE_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-IAM5[Resource::*]"
OPEN_INGRESS_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-EC23"
SERVER_ACCESS_LOGS_RULE = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-S1"
# checkov reads a resource's acknowledgments from this key of its template metadata.
CHECKOV_METADATA = "checkov"
# checkov's CloudFormation checks the library's design meets (checkov 3.3 ids).
CHECKOV_ACCESS_LOGGING = "CKV_AWS_18"  # S3 bucket server access logging
CHECKOV_HTTPS_LISTENER = "CKV_AWS_2"  # ALB listener protocol HTTPS
CHECKOV_LISTENER_TLS = "CKV_AWS_103"  # load balancer listener TLS 1.2 or later
CHECKOV_ECR_KMS = "CKV_AWS_136"  # ECR repository encrypted with KMS
CHECKOV_LOG_GROUP_KMS = "CKV_AWS_158"  # CloudWatch log group encrypted with KMS
CHECKOV_LAMBDA_CONCURRENCY = "CKV_AWS_115"  # Lambda function-level concurrency limit
CHECKOV_LAMBDA_DEAD_LETTER_QUEUE = "CKV_AWS_116"  # Lambda dead-letter queue
CHECKOV_LAMBDA_IN_VPC = "CKV_AWS_117"  # Lambda inside a VPC
CHECKOV_OPEN_PORT_80 = "CKV_AWS_260"  # security group ingress from 0.0.0.0/0 to port 80
# Cloud assembly schema: a stack artifact's type, the metadata entry naming a resource's logical id,
# and the template metadata naming its construct path (when path metadata is on, as the CLI sets).
STACK_ARTIFACT = "aws:cloudformation:stack"
LOGICAL_ID_METADATA = "aws:cdk:logicalId"
PATH_METADATA = "aws:cdk:path"
TASK_CHECKS_PLUGIN = "mesh-microservices-task-checks"
UNREADABLE_POLICY = "<a policy document the check cannot read>"

# Why the role ECS shifts a load balancer's traffic with may read on "*" (see UNSCOPABLE_ACTIONS).
_LOAD_BALANCER_READS = "Elastic Load Balancing's Describe actions have no resource-level permissions"
_TRAFFIC_SHIFT_ROLE = (
    "The role ECS shifts a Service Connect service's load balancer traffic with (canary, linear, blue/green) "
    "writes to that service's two target groups and two listener rules only; only ecs.amazonaws.com assumes it."
)

# IAM actions without resource-level permissions (IAM service authorization reference: no
# resource type), which can only be granted on "*"; with why the library grants each.
UNSCOPABLE_ACTIONS: Mapping[str, str] = {
    "ecr:GetAuthorizationToken": (
        "ECR's registry login token has no resource-level permissions; the execution role needs it "
        "to pull any ECR image (the Envoy image, ServiceRepository images), while each repository's "
        "pull actions stay granted on that repository only."
    ),
    "xray:PutTraceSegments": (
        "X-Ray has no resource-level permissions for sending traces; with tracing on, the X-Ray daemon "
        "sidecar uploads the segments Envoy and the application record, from the task role."
    ),
    "xray:PutTelemetryRecords": (
        "X-Ray has no resource-level permissions for telemetry; the X-Ray daemon sidecar reports its own "
        "health (segments received, rejected, failed) with it."
    ),
    "xray:GetSamplingRules": (
        "X-Ray sampling-rule reads have no resource-level permissions; the X-Ray daemon sidecar fetches "
        "them for the application's X-Ray SDK (centralized sampling)."
    ),
    "xray:GetSamplingTargets": (
        "X-Ray sampling targets have no resource-level permissions; the X-Ray daemon sidecar requests "
        "them for the application's X-Ray SDK (centralized sampling)."
    ),
    "elasticloadbalancing:DescribeListeners": (
        f"{_LOAD_BALANCER_READS}; ECS reads the listeners with it. {_TRAFFIC_SHIFT_ROLE}"
    ),
    "elasticloadbalancing:DescribeRules": (
        f"{_LOAD_BALANCER_READS}; ECS reads the listener rules with it. {_TRAFFIC_SHIFT_ROLE}"
    ),
    "elasticloadbalancing:DescribeTargetGroups": (
        f"{_LOAD_BALANCER_READS}; ECS reads the target groups with it. {_TRAFFIC_SHIFT_ROLE}"
    ),
    "elasticloadbalancing:DescribeTargetHealth": (
        f"{_LOAD_BALANCER_READS}; ECS reads the new revision's target health with it. {_TRAFFIC_SHIFT_ROLE}"
    ),
    "cloudwatch:PutMetricData": (
        "CloudWatch metrics have no resource ARN; the CloudWatch agent sidecar publishes Envoy's "
        "statistics with it, and the grant's cloudwatch:namespace condition keeps it to that one namespace."
    ),
}

LAMBDA_BASIC_EXECUTION_POLICY = "service-role/AWSLambdaBasicExecutionRole"
# The child of aws-cdk-lib's Lambda function that is the role it created for the function.
LAMBDA_ROLE_ID = "ServiceRole"

# cfn-lint reads the checks to ignore for a resource from this key of its template metadata.
CFN_LINT_METADATA = "cfn-lint"
OBSOLETE_DEPENDS_ON_CHECK = "W3005"

# AWS managed policies the library attaches (or aws-cdk-lib attaches for it), with why a policy AWS
# maintains beats an inline copy.
AWS_MANAGED_POLICIES: Mapping[str, str] = {
    "service-role/AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity": (
        "The policy ECS documents for the infrastructure role that issues Service Connect TLS "
        "certificates (Amazon ECS developer guide, 'Amazon ECS infrastructure IAM role'). AWS revises "
        "it as ECS's TLS feature changes, which an inline copy would not follow; only "
        "ecs.amazonaws.com can assume the role."
    ),
    LAMBDA_BASIC_EXECUTION_POLICY: (
        "The policy aws-cdk-lib's AwsCustomResource attaches to the role of its provider Lambda (one per "
        "stack), which restarts Service Connect callers whose callee deploys after them: it lets the function "
        "write its own logs to CloudWatch Logs, as AWS's Lambda developer guide documents, and nothing else. "
        "Each restart's ECS permission is a separate policy on that caller's service ARN only."
    ),
}


def acknowledge_sidecar_environment(
    task_definition: ecs.TaskDefinition, *, container_name: str, variables: str
) -> None:
    """Record a sidecar's plain variables, for the AwsSolutions-ECS2 decision of ``acknowledge_task_findings``.

    Args:
        task_definition: The task definition holding the sidecar.
        container_name: The name of the container whose environment the library sets.
        variables: What the sidecar's variables hold, for the reason.
    """
    held = _SIDECAR_VARIABLES.setdefault(task_definition, {})
    held.setdefault(container_name, []).append(variables)


def acknowledge_task_findings(
    task_definition: ecs.TaskDefinition, *, stack: Stack, parent: IConstruct, path: str
) -> None:
    """Acknowledge the findings the library's design causes on a task definition, from its template.

    Decided when the app is validated, from the synthesized template that cdk-nag reads, so that
    the application's own choices stay reported, whether made with the L2 API or an escape hatch:

    - AwsSolutions-ECS2 (plain environment variables), when the only containers with plain
      variables are the sidecars recorded with ``acknowledge_sidecar_environment``;
    - AwsSolutions-IAM5[Resource::*], when every action a policy of the task's roles grants on
      "*" is one of ``UNSCOPABLE_ACTIONS`` (the execution role pulls images and writes logs, the
      task role holds the sidecars' grants).

    When both hold for everything below the task definition, they are acknowledged on it;
    otherwise each on the resources it holds for, and the application's stay reported.

    Args:
        task_definition: A task definition the library created, with its roles.
        stack: The stack that holds it.
        parent: A construct above it, usually the stack: its path is asked of jsii once, however
            many task definitions are below it.
        path: The construct ids from ``parent`` down to the task definition, joined by "/".
    """
    checks = _STACK_CHECKS.get(stack)
    if checks is None:
        stage = Stage.of(stack)
        assert stage is not None  # a Stack always has an enclosing Stage, its App at least
        if stage not in _STAGE_CHECKS:  # one plugin per stage, whatever the number of its stacks
            _STAGE_CHECKS[stage] = _TaskFindingChecks()
            Validations.of(stage).add_plugins(_STAGE_CHECKS[stage])
        checks = _STACK_CHECKS[stack] = _STAGE_CHECKS[stage]
    checks.task_definitions.append((task_definition, parent, path))


def acknowledge_aws_managed_policy(role: iam.Role, policy_name: str) -> None:
    """Acknowledge AwsSolutions-IAM4 on ``role`` for one policy of ``AWS_MANAGED_POLICIES``.

    Args:
        role: The role the policy is attached to.
        policy_name: The policy's name, as given to ``ManagedPolicy.from_aws_managed_policy_name``.
    """
    arn = f"arn:<AWS::Partition>:iam::aws:policy/{policy_name}"  # how cdk-nag spells it
    rule = f"{AWS_SOLUTIONS_PLUGIN}::AwsSolutions-IAM4[Policy::{arn}]"
    acknowledge(role, AWS_MANAGED_POLICIES[policy_name], cdk_nag=[rule])


def acknowledge_custom_resource_provider(provider: IConstruct) -> None:
    """Acknowledge what aws-cdk-lib's provider Lambda for AwsCustomResource causes, once per provider.

    The provider is one Lambda function per stack, shared by every AwsCustomResource there:

    - AwsSolutions-IAM4 for ``LAMBDA_BASIC_EXECUTION_POLICY``, on the role aws-cdk-lib created for
      it (the function's child ``ServiceRole``) only: a role an application gave the stack's first
      AwsCustomResource stays the application's to judge;
    - cfn-lint W3005 (obsolete DependsOn) on the function: aws-cdk-lib makes every function depend
      on its role, which the function's ``Role`` attribute already references. cfn-lint reads the
      acknowledgment from the resource's template metadata;
    - checkov's concurrency limit, dead-letter queue and VPC checks on the function: CloudFormation
      invokes it synchronously, rarely, and it calls only the ECS API.

    Args:
        provider: The provider Lambda function (aws-cdk-lib's singleton for AwsCustomResource).
    """
    if provider in _PROVIDERS:
        return
    _PROVIDERS.add(provider)
    role = provider.node.try_find_child(LAMBDA_ROLE_ID)
    if isinstance(role, iam.Role):
        acknowledge_aws_managed_policy(role, LAMBDA_BASIC_EXECUTION_POLICY)
    function = provider.node.default_child
    if isinstance(function, CfnResource):
        function.add_metadata(CFN_LINT_METADATA, {"config": {"ignore_checks": [OBSOLETE_DEPENDS_ON_CHECK]}})
        acknowledge(
            function,
            "aws-cdk-lib's provider for AwsCustomResource: CloudFormation invokes it synchronously (no queue to "
            "dead-letter: a failure fails the deployment), once per restart of a Service Connect caller, so it "
            "needs no concurrency limit; it calls only the regional ECS API, with a role allowed "
            "ecs:UpdateService on the callers' services alone, and holds no data a VPC would protect.",
            checkov=[CHECKOV_LAMBDA_CONCURRENCY, CHECKOV_LAMBDA_DEAD_LETTER_QUEUE, CHECKOV_LAMBDA_IN_VPC],
        )


def acknowledge_public_load_balancer(security_group: ec2.SecurityGroup, *, ports: Sequence[int]) -> None:
    """Acknowledge ingress from anywhere (AwsSolutions-EC23; checkov's port 80 check) on a public load balancer's group.

    Args:
        security_group: The load balancer's own group, the only one the library opens to the internet.
        ports: The listener ports it opens.
    """
    reason = (
        f"The group of a public load balancer: the internet reaches the listener ports "
        f"({', '.join(str(p) for p in ports)}) on purpose. Behind it only what it forwards to admits it, on those "
        "ports: the App Mesh gateway, which alone reaches the routed services, or on Service Connect the routed "
        "services themselves."
    )
    checkov = [CHECKOV_OPEN_PORT_80] if 80 in ports else []
    acknowledge(security_group, reason, cdk_nag=[OPEN_INGRESS_RULE], checkov=checkov)


def acknowledge_load_balancer_reads(role: iam.Role, *, actions: Collection[str]) -> None:
    """Acknowledge AwsSolutions-IAM5[Resource::*] on the role ECS shifts a load balancer's traffic with.

    Args:
        role: The role, whose only grant on "*" is ``actions``; its other grants name the
            service's target groups and listener rules.
        actions: Elastic Load Balancing's Describe actions, which take no resource: each one of
            ``UNSCOPABLE_ACTIONS``, whose reasons the acknowledgment gives.
    """
    resource = role.node.default_child
    assert isinstance(resource, CfnResource)
    Validations.of(resource).acknowledge(_wildcard_acknowledgment(set(actions)))


def acknowledge_listener_rule_dependencies(service: ecs.FargateService) -> None:
    """Acknowledge cfn-lint W3005 (obsolete DependsOn) on an ECS service that ECS shifts an ALB's traffic for.

    aws-cdk-lib makes a load-balanced ECS service depend on the listener rules that forward to its
    target group, so that the group is attached first; the service's ``AdvancedConfiguration``
    references the production and test rules too, which cfn-lint reports as an obsolete
    DependsOn. cfn-lint reads the acknowledgment from the resource's template metadata.

    Args:
        service: The ECS service whose load balancer entry has an alternate target group.
    """
    resource = service.node.default_child
    assert isinstance(resource, CfnResource)
    resource.add_metadata(CFN_LINT_METADATA, {"config": {"ignore_checks": [OBSOLETE_DEPENDS_ON_CHECK]}})


def acknowledge_access_log_bucket(bucket: s3.Bucket) -> None:
    """Acknowledge no server access logs (AwsSolutions-S1, CKV_AWS_18) on a bucket that holds access logs itself.

    Args:
        bucket: The bucket the library created for a load balancer's access logs.
    """
    reason = (
        "This bucket receives the load balancer's access logs; logging the writes to it in another bucket "
        "would only log the logging. It is encrypted, private, SSL-only, versioned and retained."
    )
    acknowledge(bucket, reason, cdk_nag=[SERVER_ACCESS_LOGS_RULE], checkov=[CHECKOV_ACCESS_LOGGING])


def acknowledge_plain_http_listener(listener: IConstruct) -> None:
    """Acknowledge a plain HTTP or TCP listener (CKV_AWS_2, CKV_AWS_103) asked for with allow_plain_http=True.

    Args:
        listener: The load balancer's listener on port 80, created without a certificate.
    """
    reason = (
        "Plain HTTP (or TCP) on port 80 without a certificate, asked for with MeshIngress(allow_plain_http=True); "
        "give MeshIngress a certificate to serve HTTPS (or TLS) with TLS 1.2 or later instead."
    )
    acknowledge(listener, reason, checkov=[CHECKOV_HTTPS_LISTENER, CHECKOV_LISTENER_TLS])


def acknowledge_default_log_encryption(log_group: IConstruct) -> None:
    """Acknowledge a log group without a customer key (CKV_AWS_158): CloudWatch Logs encrypts it itself.

    Args:
        log_group: A log group the library created, for a cluster without ``log_encryption_key``.
    """
    reason = (
        "Encrypted at rest by CloudWatch Logs' own server-side encryption; a customer managed KMS key is an "
        "option of the cluster: MeshedCluster(log_encryption_key=...) encrypts every log group it and its "
        "services and ingresses create."
    )
    acknowledge(log_group, reason, checkov=[CHECKOV_LOG_GROUP_KMS])


def acknowledge_default_image_encryption(repository: IConstruct) -> None:
    """Acknowledge an ECR repository without a customer key (CKV_AWS_136): ECR encrypts it with AES-256.

    Args:
        repository: A repository the library created without ``encryption_key``.
    """
    reason = (
        "Encrypted at rest by ECR with AES-256 (Amazon S3 managed keys); a customer managed KMS key is an option: "
        "ServiceRepository(encryption_key=...)."
    )
    acknowledge(repository, reason, checkov=[CHECKOV_ECR_KMS])


def acknowledge(
    construct: IConstruct, reason: str, *, cdk_nag: Sequence[str] = (), checkov: Sequence[str] = ()
) -> None:
    """Acknowledge findings on ``construct``'s resource, in cdk-nag and in checkov, with one reason.

    Args:
        construct: A CloudFormation resource, or an L2 construct whose default child is one.
        reason: Why the library's design causes the findings: the cdk-nag reason and the checkov comment.
        cdk_nag: cdk-nag rule ids, with the plugin's name (e.g. ``AwsSolutions::AwsSolutions-S1``).
        checkov: checkov check ids (e.g. ``CKV_AWS_18``), written to the resource's template metadata.
    """
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    assert isinstance(resource, CfnResource)
    if cdk_nag:
        Validations.of(resource).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule in cdk_nag))
    if checkov:
        held = resource.get_metadata(CHECKOV_METADATA) or {}
        skips = [skip for skip in held.get("skip", []) if skip.get("id") not in checkov]
        skips += [{"id": check, "comment": reason} for check in checkov]
        resource.add_metadata(CHECKOV_METADATA, {**held, "skip": skips})


@jsii.implements(IPolicyValidationPlugin)
class _TaskFindingChecks:
    """Acknowledges what the library's task definitions in one stage cause, from their templates.

    A validation plugin: CDK calls it after writing the templates, and reads acknowledgments from
    the construct tree once every plugin has run. Reading the template costs no jsii round trip
    per resource, and sees what escape hatches changed. It reports no violation of its own.
    """

    def __init__(self) -> None:
        # Each task definition, with a construct above it and its path from there.
        self.task_definitions: list[tuple[ecs.TaskDefinition, IConstruct, str]] = []

    @property
    def name(self) -> str:
        """The name the validation report gives the plugin."""
        return TASK_CHECKS_PLUGIN

    @property
    def version(self) -> str | None:
        """Not reported."""
        return None

    @property
    def rule_ids(self) -> list[str] | None:
        """It evaluates no rule of its own."""
        return None

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        """Acknowledge, on each task definition or resource, what the library caused there."""
        parent_paths: dict[IConstruct, str] = {}  # one path per parent, a stack for most tasks
        by_path: dict[str, ecs.TaskDefinition] = {}
        for task_definition, parent, path in self.task_definitions:
            if parent not in parent_paths:
                parent_paths[parent] = parent.node.path
            by_path["/".join(p for p in (parent_paths[parent], path) if p)] = task_definition
        below = _resources_below(context.template_paths, by_path.keys())
        for path, task_definition in by_path.items():
            _TaskResources(task_definition, below.get(path, {})).acknowledge()
        return PolicyValidationPluginReport(success=True, violations=[])


@dataclass(frozen=True)
class _TaskResources:
    """The synthesized resources below a library task definition, by path relative to it."""

    task_definition: ecs.TaskDefinition
    resources: Mapping[str, Mapping[str, Any]]

    def acknowledge(self) -> None:
        """Acknowledge on the task definition what holds below it throughout, on single resources the rest."""
        on_task = [*self._acknowledge_environment(), *self._acknowledge_policies()]
        if on_task:
            Validations.of(self.task_definition).acknowledge(*on_task)

    def _of_type(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        return {p: r.get("Properties", {}) for p, r in self.resources.items() if r.get("Type") == resource_type}

    def _acknowledge_environment(self) -> list[Acknowledgment]:
        variables = _SIDECAR_VARIABLES.get(self.task_definition, {})
        task_resources = self._of_type("AWS::ECS::TaskDefinition")
        # Its own resource is "Resource"; any other task definition below it is the application's.
        own = task_resources.get("Resource")
        if not variables or own is None or not _only_sidecar_variables(own, variables):
            return []
        if all(_only_sidecar_variables(r, {}) for p, r in task_resources.items() if p != "Resource"):
            return [_environment_acknowledgment(variables)]
        self._acknowledge_resource("Resource", _environment_acknowledgment(variables))
        return []

    def _acknowledge_policies(self) -> list[Acknowledgment]:
        wildcards = {
            path: set().union(*(_wildcard_actions(document) for document in documents))
            for path, documents in self._policies().items()
        }
        unscopable = UNSCOPABLE_ACTIONS.keys()
        ours = {path: actions for path, actions in wildcards.items() if actions and actions <= unscopable}
        if not ours:
            return []
        if all(actions <= unscopable for actions in wildcards.values()):
            return [_wildcard_acknowledgment(set().union(*ours.values()))]
        for path, actions in ours.items():  # a grant of the application's own on "*" stays reported
            self._acknowledge_resource(path, _wildcard_acknowledgment(actions))
        return []

    def _policies(self) -> dict[str, list[Any]]:
        """Every policy document below the task definition, by the path of the resource holding it."""
        documents: dict[str, list[Any]] = {}
        for resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for path, properties in self._of_type(resource_type).items():
                documents[path] = [properties.get("PolicyDocument")]
        for path, properties in self._of_type("AWS::IAM::Role").items():
            inline = properties.get("Policies")
            if inline:
                documents[path] = [p.get("PolicyDocument") if isinstance(p, dict) else p for p in _as_list(inline)]
        return documents

    def _acknowledge_resource(self, path: str, acknowledgment: Acknowledgment) -> None:
        """Acknowledge on the one resource at ``path`` below the task definition (the rare case)."""
        construct: IConstruct = self.task_definition
        for child in path.split("/"):
            construct = construct.node.find_child(child)
        Validations.of(construct).acknowledge(acknowledgment)


def _resources_below(template_paths: list[str], owners: Collection[str]) -> dict[str, dict[str, Mapping[str, Any]]]:
    """The templates' resources below each owner's construct path, by path relative to that owner."""
    below: dict[str, dict[str, Mapping[str, Any]]] = {}
    templates_by_folder: dict[Path, set[str]] = {}
    for template_path in template_paths:
        templates_by_folder.setdefault(Path(template_path).parent, set()).add(Path(template_path).name)
    for folder, templates in templates_by_folder.items():
        manifest = json.loads((folder / "manifest.json").read_text())
        for artifact in manifest.get("artifacts", {}).values():
            template_file = artifact.get("properties", {}).get("templateFile")
            if artifact.get("type") != STACK_ARTIFACT or template_file not in templates:
                continue
            resources = json.loads((folder / template_file).read_text()).get("Resources", {})
            for path, logical_id in _construct_paths(folder, artifact, resources).items():
                parts = path.strip("/").split("/")
                # The closest owner above it (the library's task definitions do not nest).
                for depth in range(len(parts) - 1, 0, -1):
                    owner = "/".join(parts[:depth])
                    if owner in owners:
                        below.setdefault(owner, {})["/".join(parts[depth:])] = resources[logical_id]
                        break
    return below


def _construct_paths(folder: Path, artifact: Mapping[str, Any], resources: Mapping[str, Any]) -> dict[str, str]:
    """Each resource's construct path, with its logical id.

    Templates synthesized by the CDK CLI carry the path in each resource's metadata; otherwise
    the stack's metadata in the cloud assembly maps paths to logical ids, as ``cdk diff`` reads it.
    """
    paths = {r.get("Metadata", {}).get(PATH_METADATA): logical_id for logical_id, r in resources.items()}
    if None not in paths:
        return paths
    metadata = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:
        metadata.update(json.loads((folder / artifact["additionalMetadataFile"]).read_text()))
    paths = {}
    for path, entries in metadata.items():
        logical_ids = [e.get("data") for e in entries if e.get("type") == LOGICAL_ID_METADATA]
        if logical_ids and logical_ids[0] in resources:
            paths[path] = logical_ids[0]
    return paths


def _only_sidecar_variables(task_definition: Mapping[str, Any], variables: Mapping[str, list[str]]) -> bool:
    """Whether the only containers with plain variables in a task definition's properties are sidecars."""
    containers = task_definition.get("ContainerDefinitions", [])
    if not isinstance(containers, list):
        return False  # rendered by an intrinsic function: not knowably ours
    return all(
        isinstance(container, dict) and (not container.get("Environment") or container.get("Name") in variables)
        for container in containers
    )


def _environment_acknowledgment(variables: Mapping[str, list[str]]) -> Acknowledgment:
    held_text = "; ".join(f"{name}: {', '.join(dict.fromkeys(what))}" for name, what in variables.items())
    reason = (
        f"The only plain environment variables are the library sidecars' ({held_text}): configuration "
        "that holds no secret. Application secrets go through MeshedService(secrets=...)."
    )
    return Acknowledgment(id=CONTAINER_ENVIRONMENT_RULE, reason=reason)


def _wildcard_actions(document: object) -> set[str]:
    """The actions a policy document grants on "*"; one that no action matches if it is not readable."""
    if document is None:
        return set()
    statements = _as_list(document.get("Statement")) if isinstance(document, dict) else [None]
    readable = [statement for statement in statements if isinstance(statement, dict)]
    if len(readable) < len(statements):
        return {UNREADABLE_POLICY}  # built by an intrinsic function: not knowably the library's
    return {
        str(action)
        for statement in readable
        if "*" in _as_list(statement.get("Resource"))
        for action in _as_list(statement.get("Action"))
    }


def _wildcard_acknowledgment(actions: set[str]) -> Acknowledgment:
    reason = " ".join(f"{action}: {UNSCOPABLE_ACTIONS[action]}" for action in sorted(actions))
    return Acknowledgment(id=WILDCARD_RESOURCE_RULE, reason=reason)


# What the library recorded, by task definition and by stack (jsii hands out one Python object
# per construct, so identity is equality).
_SIDECAR_VARIABLES: weakref.WeakKeyDictionary[ecs.TaskDefinition, dict[str, list[str]]] = weakref.WeakKeyDictionary()
_STACK_CHECKS: weakref.WeakKeyDictionary[Stack, _TaskFindingChecks] = weakref.WeakKeyDictionary()
_STAGE_CHECKS: weakref.WeakKeyDictionary[Stage, _TaskFindingChecks] = weakref.WeakKeyDictionary()
_PROVIDERS: weakref.WeakSet[IConstruct] = weakref.WeakSet()


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
