"""Importing the library loads only the aws_cdk modules that every meshed service needs.

Every aws_cdk module imported delays the start of every synth (aws_ecr alone about 60 ms on a
2-core machine). Those of optional features (ingress certificates and log buckets, TLS from a
private CA, alarms, ECR repositories and their keys, the custom resource that restarts Service
Connect callers round a loop) are imported where those features are built; so are the library's
App Mesh modules and aws-cdk-lib's, when a cluster binds ``DataPlane.app_mesh()`` (about 10 and
17 ms, and the jsii calls their constants make).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

OPTIONAL_FEATURE_MODULES = {
    "aws_cdk.aws_acmpca",
    "aws_cdk.aws_certificatemanager",
    "aws_cdk.aws_cloudwatch",
    "aws_cdk.aws_ecr",
    "aws_cdk.aws_kms",
    "aws_cdk.aws_lambda",
    "aws_cdk.aws_s3",
    "aws_cdk.custom_resources",
}
# The App Mesh plane's modules and aws-cdk-lib's; an app on Service Connect, the default, loads none of them.
APP_MESH_PLANE_MODULES = {
    "aws_cdk.aws_appmesh",
    "mesh_microservices.app_mesh.checks",
    "mesh_microservices.app_mesh.end_of_life",
    "mesh_microservices.app_mesh.gateway",
    "mesh_microservices.app_mesh.ingress",
    "mesh_microservices.app_mesh.observability",
    "mesh_microservices.app_mesh.plane",
    "mesh_microservices.app_mesh.service_meshing",
}


# One fresh interpreter (the test session has imported everything already) reports the modules
# loaded at each step: importing the library, a Service Connect cluster and service of a public
# image, then an App Mesh cluster.
PROBE = """
import json, sys
import mesh_microservices as mm
imported = sorted(sys.modules)
import aws_cdk as cdk
stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region="eu-west-1"))
cluster = mm.MeshedCluster(stack, "C", namespace="a.local")
image = cdk.aws_ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27")
mm.MeshedService(stack, "Svc", cluster=cluster, name="svc", image=image)
on_service_connect = sorted(sys.modules)
mm.MeshedCluster(stack, "M", namespace="b.local", data_plane=mm.DataPlane.app_mesh())
with_app_mesh = sorted(sys.modules)
print(json.dumps({"imported": imported, "on_service_connect": on_service_connect, "with_app_mesh": with_app_mesh}))
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    run = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True)
    return {step: set(modules) for step, modules in json.loads(run.stdout).items()}


def test_importing_the_library_loads_no_optional_feature_module(loaded: dict[str, set[str]]) -> None:
    imported = loaded["imported"]
    assert "mesh_microservices" in imported
    assert OPTIONAL_FEATURE_MODULES.isdisjoint(imported), sorted(OPTIONAL_FEATURE_MODULES & imported)
    assert APP_MESH_PLANE_MODULES.isdisjoint(imported), sorted(APP_MESH_PLANE_MODULES & imported)


def test_only_an_app_mesh_cluster_loads_the_app_mesh_plane(loaded: dict[str, set[str]]) -> None:
    assert APP_MESH_PLANE_MODULES.isdisjoint(loaded["on_service_connect"])
    assert APP_MESH_PLANE_MODULES.issubset(loaded["with_app_mesh"])


def test_a_service_connect_service_of_a_public_image_loads_no_ecr_or_app_mesh_module(
    loaded: dict[str, set[str]],
) -> None:
    assert "aws_cdk.aws_ecs" in loaded["on_service_connect"]
    assert {"aws_cdk.aws_ecr", *APP_MESH_PLANE_MODULES}.isdisjoint(loaded["on_service_connect"])
