"""The README's quick start, run as written: Service Connect by default, and deployable on a first try."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from conftest import ROOT
from synthesized import Synthesized


def _quick_start_code() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert found, "README's quick start has no python block"
    return found.group(1)


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The quick start's app, as app.py in a folder that holds orders/Dockerfile, as the README says."""
    folder: Path = tmp_path_factory.mktemp("quick-start")
    (folder / "orders").mkdir()
    (folder / "orders" / "Dockerfile").write_text("FROM public.ecr.aws/nginx/nginx:1.27\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDK_OUTDIR", str(folder / "cdk.out"))  # read by cdk.App() in Python
        namespace: dict[str, Any] = {"__name__": "quick_start", "__file__": str(folder / "app.py")}
        exec(compile(_quick_start_code(), "README.md", "exec"), namespace)
    app: cdk.App = namespace["app"]
    return Synthesized.from_assembly(app.synth(), "Shop")


def test_the_default_data_plane_is_service_connect(quick_start: Synthesized) -> None:
    types = {resource["Type"] for resource in quick_start.json["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::AppMesh::")}
    services = quick_start.resources("AWS::ECS::Service").values()
    assert len(services) == 2
    for service in services:
        assert service["Properties"]["ServiceConnectConfiguration"]["Enabled"] is True


def test_no_app_mesh_end_of_life_warning_without_app_mesh(quick_start: Synthesized) -> None:
    assert not [m for m in quick_start.messages if "AppMeshEndOfLife" in m[2]]


def test_every_image_exists_when_its_service_starts(quick_start: Synthesized) -> None:
    """One image is public, the other is built from ./orders and pushed by cdk deploy (an asset)."""
    images = [
        container["Image"]
        for task in quick_start.resources("AWS::ECS::TaskDefinition").values()
        for container in task["Properties"]["ContainerDefinitions"]
    ]
    assert "public.ecr.aws/nginx/nginx:1.27" in images
    (built,) = [image for image in images if image != "public.ecr.aws/nginx/nginx:1.27"]
    assert "cdk-hnb659fds-container-assets" in str(built)


def test_the_callee_starts_before_its_caller(quick_start: Synthesized) -> None:
    by_name = {
        service["Properties"]["ServiceConnectConfiguration"]["Services"][0]["DiscoveryName"]: (logical_id, service)
        for logical_id, service in quick_start.resources("AWS::ECS::Service").items()
    }
    orders_id, _ = by_name["orders"]
    _, web = by_name["web"]
    assert orders_id in web["DependsOn"]
