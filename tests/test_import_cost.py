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


def test_a_service_connect_service_of_a_public_image_loads_no_ecr_or_app_mesh_module() -> None:
    build = (
        "import json, sys, aws_cdk as cdk, mesh_microservices as mm; "
        "stack = cdk.Stack(cdk.App(), 'S', env=cdk.Environment(account='123456789012', region='eu-west-1')); "
        "cluster = mm.MeshedCluster(stack, 'C', namespace='a.local'); "
        "image = cdk.aws_ecs.ContainerImage.from_registry('public.ecr.aws/nginx/nginx:1.27'); "
        "mm.MeshedService(stack, 'Svc', cluster=cluster, name='svc', image=image); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", build], check=True, capture_output=True).stdout))
    assert "aws_cdk.aws_ecs" in loaded
    assert {"aws_cdk.aws_ecr", *APP_MESH_PLANE_MODULES}.isdisjoint(loaded)
