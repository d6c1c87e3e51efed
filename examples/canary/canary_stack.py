"""A canary release: orders v2 beside v1 behind the one name callers dial, at a weight you choose.

Shift it with the ``canaryPercent`` context value and ``cdk deploy``:
  ``-c canaryPercent=10``  v2 takes 10 % of web's calls (the default);
  ``-c canaryPercent=50``  half;
  ``-c canaryPercent=100`` promotion: all traffic on v2 (then make v2 the primary image and drop it);
  ``-c canaryPercent=0``   rollback: v2 keeps running, receives nothing.
Requests carrying ``x-canary: true`` always reach v2, so testers can try it before anyone else.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from mesh_microservices import MeshedCluster, MeshedService, RouteRule, ServiceRepository, ServiceVersion

DEFAULT_CANARY_PERCENT = 10


class CanaryStack(cdk.Stack):
    """web calls orders; orders runs v1 and a v2 canary."""

    def __init__(self, scope: Construct, id: str, *, canary_percent: int, env: cdk.Environment | None = None) -> None:
        if isinstance(canary_percent, bool) or not isinstance(canary_percent, int):
            raise TypeError(f"canary_percent={canary_percent!r}; pass a whole number from 0 to 100.")
        if not 0 <= canary_percent <= 100:
            raise ValueError(f"canary_percent={canary_percent} is not from 0 to 100.")
        super().__init__(scope, id, env=env)
        cluster = MeshedCluster(self, "Cluster", namespace="canary.local")
        orders_repo = ServiceRepository(self, "OrdersRepo")
        orders = MeshedService(
            self,
            "Orders",
            cluster=cluster,
            name="orders",
            image=orders_repo.image("1.4.2"),
            version="v1",
            weight=100 - canary_percent,
            versions=[ServiceVersion(name="v2", image=orders_repo.image("2.0.0"), weight=canary_percent)],
            routes=[RouteRule(name="testers", headers={"x-canary": "true"}, weights={"v2": 100})],
        )
        web_repo = ServiceRepository(self, "WebRepo")
        MeshedService(self, "Web", cluster=cluster, name="web", image=web_repo.image("3.1.0"), backends=[orders])


def build(app: cdk.App, *, account: str | None = None) -> None:
    """Add the canary app to ``app``, as app.py deploys it (region eu-west-1)."""
    percent = int(app.node.try_get_context("canaryPercent") or DEFAULT_CANARY_PERCENT)
    CanaryStack(app, "Canary", canary_percent=percent, env=cdk.Environment(account=account, region="eu-west-1"))
