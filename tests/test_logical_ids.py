"""Upgrade safety: this version of the library replaces no stateful resource of any example.

Each example's ``logical-ids.json`` records the logical id and type of every resource; a
stateful resource (``STATEFUL_TYPES``) whose id disappears or whose type changes would be
replaced or removed on the next deployment. Other differences pass with a note: re-record them
with ``scripts/record_logical_ids.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from checked_apps import CheckedApp
from record_logical_ids import (
    STATEFUL_TYPES,
    Example,
    Record,
    compare,
    discover,
    read_record,
    record_of,
    record_path,
)


class LogicalIdNote(UserWarning):
    """A difference from the recorded logical ids that replaces no stateful resource."""


@pytest.mark.parametrize("example", discover(), ids=lambda example: example.name)
def test_no_stateful_resource_of_the_example_would_be_replaced(
    example_apps: dict[str, CheckedApp], example: Example
) -> None:
    name = example.name
    recorded = read_record(record_path(example))
    assert recorded is not None, f"examples/{name} has no record: run scripts/record_logical_ids.py and commit it"
    comparison = compare(recorded, record_of(example_apps[name].assembly))
    if comparison.notes:  # one warning per example, shown in pytest's warnings summary
        shown = "\n  ".join(comparison.notes[:20]) + ("\n  ..." if len(comparison.notes) > 20 else "")
        warnings.warn(
            f"examples/{name}: {len(comparison.notes)} differences replace no stateful resource; re-record "
            f"with scripts/record_logical_ids.py:\n  {shown}",
            LogicalIdNote,
            stacklevel=1,
        )
    assert comparison.breaking == [], (
        "an upgrade would replace or remove stateful resources: keep their construct ids, or release a major "
        "version (README.md, Upgrading and semver):\n" + "\n".join(comparison.breaking)
    )


@pytest.fixture
def recorded() -> Record:
    return {
        "Shop": {
            "OrdersRepoA1": "AWS::ECR::Repository",
            "OrdersLogsB2": "AWS::Logs::LogGroup",
            "OrdersSecurityGroupC3": "AWS::EC2::SecurityGroup",
            "OrdersTaskDefinitionD4": "AWS::ECS::TaskDefinition",
        }
    }


def test_a_renamed_stateful_construct_is_breaking(recorded: Record) -> None:
    current = {"Shop": {**recorded["Shop"], "OrdersImagesE5": "AWS::ECR::Repository"}}
    del current["Shop"]["OrdersRepoA1"]
    comparison = compare(recorded, current)
    assert [line.split(" ")[1] for line in comparison.breaking] == ["OrdersRepoA1"]
    assert any("OrdersImagesE5" in note for note in comparison.notes)


def test_a_removed_stateful_resource_is_breaking(recorded: Record) -> None:
    current = {"Shop": {k: v for k, v in recorded["Shop"].items() if k != "OrdersLogsB2"}}
    assert len(compare(recorded, current).breaking) == 1


def test_a_type_change_is_a_replacement(recorded: Record) -> None:
    current = {"Shop": {**recorded["Shop"], "OrdersRepoA1": "AWS::ECR::PublicRepository"}}
    assert "changes type" in compare(recorded, current).breaking[0]


def test_stateless_changes_and_additions_are_notes(recorded: Record) -> None:
    current = {"Shop": {k: v for k, v in recorded["Shop"].items() if k != "OrdersSecurityGroupC3"}}
    current["Shop"]["OrdersSecurityGroupF6"] = "AWS::EC2::SecurityGroup"
    comparison = compare(recorded, current)
    assert comparison.breaking == []
    assert len(comparison.notes) == 2


def test_a_removed_stack_with_stateful_resources_is_breaking(recorded: Record) -> None:
    assert compare(recorded, {}).breaking


def test_stateful_types_say_why() -> None:
    # The list is the policy README.md states; each entry carries the reason it is there.
    assert {
        "AWS::ECR::Repository",
        "AWS::Logs::LogGroup",
        "AWS::ServiceDiscovery::PrivateDnsNamespace",
        "AWS::AppMesh::Mesh",
        "AWS::EC2::VPC",
        "AWS::KMS::Key",
    } <= STATEFUL_TYPES.keys()
    assert all(STATEFUL_TYPES.values())


def test_a_0x_app_mesh_shop_that_names_its_plane_keeps_every_logical_id(mesh_shop_app: CheckedApp) -> None:
    """Upgrading to 1.0: the shop as 0.1.0 deployed it, with ``data_plane=DataPlane.app_mesh()`` added.

    ``tests/records/shop-0.1.0-app-mesh.json`` is examples/shop's record at 0.1.0, when App Mesh
    was the default; the same declarations on App Mesh must deploy every resource under the same
    logical id and type. The only resources 1.0 adds are the services' egress rules (outbound
    traffic limited to declared callees and HTTPS).
    """
    recorded = read_record(Path(__file__).parent / "records" / "shop-0.1.0-app-mesh.json")
    assert recorded is not None
    (before,) = recorded.values()
    (after,) = record_of(mesh_shop_app.assembly).values()
    assert {logical_id: after.get(logical_id) for logical_id in before} == before
    assert {after[logical_id] for logical_id in after.keys() - before.keys()} == {"AWS::EC2::SecurityGroupEgress"}
