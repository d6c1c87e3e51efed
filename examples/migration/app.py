"""CDK app of the migration example: ``cdk synth -c serviceConnectPercent=10`` in this folder."""

import os

import aws_cdk as cdk
from mesh_microservices import write_topology
from migration_stack import MigrationStack

app = cdk.App()
MigrationStack(
    app,
    "ShopMigration",
    service_connect_percent=int(app.node.try_get_context("serviceConnectPercent") or 0),
    env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region="eu-west-1"),
)
write_topology(app, app.synth().directory)
