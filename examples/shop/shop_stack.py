"""The shop: web calls orders and inventory, orders calls inventory, each from its own repository."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from mesh_microservices import MeshedCluster, MeshedService, ServiceRepository


class ShopStack(cdk.Stack):
    """Three meshed services, each with its own image repository."""

    def __init__(self, scope: Construct, id: str, *, env: cdk.Environment | None = None) -> None:
        super().__init__(scope, id, env=env)
        cluster = MeshedCluster(self, "Cluster", namespace="shop.local")

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

