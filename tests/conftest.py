"""Shared fixtures: each app is synthesized once per test session, because a synth costs seconds."""

from __future__ import annotations

import os

# Every deprecated aws-cdk-lib call raises; must be set before jsii starts.
os.environ.setdefault("JSII_DEPRECATED", "fail")

import sys
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_servicediscovery as servicediscovery

from mesh_microservices import (
    DataPlane,
    Discovery,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    RoutePolicy,
    ServiceRepository,
)
from synthesized import Synthesized, synthesize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "shop"))

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
NGINX = "public.ecr.aws/nginx/nginx:1.27"


def new_app() -> cdk.App:
    """An app that records construct paths in templates, as the CDK CLI does."""
    return cdk.App(context={"aws:cdk:enable-path-metadata": True})


@pytest.fixture(scope="session")
def shop() -> Synthesized:
    """The shop example, synthesized as its app.py does."""
    from shop_stack import ShopStack

    app = new_app()
    ShopStack(app, "Shop", env=ENV)
    return synthesize(app, "Shop")


def _variants(app: cdk.App) -> None:
    """Stacks covering the choices the shop example does not make."""
    protocols = cdk.Stack(app, "Protocols", env=ENV)
    cluster = MeshedCluster(protocols, "Cluster", namespace="proto.local")
    image = ecs.ContainerImage.from_registry(NGINX)
    MeshedService(protocols, "Http2", cluster=cluster, name="h2", image=image, protocol=ListenerProtocol.HTTP2,
                  health_check_path="/healthz", desired_count=1)
    MeshedService(protocols, "Grpc", cluster=cluster, name="rpc", image=image, port=50051,
                  protocol=ListenerProtocol.GRPC, desired_count=3)
    MeshedService(protocols, "Tcp", cluster=cluster, name="db", image=image, port=5432,
                  protocol=ListenerProtocol.TCP, desired_count=4, discovery=Discovery.dns(),
                  route_policy=RoutePolicy(retry_attempts=3, request_timeout=cdk.Duration.seconds(30)))

    imported = cdk.Stack(app, "Imported", env=ENV)
    namespace = servicediscovery.PrivateDnsNamespace.from_private_dns_namespace_attributes(
        imported, "Namespace", namespace_name="corp.internal", namespace_id="ns-1234567890", namespace_arn=
        f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/ns-1234567890"
    )
    mesh = appmesh.Mesh.from_mesh_name(imported, "Mesh", "corp-mesh")
    shared = MeshedCluster(imported, "Cluster", namespace=namespace,
                           data_plane=DataPlane.app_mesh(mesh=mesh, envoy_image_tag="v1.34.13.0-prod"))
    MeshedService(imported, "Billing", cluster=shared, name="billing", image=image)

    anywhere = cdk.Stack(app, "AnyRegion")  # region unknown until deployment
    cluster = MeshedCluster(anywhere, "Cluster", namespace="any.local")
    MeshedService(anywhere, "Api", cluster=cluster, name="api", image=image)

    custom = cdk.Stack(app, "CustomEnvoy", env=cdk.Environment(account=ACCOUNT, region="eu-central-2"))
    own_envoy = ecs.ContainerImage.from_registry("registry.example.com/envoy:v1.39.1.0-prod")
    cluster = MeshedCluster(custom, "Cluster", namespace="own.local", data_plane=DataPlane.app_mesh(
        envoy_image=own_envoy, mesh_name="own-mesh"))
    MeshedService(custom, "Api", cluster=cluster, name="api", image=image)
    throwaway = ServiceRepository(custom, "Scratch", destroy_on_delete=True)
    MeshedService(custom, "Worker", cluster=cluster, name="worker", image=throwaway.image("latest"))
    connect = cdk.Stack(app, "ServiceConnect", env=ENV)
    cluster = MeshedCluster(connect, "Cluster", namespace="shop.local", data_plane=DataPlane.service_connect())
    inventory = MeshedService(connect, "Inventory", cluster=cluster, name="inventory", image=image)
    orders = MeshedService(connect, "Orders", cluster=cluster, name="orders", image=image, backends=[inventory],
                           route_policy=RoutePolicy(request_timeout=cdk.Duration.seconds(20)))
    MeshedService(connect, "Ledger", cluster=cluster, name="ledger", image=image, port=5432,
                  protocol=ListenerProtocol.TCP)
    web = MeshedService(connect, "Web", cluster=cluster, name="web", image=image, port=80)
    web.connect_to(orders)
    web.connect_to(inventory)

    secure = cdk.Stack(app, "ServiceConnectTls", env=ENV)
    cluster = MeshedCluster(secure, "Cluster", namespace="secure.local", data_plane=DataPlane.service_connect(
        tls_authority_arn=f"arn:aws:acm-pca:{REGION}:{ACCOUNT}:certificate-authority/0123abcd-0123-4567-89ab-0123456789ab"))
    MeshedService(secure, "Vault", cluster=cluster, name="vault", image=image)

    key = kms.Key(custom, "ImageKey", enable_key_rotation=True)
    ServiceRepository(custom, "Sealed", encryption_key=key)


@pytest.fixture(scope="session")
def variants() -> Callable[[str], Synthesized]:
    """One app of several stacks; returns the synthesized stack of a given name."""
    app = new_app()
    _variants(app)
    assembly = app.synth()
    cache: dict[str, Synthesized] = {}

    def get(stack_name: str) -> Synthesized:
        if stack_name not in cache:
            cache[stack_name] = Synthesized.from_assembly(assembly, stack_name)
        return cache[stack_name]

    return get
