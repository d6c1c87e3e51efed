"""A task definition's findings, decided when the app is validated, from the synthesized templates.

A validation plugin: CDK calls it after writing the templates, and reads acknowledgments from the
construct tree once every plugin has run. Reading the templates costs no jsii round trip per
resource, and sees what the application added, through the API or an escape hatch. Each finding
kind's predicate (``container_environment``, ``wildcard_resources``) decides; what holds for
everything below a task definition is acknowledged on it, the rest on single resources.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    Acknowledgment,
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    Stack,
    Stage,
    Validations,
    cx_api,
)
from aws_cdk import aws_ecs as ecs
from constructs import IConstruct

from .container_environment import environment_acknowledgment, only_sidecar_variables, sidecar_variables
from .wildcard_resources import as_list, only_unscopable, wildcard_acknowledgment, wildcard_actions

# The cloud assembly metadata naming a resource's logical id, and the template metadata naming its
# construct path (when path metadata is on, as the CLI sets).
LOGICAL_ID_METADATA = "aws:cdk:logicalId"
PATH_METADATA = "aws:cdk:path"
TASK_CHECKS_PLUGIN = "mesh-microservices-task-checks"
# The resource of a task definition's own (its default child); any other below it is the application's.
OWN_RESOURCE = "Resource"
# "*" as a JSON string, as every grant on all resources is written (JSON escapes no "*").
WILDCARD_RESOURCE_TEXT = '"*"'


def acknowledge_task_findings(
    task_definition: ecs.TaskDefinition, *, stack: Stack, parent: IConstruct, path: str
) -> None:
    """Acknowledge the findings the library's design causes on a task definition, from its template.

    - AwsSolutions-ECS2 (plain environment variables), when the only containers with plain
      variables are the sidecars recorded with ``acknowledge_sidecar_environment``;
    - AwsSolutions-IAM5[Resource::*], when every action a policy of the task's roles grants on
      "*" is one of ``UNSCOPABLE_ACTIONS``.

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


@jsii.implements(IPolicyValidationPlugin)
class _TaskFindingChecks:
    """Acknowledges what the library's task definitions in one stage cause. It reports no violation."""

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
        templates = _templates_with_findings(context.template_paths, sidecars=self._any_sidecar_variables())
        if templates:
            by_path = self._by_path()
            below = _resources_below(templates, by_path.keys())
            for path, task_definition in by_path.items():
                _TaskResources(task_definition, below.get(path, {})).acknowledge()
        return PolicyValidationPluginReport(success=True, violations=[])

    def _any_sidecar_variables(self) -> bool:
        return any(sidecar_variables(task_definition) for task_definition, _, _ in self.task_definitions)

    def _by_path(self) -> dict[str, ecs.TaskDefinition]:
        """Each task definition by its construct path."""
        parent_paths: dict[IConstruct, str] = {}  # one path per parent, a stack for most tasks
        by_path: dict[str, ecs.TaskDefinition] = {}
        for task_definition, parent, path in self.task_definitions:
            if parent not in parent_paths:
                parent_paths[parent] = parent.node.path
            by_path["/".join(p for p in (parent_paths[parent], path) if p)] = task_definition
        return by_path


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
        variables = sidecar_variables(self.task_definition)
        task_resources = self._of_type("AWS::ECS::TaskDefinition")
        own = task_resources.get(OWN_RESOURCE)
        if not variables or own is None or not only_sidecar_variables(own, variables):
            return []
        if all(only_sidecar_variables(r, {}) for p, r in task_resources.items() if p != OWN_RESOURCE):
            return [environment_acknowledgment(variables)]
        self._acknowledge_resource(OWN_RESOURCE, environment_acknowledgment(variables))
        return []

    def _acknowledge_policies(self) -> list[Acknowledgment]:
        wildcards = {
            path: set().union(*(wildcard_actions(document) for document in documents))
            for path, documents in self._policies().items()
        }
        ours = {path: actions for path, actions in wildcards.items() if actions and only_unscopable(actions)}
        if not ours:
            return []
        if all(only_unscopable(actions) for actions in wildcards.values()):
            return [wildcard_acknowledgment(set().union(*ours.values()))]
        for path, actions in ours.items():  # a grant of the application's own on "*" stays reported
            self._acknowledge_resource(path, wildcard_acknowledgment(actions))
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
                documents[path] = [p.get("PolicyDocument") if isinstance(p, dict) else p for p in as_list(inline)]
        return documents

    def _acknowledge_resource(self, path: str, acknowledgment: Acknowledgment) -> None:
        """Acknowledge on the one resource at ``path`` below the task definition (the rare case)."""
        construct: IConstruct = self.task_definition
        for child in path.split("/"):
            construct = construct.node.find_child(child)
        Validations.of(construct).acknowledge(acknowledgment)


def _templates_with_findings(template_paths: list[str], *, sidecars: bool) -> dict[Path, str]:
    """The templates that may hold a finding to acknowledge, with their text.

    Without sidecar variables, only a grant on "*" can be acknowledged, and a template without
    the JSON string "*" holds none: it is not parsed (most Service Connect apps).
    """
    texts = {Path(template_path): Path(template_path).read_text() for template_path in template_paths}
    return {path: text for path, text in texts.items() if sidecars or WILDCARD_RESOURCE_TEXT in text}


def _resources_below(templates: Mapping[Path, str], owners: Collection[str]) -> dict[str, dict[str, Mapping[str, Any]]]:
    """The templates' resources below each owner's construct path, by path relative to that owner."""
    below: dict[str, dict[str, Mapping[str, Any]]] = {}
    for template_path, text in templates.items():
        resources = json.loads(text).get("Resources", {})
        for path, logical_id in _construct_paths(template_path, resources).items():
            parts = path.strip("/").split("/")
            # The closest owner above it (the library's task definitions do not nest).
            for depth in range(len(parts) - 1, 0, -1):
                owner = "/".join(parts[:depth])
                if owner in owners:
                    below.setdefault(owner, {})["/".join(parts[depth:])] = resources[logical_id]
                    break
    return below


def _construct_paths(template_path: Path, resources: Mapping[str, Any]) -> dict[str, str]:
    """Each resource's construct path, with its logical id.

    Templates synthesized by the CDK CLI carry the path in each resource's metadata (no jsii call);
    otherwise the stack's metadata in the cloud assembly maps paths to logical ids, as ``cdk diff``
    reads it.
    """
    paths = {r.get("Metadata", {}).get(PATH_METADATA): logical_id for logical_id, r in resources.items()}
    if None not in paths:
        return paths
    assembly = cx_api.CloudAssembly(str(template_path.parent))
    artifact = next(s for s in assembly.stacks if Path(s.template_full_path).resolve() == template_path.resolve())
    paths = {}
    for entry in artifact.find_metadata_by_type(LOGICAL_ID_METADATA):
        if entry.data in resources:
            paths.setdefault(entry.path, str(entry.data))
    return paths


# The plugin of each stage, and of each stack's stage (asked of jsii once per stack).
_STACK_CHECKS: weakref.WeakKeyDictionary[Stack, _TaskFindingChecks] = weakref.WeakKeyDictionary()
_STAGE_CHECKS: weakref.WeakKeyDictionary[Stage, _TaskFindingChecks] = weakref.WeakKeyDictionary()
