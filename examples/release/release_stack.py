"""Progressive delivery on Service Connect: orders releases each new image by canary, with rollback.

web calls orders inside the mesh; the public reaches both through one load balancer (``/orders/``
to orders, everything else to web). A new orders image (a new task definition revision, e.g.
``-c ordersVersion=1.5.0``) is released by ECS, not by weights you edit:

1. Test phase: the new revision starts beside the old one. Only requests carrying
   ``x-canary: orders-next`` reach it, from web's calls inside the mesh (Service Connect's test
   traffic rule) and from the internet (the load balancer's test listener rule).
2. Canary: 10 % of production traffic for 15 minutes, inside the mesh and at the load balancer.
3. All traffic moves; the old revision stays 15 minutes more, ready for an instant rollback.

Any of orders' alarms rolls the release back at any step: its own (5xx answers, response time)
and the checkout-failure alarm declared here. Watch a release in the ECS console (the service's
Deployments tab) or with ``aws ecs describe-service-deployments``; stop one with
``aws ecs stop-service-deployment --stop-type ROLLBACK``.

Context values (``cdk deploy -c name=value``, or cdk.json):
  ``certificateArn``  an ACM certificate for your host name: the load balancer then serves HTTPS
                      on 443 and redirects HTTP to it. Without one it serves plain HTTP on 80,
                      which the example asks for explicitly (``allow_plain_http=True``).
  ``ordersVersion``   the orders image tag to release. Default: 1.4.2.
  ``firstDeploy``     ``true`` for the first deployment: the repositories are created empty, so
                      the services start with no task (``desired_count=0``). Push the images, then
                      deploy again without it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from mesh_microservices import (
    DataPlane,
    IngressRoute,
    MeshedCluster,
    MeshedService,
    MeshIngress,
    Rollout,
    ServiceRepository,
)

TASKS_PER_SERVICE = 2
DEFAULT_ORDERS_VERSION = "1.4.2"
# The header that reaches the new orders revision during its test phase, in the mesh and from the internet.
TEST_HEADER = ("x-canary", "orders-next")
CANARY_PERCENT = 10
CANARY_BAKE = cdk.Duration.minutes(15)
FINAL_BAKE = cdk.Duration.minutes(15)
# What orders' application publishes when a checkout fails (its own metric, its own namespace).
CHECKOUT_FAILURES = cloudwatch.Metric(
    namespace="Shop/Orders", metric_name="CheckoutFailures", statistic="Sum", period=cdk.Duration.minutes(1)
)


class ReleaseStack(cdk.Stack):
    """web and orders on Service Connect, orders released by canary, both behind the public ingress."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        env: cdk.Environment | None = None,
        certificate_arn: str | None = None,
        orders_version: str = DEFAULT_ORDERS_VERSION,
        first_deploy: bool = False,
    ) -> None:
        super().__init__(scope, id, env=env)
        cluster = MeshedCluster(self, "Cluster", namespace="release.local", data_plane=DataPlane.service_connect())
        tasks = 0 if first_deploy else TASKS_PER_SERVICE

        checkout_failures = cloudwatch.Alarm(
            self,
            "CheckoutFailures",
            metric=CHECKOUT_FAILURES,
            threshold=5,
            evaluation_periods=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="orders: more than 5 failed checkouts a minute, twice in a row",
        )
        orders_repo = ServiceRepository(self, "OrdersRepo")
        self.orders = MeshedService(
            self,
            "Orders",
            cluster=cluster,
            name="orders",
            image=orders_repo.image(orders_version),
            desired_count=tasks,
            rollout=Rollout.canary(
                percent=CANARY_PERCENT,
                bake=CANARY_BAKE,
                final_bake=FINAL_BAKE,
                test_header=TEST_HEADER,
                alarms=[checkout_failures],
            ),
        )
        web_repo = ServiceRepository(self, "WebRepo")
        web = MeshedService(
            self,
            "Web",
            cluster=cluster,
            name="web",
            image=web_repo.image("3.1.0"),
            desired_count=tasks,
            backends=[self.orders],
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn) if certificate_arn else None
        )
        self.ingress = MeshIngress(
            self,
            "Ingress",
            cluster=cluster,
            routes=[IngressRoute(service=self.orders, path_prefix="/orders/"), IngressRoute(service=web)],
            certificate=certificate,
            allow_plain_http=certificate is None,
        )


def build(app: cdk.App, *, account: str | None = None) -> None:
    """Add the release example to ``app``, as app.py deploys it (region eu-west-1)."""
    ReleaseStack(
        app,
        "Release",
        env=cdk.Environment(account=account, region="eu-west-1"),
        certificate_arn=app.node.try_get_context("certificateArn"),
        orders_version=str(app.node.try_get_context("ordersVersion") or DEFAULT_ORDERS_VERSION),
        first_deploy=str(app.node.try_get_context("firstDeploy")).lower() == "true",
    )
