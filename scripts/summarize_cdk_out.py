#!/usr/bin/env python3
"""Summarize CDK cloud assemblies: per stack, its resources and ECS services.

Usage: summarize_cdk_out.py [--require-type TYPE] CDK_OUT_DIR [CDK_OUT_DIR ...]

Reads each assembly's manifest.json, follows nested assemblies (the
``assembly-*`` folders of CDK stages) and counts the resources of every stack
template. Every ECS service in this library is a meshed service, so the
AWS::ECS::Service resources are counted as such.

With --require-type, exits 1 unless every assembly has at least one resource
of that type (the wheel consumer test uses it). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
SERVICE_TYPE = "AWS::ECS::Service"


@dataclass(frozen=True)
class StackSummary:
    """One stack of a cloud assembly."""

    name: str
    resources: int
    types: dict[str, int]

    @property
    def services(self) -> int:
        return self.types.get(SERVICE_TYPE, 0)


def _load_json(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def iter_stacks(assembly_dir: Path) -> Iterator[StackSummary]:
    """Yields the stacks of an assembly and of its nested (stage) assemblies."""
    manifest = _load_json(assembly_dir / "manifest.json")
    artifacts: dict[str, dict[str, Any]] = manifest.get("artifacts", {})
    for artifact_id, artifact in sorted(artifacts.items()):
        kind = artifact.get("type")
        properties: dict[str, Any] = artifact.get("properties", {})
        if kind == STACK_ARTIFACT:
            template = _load_json(assembly_dir / properties["templateFile"])
            resources: dict[str, dict[str, Any]] = template.get("Resources", {})
            types: dict[str, int] = {}
            for resource in resources.values():
                resource_type = str(resource.get("Type", "?"))
                types[resource_type] = types.get(resource_type, 0) + 1
            name = artifact.get("displayName") or properties.get("stackName") or artifact_id
            yield StackSummary(name=str(name), resources=len(resources), types=types)
        elif kind == NESTED_ASSEMBLY_ARTIFACT:
            yield from iter_stacks(assembly_dir / properties["directoryName"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Summarize CDK cloud assemblies.")
    parser.add_argument("assemblies", nargs="+", type=Path, metavar="CDK_OUT_DIR")
    parser.add_argument(
        "--require-type",
        metavar="TYPE",
        help="fail unless each assembly has a resource of this CloudFormation type",
    )
    args = parser.parse_args(argv)

    status = 0
    for assembly_dir in args.assemblies:
        print(f"{assembly_dir}:")
        try:
            stacks = list(iter_stacks(assembly_dir))
        except (OSError, ValueError, KeyError) as error:
            print(f"  cannot read the cloud assembly: {error}")
            status = 1
            continue
        if not stacks:
            print("  no stacks")
        width = max((len(stack.name) for stack in stacks), default=0)
        for stack in stacks:
            print(f"  {stack.name:<{width}}  {stack.resources:>4} resources  {stack.services:>3} ECS services")
        if args.require_type and not any(stack.types.get(args.require_type) for stack in stacks):
            print(f"  no {args.require_type} resource in any stack")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
