"""AwsSolutions-ECS2: plain environment variables in a task definition's containers.

The library's sidecars (Envoy, the CloudWatch agent) take their configuration as plain
variables, which hold no secret. The finding is acknowledged only when the sidecars recorded
with ``acknowledge_sidecar_environment`` are the only containers with plain variables: the
application's own variables stay reported. The decision is made from the synthesized template,
by ``task_findings``.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from aws_cdk import Acknowledgment
from aws_cdk import aws_ecs as ecs

from .core import aws_solutions_rule

CONTAINER_ENVIRONMENT_RULE = aws_solutions_rule("AwsSolutions-ECS2")

# Each task definition's sidecars with plain variables: container name -> what they hold (jsii
# hands out one Python object per construct, so identity is equality).
_SIDECAR_VARIABLES: weakref.WeakKeyDictionary[ecs.TaskDefinition, dict[str, list[str]]] = weakref.WeakKeyDictionary()


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


def sidecar_variables(task_definition: ecs.TaskDefinition) -> Mapping[str, list[str]]:
    """The sidecars recorded for ``task_definition``, by container name (empty when none)."""
    return _SIDECAR_VARIABLES.get(task_definition, {})


def only_sidecar_variables(task_definition: Mapping[str, Any], sidecars: Mapping[str, object]) -> bool:
    """Whether the only containers with plain variables in a task definition's properties are ``sidecars``.

    Args:
        task_definition: The ``Properties`` of an AWS::ECS::TaskDefinition, as synthesized.
        sidecars: The names of the containers whose variables the library set.
    """
    containers = task_definition.get("ContainerDefinitions", [])
    if not isinstance(containers, list):
        return False  # rendered by an intrinsic function: not knowably ours
    return all(
        isinstance(container, dict) and (not container.get("Environment") or container.get("Name") in sidecars)
        for container in containers
    )


def environment_acknowledgment(variables: Mapping[str, list[str]]) -> Acknowledgment:
    """The acknowledgment, whose reason names what each sidecar's variables hold."""
    held_text = "; ".join(f"{name}: {', '.join(dict.fromkeys(what))}" for name, what in variables.items())
    reason = (
        f"The only plain environment variables are the library sidecars' ({held_text}): configuration "
        "that holds no secret. Application secrets go through MeshedService(secrets=...)."
    )
    return Acknowledgment(id=CONTAINER_ENVIRONMENT_RULE, reason=reason)
