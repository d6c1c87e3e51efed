"""App Mesh in full: orders v2 as a weighted canary beside v1, a header route rule, TLS inside the mesh.

AWS discontinued App Mesh on 2026-09-30: this example is for estates that still carry a mesh and
for their migration (new work uses Service Connect, the library's default data plane). Everything
App Mesh-specific is explicit: ``DataPlane.app_mesh(tls=MeshTls.private_ca(authority))`` encrypts
every call inside the mesh with a certificate per service from your AWS Private CA, whose ARN
comes from the ``certificateAuthorityArn`` context value (cdk.json; replace it with yours).

The canary runs behind the one name callers dial, at a weight you choose.

Shift it with the ``canaryPercent`` context value and ``cdk deploy``:
  ``-c canaryPercent=10``  v2 takes 10 % of web's calls (the default);
  ``-c canaryPercent=50``  half;
  ``-c canaryPercent=100`` promotion: all traffic on v2 (then make v2 the primary image and drop it);
  ``-c canaryPercent=0``   rollback: v2 keeps running, receives nothing.
Requests carrying ``x-canary: true`` always reach v2, so testers can try it before anyone else.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_acmpca as acmpca
from constructs import Construct

from mesh_microservices import (
    DataPlane,
    MeshedCluster,
    MeshedService,
    MeshTls,
    RouteRule,
    ServiceRepository,
    ServiceVersion,
)

DEFAULT_CANARY_PERCENT = 10
# The shape of a Private CA's ARN; cdk.json's certificateAuthorityArn replaces it with yours.
EXAMPLE_AUTHORITY_ARN = (
    "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555"
)


class CanaryStack(cdk.Stack):
    """web calls orders; orders runs v1 and a v2 canary; every call inside the mesh is encrypted."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        canary_percent: int,
        certificate_authority_arn: str,
        env: cdk.Environment | None = None,
    ) -> None:
        if isinstance(canary_percent, bool) or not isinstance(canary_percent, int):
            raise TypeError(f"canary_percent={canary_percent!r}; pass a whole number from 0 to 100.")
        if not 0 <= canary_percent <= 100:
            raise ValueError(f"canary_percent={canary_percent} is not from 0 to 100.")
        super().__init__(scope, id, env=env)
        authority = acmpca.CertificateAuthority.from_certificate_authority_arn(
            self, "Authority", certificate_authority_arn
        )
        cluster = MeshedCluster(
            self,
            "Cluster",
            namespace="canary.local",
            data_plane=DataPlane.app_mesh(tls=MeshTls.private_ca(authority)),
        )
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
    CanaryStack(
        app,
        "Canary",
        canary_percent=percent,
        certificate_authority_arn=str(app.node.try_get_context("certificateAuthorityArn") or EXAMPLE_AUTHORITY_ARN),
        env=cdk.Environment(account=account, region="eu-west-1"),
    )
