"""The shop: web calls orders and inventory, orders calls inventory, each from its own repository.

The public enters through one door: a load balancer in front of the mesh's virtual gateway, which
sends every path to web. Only web admits the gateway; orders and inventory stay internal.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from mesh_microservices import DataPlane, IngressRoute, MeshedCluster, MeshedService, MeshIngress, ServiceRepository


class ShopStack(cdk.Stack):
    """Three meshed services, each with its own image repository, and the public ingress to web."""

    def __init__(self, scope: Construct, id: str, *, env: cdk.Environment | None = None) -> None:
        super().__init__(scope, id, env=env)
        cluster = MeshedCluster(self, "Cluster", namespace="shop.local", data_plane=DataPlane.app_mesh())

        inventory_repo = ServiceRepository(self, "InventoryRepo")
        inventory = MeshedService(
            self, "Inventory", cluster=cluster, name="inventory", image=inventory_repo.image("2.0.1"), port=8080
        )
        orders_repo = ServiceRepository(self, "OrdersRepo")
        orders = MeshedService(
            self,
            "Orders",
            cluster=cluster,
            name="orders",
            image=orders_repo.image("1.4.2"),
            port=8080,
            backends=[inventory],
        )
        web_repo = ServiceRepository(self, "WebRepo")
        web = MeshedService(self, "Web", cluster=cluster, name="web", image=web_repo.image("3.1.0"), port=80)
        web.connect_to(orders)
        web.connect_to(inventory)
        # HTTP on port 80; pass certificate=<an ACM certificate for your domain> to serve HTTPS
        # on 443 and redirect HTTP to it.
        self.ingress = MeshIngress(
            self, "Ingress", cluster=cluster, routes=[IngressRoute(service=web, path_prefix="/")], allow_plain_http=True
        )


def build(app: cdk.App, *, account: str | None = None) -> None:
    """Add the shop to ``app``, as app.py deploys it (region eu-west-1)."""
    ShopStack(app, "Shop", env=cdk.Environment(account=account, region="eu-west-1"))
