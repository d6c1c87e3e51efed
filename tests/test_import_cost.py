"""Importing the library loads only the aws_cdk modules that every meshed service needs.

Every aws_cdk module imported delays the start of every synth (these five, about 40 ms together
on a 2-core machine); those of optional features (ingress certificates and log buckets, TLS from
a private CA, alarms, repository keys, the custom resource that restarts Service Connect callers
round a loop) are imported where those features are built. So are the library's App Mesh
modules, when a cluster binds ``DataPlane.app_mesh()`` (about 10 ms, and the jsii calls their
constants make).
"""

from __future__ import annotations

import json
import subprocess
import sys

OPTIONAL_FEATURE_MODULES = {
    "aws_cdk.aws_acmpca",
    "aws_cdk.aws_certificatemanager",
    "aws_cdk.aws_cloudwatch",
    "aws_cdk.aws_kms",
    "aws_cdk.aws_lambda",
    "aws_cdk.aws_s3",
    "aws_cdk.custom_resources",
}
# The App Mesh plane's modules; an app on Service Connect, the default, loads none of them.
APP_MESH_PLANE_MODULES = {
    "mesh_microservices.app_mesh.checks",
    "mesh_microservices.app_mesh.end_of_life",
    "mesh_microservices.app_mesh.gateway",
    "mesh_microservices.app_mesh.ingress",
    "mesh_microservices.app_mesh.observability",
    "mesh_microservices.app_mesh.plane",
    "mesh_microservices.app_mesh.service_meshing",
}


def test_importing_the_library_loads_no_optional_feature_module() -> None:
    # A fresh interpreter: the test session has imported everything already.
    probe = "import json, sys, mesh_microservices; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True).stdout)
    assert "mesh_microservices" in loaded
    assert OPTIONAL_FEATURE_MODULES.isdisjoint(loaded), sorted(OPTIONAL_FEATURE_MODULES & set(loaded))
    assert APP_MESH_PLANE_MODULES.isdisjoint(loaded), sorted(APP_MESH_PLANE_MODULES & set(loaded))


def test_only_an_app_mesh_cluster_loads_the_app_mesh_plane() -> None:
    build = (
        "import json, sys, aws_cdk as cdk, mesh_microservices as mm; "
        "stack = cdk.Stack(cdk.App(), 'S'); "
        "mm.MeshedCluster(stack, 'C', namespace='a.local'); loaded = set(sys.modules); "
        "mm.MeshedCluster(stack, 'M', namespace='b.local', data_plane=mm.DataPlane.app_mesh()); "
        "print(json.dumps([sorted(loaded), sorted(sys.modules)]))"
    )
    run = subprocess.run([sys.executable, "-c", build], check=True, capture_output=True)
    on_service_connect, with_app_mesh = json.loads(run.stdout)
    assert APP_MESH_PLANE_MODULES.isdisjoint(on_service_connect)
    assert APP_MESH_PLANE_MODULES.issubset(with_app_mesh)
