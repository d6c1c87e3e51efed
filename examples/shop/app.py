"""CDK app of the shop example: run ``cdk synth`` in this folder.

cdk.json turns on cdk-nag's AwsSolutions checks (context ``awsSolutionsChecks``): synthesis
fails on any finding not acknowledged; ``cdk synth -c awsSolutionsChecks=false`` skips them.
"""

import os

import aws_cdk as cdk
from shop_stack import build

from mesh_microservices import write_topology

# No stack trace per annotation: in a Python app it points into jsii's runtime, not the app.
app = cdk.App(stack_traces=False)
if str(app.node.try_get_context("awsSolutionsChecks")).lower() == "true":
    from cdk_nag import AwsSolutionsChecks

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
build(app, account=os.environ.get("CDK_DEFAULT_ACCOUNT"))
write_topology(app, app.synth().directory)
