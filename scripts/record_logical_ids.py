#!/usr/bin/env python3
"""Record, or check, the logical id and type of every resource of every example app.

Usage: record_logical_ids.py [--check]

An example is a folder of examples/ with a ``cdk.json`` whose app.py builds the app with a
function of a neighbouring module: ``build(app, *, account=None)`` adds the example's stacks to
an app. This script and the tests call the same function, under the context of the example's
cdk.json (its feature flags), so what they check is what ``cdk synth`` deploys.

Writes examples/<name>/logical-ids.json: per stack, each resource's logical id and type. With
--check, compares the apps as they build now with those records instead: exits 1 when a
stateful resource (STATEFUL_TYPES) would be removed or replaced on the next deployment of an
upgraded library (its logical id disappears, or its type changes); other differences are printed
as notes. After an intended change, run the script without --check and commit the records.

The test suite runs the same comparison (tests/test_logical_ids.py).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aws_cdk as cdk
from aws_cdk import cx_api

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
BUILD_FUNCTION = "build"
APP_MODULE = "app.py"
CDK_JSON = "cdk.json"


class BuildApp(Protocol):
    """The function every example module exposes."""

    def __call__(self, app: cdk.App, *, account: str | None = None) -> None:
        """Add the example's stacks to ``app``."""


@dataclass(frozen=True)
class Example:
    """One example app: its ``build()`` and the context its cdk.json gives ``cdk synth``."""

    name: str
    directory: Path
    build_stacks: BuildApp
    context: Mapping[str, object]

    def build(self, app: cdk.App, *, account: str | None = None) -> None:
        """Add the example's stacks to ``app``, under its cdk.json context as ``cdk synth`` builds them.

        Feature flags change templates, so checks must see the flags users deploy with. Context
        ``app`` already has wins, as ``cdk synth -c`` wins over cdk.json. Call before adding anything.
        """
        for key, value in self.context.items():
            if app.node.try_get_context(key) is None:
                app.node.set_context(key, value)
        self.build_stacks(app, account=account)


def discover(examples_dir: Path = EXAMPLES_DIR) -> list[Example]:
    """Every example: each folder with a cdk.json, sorted by name."""
    return [load(cdk_json.parent) for cdk_json in sorted(examples_dir.glob(f"*/{CDK_JSON}"))]


def load(directory: Path) -> Example:
    """The example in ``directory``; raises unless exactly one module besides app.py has ``build``."""
    # The modules import their neighbours as app.py does: from their own folder.
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    builds: list[BuildApp] = []
    for path in sorted(directory.glob("*.py")):
        if path.name == APP_MODULE:
            continue  # app.py synthesizes when imported
        module = importlib.import_module(path.stem)
        if Path(module.__file__ or "").resolve() != path.resolve():
            raise ValueError(f"{path} and {module.__file__} share a module name; rename one of them.")
        build = getattr(module, BUILD_FUNCTION, None)
        if callable(build):
            builds.append(build)
    if len(builds) != 1:
        raise ValueError(
            f"{directory} has {len(builds)} modules besides {APP_MODULE} with a {BUILD_FUNCTION}() function; "
            f"an example has exactly one: def {BUILD_FUNCTION}(app: cdk.App, *, account: str | None = None) "
            f"-> None, called by its {APP_MODULE}."
        )
    context = json.loads((directory / CDK_JSON).read_text()).get("context", {})
    return Example(name=directory.name, directory=directory, build_stacks=builds[0], context=context)


RECORD_FILE = "logical-ids.json"

# Resources an upgrade must not replace: they hold data, a name or address others depend on, or
# (ingress rules) exist once in EC2. A changed logical id makes CloudFormation create the new
# resource, then delete the old one: the data goes, the name the old one still holds fails the
# creation, a new address is handed out, or the rule is removed. README.md's "Upgrading and semver"
# policy refers to this list.
STATEFUL_TYPES: Mapping[str, str] = {
    "AWS::EC2::VPC": "every subnet, task and endpoint lives in it",
    "AWS::EC2::Subnet": "tasks' addresses and the NAT routes live in it",
    "AWS::EC2::EIP": "the NAT gateway's public address, which partners may allow-list",
    "AWS::EC2::SecurityGroupIngress": (
        "EC2 holds one copy of a rule: CloudFormation 'creates' the renamed rule (already there), then deletes "
        "the old one, leaving the port closed"
    ),
    "AWS::ECS::Cluster": "every service of the cluster is recreated with it",
    "AWS::ECR::Repository": "it holds the pushed images",
    "AWS::Logs::LogGroup": "it holds the logs kept for their retention period",
    "AWS::KMS::Key": "data encrypted with it cannot be read without it",
    "AWS::S3::Bucket": "it holds the objects written to it (access logs)",
    "AWS::ACMPCA::CertificateAuthority": "every certificate the services trust chains to it",
    "AWS::ServiceDiscovery::PrivateDnsNamespace": "callers resolve every service name in it",
    "AWS::ServiceDiscovery::Service": "its name is what callers dial; running tasks are registered in it",
    "AWS::AppMesh::Mesh": "every virtual node and route lives in it; Envoys are configured from it",
    "AWS::AppMesh::VirtualNode": "its name is fixed: Envoys stream their configuration by it",
    "AWS::AppMesh::VirtualService": "its name is fixed: it is the name callers dial",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "its DNS name is what clients and DNS records point at",
}

Record = dict[str, dict[str, str]]  # stack name -> logical id -> resource type


@dataclass
class Comparison:
    """What would happen to the recorded resources on the next deployment."""

    breaking: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def record_of(assembly: cx_api.CloudAssembly) -> Record:
    """The logical ids and types of every stack in a synthesized cloud assembly (not its stages')."""
    record: Record = {}
    for stack in assembly.stacks:
        resources = stack.template.get("Resources", {})
        record[stack.id] = {logical_id: resources[logical_id]["Type"] for logical_id in sorted(resources)}
    return dict(sorted(record.items()))


def compare(recorded: Record, current: Record) -> Comparison:
    """Sort the differences between two records into breaking changes and notes."""
    result = Comparison()
    for stack in sorted(recorded.keys() | current.keys()):
        before, after = recorded.get(stack, {}), current.get(stack, {})
        if stack not in current:
            stateful = sorted(i for i, t in before.items() if t in STATEFUL_TYPES)
            if stateful:
                result.breaking.append(f"{stack}: the stack is gone, with stateful {', '.join(stateful)}")
            else:
                result.notes.append(f"{stack}: the stack is gone")
            continue
        for logical_id in sorted(before.keys() | after.keys()):
            old, new = before.get(logical_id), after.get(logical_id)
            if old == new:
                continue
            if old is None:
                result.notes.append(f"{stack}: {logical_id} ({new}) is new")
            elif new is None:
                verdict = result.breaking if old in STATEFUL_TYPES else result.notes
                why = f": {STATEFUL_TYPES[old]}" if old in STATEFUL_TYPES else ""
                verdict.append(f"{stack}: {logical_id} ({old}) would be removed or replaced{why}")
            else:
                verdict = result.breaking if old in STATEFUL_TYPES or new in STATEFUL_TYPES else result.notes
                verdict.append(f"{stack}: {logical_id} changes type from {old} to {new}, so it would be replaced")
    return result


def build_record(example: Example, workdir: Path) -> Record:
    """Build ``example`` as its app.py does and record its resources."""
    outdir = workdir / example.name
    app = cdk.App(outdir=str(outdir))
    example.build(app, account=None)
    return record_of(app.synth())


def record_path(example: Example) -> Path:
    return example.directory / RECORD_FILE


def read_record(path: Path) -> Record | None:
    if not path.exists():
        return None
    recorded: Record = json.loads(path.read_text())
    return recorded


def write_record(path: Path, record: Record) -> None:
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with the records instead of writing them")
    arguments = parser.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory() as workdir:
        for example in discover():
            current = build_record(example, Path(workdir))
            path = record_path(example)
            if not arguments.check:
                write_record(path, current)
                print(f"recorded {sum(map(len, current.values()))} resources in {path}")
                continue
            recorded = read_record(path)
            if recorded is None:
                print(f"{path} is missing: run scripts/record_logical_ids.py and commit it", file=sys.stderr)
                failed = True
                continue
            comparison = compare(recorded, current)
            for note in comparison.notes:
                print(f"note: {example.name}: {note}")
            for problem in comparison.breaking:
                print(f"BREAKING: {example.name}: {problem}", file=sys.stderr)
            failed = failed or bool(comparison.breaking)
            if comparison.notes and not comparison.breaking:
                print(f"{example.name}: no stateful resource replaced; re-record with scripts/record_logical_ids.py")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
