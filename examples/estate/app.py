"""CDK app of the estate example: run ``cdk synth`` in this folder."""

import os

import aws_cdk as cdk
from estate_app import build_estate

from mesh_microservices import write_topology

app = cdk.App()
build_estate(app, env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region="eu-west-1"))
write_topology(app, app.synth().directory)
