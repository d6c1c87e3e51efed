"""The shop: web calls orders and inventory, orders calls inventory, each from its own repository.

It runs on ECS Service Connect, the library's default data plane. The public enters through one
door: an internet-facing load balancer whose listener sends every path to web's own target group.
Only web admits the load balancer; orders and inventory stay internal.

Context values (``cdk deploy -c name=value``, or cdk.json):
  ``certificateArn``  an ACM certificate for your host name: the load balancer then serves HTTPS
                      on 443 and redirects HTTP to it. Without one it serves plain HTTP on 80,
                      which the example asks for explicitly (``allow_plain_http=True``).
  ``firstDeploy``     ``true`` for the first deployment: the repositories are created empty, so
                      the services start with no task (``desired_count=0``). Push the images, then
                      deploy again without it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from constructs import Construct

from mesh_microservices import DataPlane, IngressRoute, MeshedCluster, MeshedService, MeshIngress, ServiceRepository

TASKS_PER_SERVICE = 2


class ShopStack(cdk.Stack):
    """Three services, each with its own image repository, and the public ingress to web."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        env: cdk.Environment | None = None,
        data_plane: DataPlane | None = None,
        certificate_arn: str | None = None,
        first_deploy: bool = False,
    ) -> None:
        super().__init__(scope, id, env=env)
        # The same declarations run on App Mesh with data_plane=DataPlane.app_mesh().
        cluster = MeshedCluster(self, "Cluster", namespace="shop.local", data_plane=data_plane)
        tasks = 0 if first_deploy else TASKS_PER_SERVICE

        inventory_repo = ServiceRepository(self, "InventoryRepo")
        inventory = MeshedService(
            self,
            "Inventory",
            cluster=cluster,
            name="inventory",
            image=inventory_repo.image("2.0.1"),
            port=8080,
            desired_count=tasks,
        )
        orders_repo = ServiceRepository(self, "OrdersRepo")
        orders = MeshedService(
            self,
            "Orders",
            cluster=cluster,
            name="orders",
            image=orders_repo.image("1.4.2"),
            port=8080,
            desired_count=tasks,
            backends=[inventory],
        )
        web_repo = ServiceRepository(self, "WebRepo")
        web = MeshedService(
            self, "Web", cluster=cluster, name="web", image=web_repo.image("3.1.0"), port=80, desired_count=tasks
        )
        web.connect_to(orders)
        web.connect_to(inventory)
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn) if certificate_arn else None
        )
        self.ingress = MeshIngress(
            self,
            "Ingress",
            cluster=cluster,
            routes=[IngressRoute(service=web, path_prefix="/")],
            certificate=certificate,
            allow_plain_http=certificate is None,
        )


def build(app: cdk.App, *, account: str | None = None) -> None:
    """Add the shop to ``app``, as app.py deploys it (region eu-west-1)."""
    ShopStack(
        app,
        "Shop",
        env=cdk.Environment(account=account, region="eu-west-1"),
        certificate_arn=app.node.try_get_context("certificateArn"),
        first_deploy=str(app.node.try_get_context("firstDeploy")).lower() == "true",
    )
