#!/usr/bin/env python3
"""Summarize CDK cloud assemblies: per stack, its resources and ECS services.

Usage: summarize_cdk_out.py [--require-type TYPE] CDK_OUT_DIR [CDK_OUT_DIR ...]

Reads each assembly with aws-cdk-lib's cx_api, follows nested assemblies (the
``assembly-*`` folders of CDK stages) and counts the resources of every stack
template. Every ECS service in this library is a meshed service, so the
AWS::ECS::Service resources are counted as such.

With --require-type, exits 1 unless every assembly has at least one resource
of that type (the wheel consumer test uses it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import cx_api

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


def iter_stacks(assembly: cx_api.CloudAssembly) -> Iterator[StackSummary]:
    """Yields the stacks of an assembly and of its nested (stage) assemblies, by artifact id."""
    artifacts: list[cx_api.CloudFormationStackArtifact | cx_api.NestedCloudAssemblyArtifact] = [
        *assembly.stacks,
        *assembly.nested_assemblies,
    ]
    for artifact in sorted(artifacts, key=lambda a: a.id):
        if isinstance(artifact, cx_api.NestedCloudAssemblyArtifact):
            yield from iter_stacks(artifact.nested_assembly)
            continue
        resources: dict[str, dict[str, Any]] = artifact.template.get("Resources", {})
        types: dict[str, int] = {}
        for resource in resources.values():
            resource_type = str(resource.get("Type", "?"))
            types[resource_type] = types.get(resource_type, 0) + 1
        yield StackSummary(name=artifact.display_name, resources=len(resources), types=types)


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
            stacks = list(iter_stacks(cx_api.CloudAssembly(str(assembly_dir))))
        except RuntimeError as error:  # jsii's, for an assembly it cannot read
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
