"""Importing the library loads only the aws_cdk modules that every meshed service needs.

Every aws_cdk module imported delays the start of every synth (these five, about 40 ms together
on a 2-core machine); those of optional features (ingress certificates and log buckets, TLS from
a private CA, alarms, repository keys, the custom resource that restarts Service Connect callers
round a loop) are imported where those features are built.
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


def test_importing_the_library_loads_no_optional_feature_module() -> None:
    # A fresh interpreter: the test session has imported everything already.
    probe = "import json, sys, mesh_microservices; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True).stdout)
    assert "mesh_microservices" in loaded
    assert OPTIONAL_FEATURE_MODULES.isdisjoint(loaded), sorted(OPTIONAL_FEATURE_MODULES & set(loaded))
