"""CDK app of the shop example: run ``cdk synth`` in this folder."""

import os

import aws_cdk as cdk
from mesh_microservices import write_topology
from shop_stack import ShopStack

app = cdk.App()
ShopStack(app, "Shop", env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region="eu-west-1"))
write_topology(app, app.synth().directory)
