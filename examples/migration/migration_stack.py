"""Moving the shop off App Mesh: an App Mesh cluster and its Service Connect twin in one VPC.

The public load balancer splits traffic between the two ``web`` services by weight. Raise
``service_connect_percent`` step by step (0, 10, 50, 100) to cut over; lower it to roll back.
Inside each half, services call each other by the same names (``orders.shop.local``).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from mesh_microservices import DataPlane, MeshedCluster, MeshedService, ServiceRepository

WEB_PORT = 80


class ShopHalf(Construct):
    """The shop's three services on one cluster."""

    def __init__(
        self, scope: Construct, id: str, *, cluster: MeshedCluster, images: dict[str, ecs.ContainerImage]
    ) -> None:
        super().__init__(scope, id)
        inventory = MeshedService(self, "Inventory", cluster=cluster, name="inventory", image=images["inventory"])
        orders = MeshedService(
            self, "Orders", cluster=cluster, name="orders", image=images["orders"], backends=[inventory]
        )
        self.web = MeshedService(
            self, "Web", cluster=cluster, name="web", image=images["web"], port=WEB_PORT, backends=[orders, inventory]
        )


class MigrationStack(cdk.Stack):
    """Both halves, and the load balancer that shifts traffic between them."""

    def __init__(
        self, scope: Construct, id: str, *, service_connect_percent: int, env: cdk.Environment | None = None
    ) -> None:
        if isinstance(service_connect_percent, bool) or not isinstance(service_connect_percent, int):
            raise TypeError(f"service_connect_percent={service_connect_percent!r}; pass a whole number from 0 to 100.")
        if not 0 <= service_connect_percent <= 100:
            raise ValueError(f"service_connect_percent={service_connect_percent} is not from 0 to 100.")
        super().__init__(scope, id, env=env)

        repositories = {name: ServiceRepository(self, f"{name.title()}Repo") for name in ("web", "orders", "inventory")}
        images = {name: repository.image("1.0.0") for name, repository in repositories.items()}

        app_mesh = MeshedCluster(self, "AppMeshCluster", namespace="shop.local", data_plane=DataPlane.app_mesh())
        service_connect = MeshedCluster(
            self,
            "ServiceConnectCluster",
            vpc=app_mesh.vpc,
            namespace="shop-next.local",  # one ECS service cannot be in both halves' namespaces
            service_domain="shop.local",  # callers keep dialling orders.shop.local
            data_plane=DataPlane.service_connect(),
        )
        old = ShopHalf(self, "AppMeshShop", cluster=app_mesh, images=images)
        new = ShopHalf(self, "ServiceConnectShop", cluster=service_connect, images=images)

        self.load_balancer = self._public_load_balancer(app_mesh.vpc)
        listener = self.load_balancer.add_listener("Http", port=80, open=True)
        _skip_in_checkov(
            listener,
            ["CKV_AWS_2", "CKV_AWS_103"],
            "The example serves plain HTTP on port 80; in production give the listener a certificate (HTTPS 443).",
        )
        old_targets = self._web_targets("AppMeshWeb", old.web, app_mesh.vpc)
        new_targets = self._web_targets("ServiceConnectWeb", new.web, app_mesh.vpc)
        listener.add_action(
            "Shift",
            action=elbv2.ListenerAction.weighted_forward(
                [
                    elbv2.WeightedTargetGroup(target_group=old_targets, weight=100 - service_connect_percent),
                    elbv2.WeightedTargetGroup(target_group=new_targets, weight=service_connect_percent),
                ]
            ),
        )

    def _public_load_balancer(self, vpc: ec2.IVpc) -> elbv2.ApplicationLoadBalancer:
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption ALB access logs support
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=cdk.Duration.days(365), noncurrent_version_expiration=cdk.Duration.days(30))
            ],
        )
        no_access_logs = "This bucket holds access logs; logging it would recurse."
        Validations.of(access_logs).acknowledge(Acknowledgment(id="AwsSolutions-S1", reason=no_access_logs))
        _skip_in_checkov(access_logs, ["CKV_AWS_18"], no_access_logs)
        load_balancer = elbv2.ApplicationLoadBalancer(
            self, "LoadBalancer", vpc=vpc, internet_facing=True, drop_invalid_header_fields=True
        )
        load_balancer.log_access_logs(access_logs)
        public = "The shop's public entry point: only the load balancer is open to the internet."
        Validations.of(load_balancer).acknowledge(Acknowledgment(id="AwsSolutions-EC23", reason=public))
        for group in load_balancer.connections.security_groups:
            _skip_in_checkov(group, ["CKV_AWS_260"], public)
        return load_balancer

    def _web_targets(self, id: str, web: MeshedService, vpc: ec2.IVpc) -> elbv2.ApplicationTargetGroup:
        web.expose_to(self.load_balancer, "public load balancer")
        return elbv2.ApplicationTargetGroup(
            self,
            id,
            vpc=vpc,
            port=WEB_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[web.service.load_balancer_target(container_name="app", container_port=WEB_PORT)],
            health_check=elbv2.HealthCheck(path="/"),
        )


def _skip_in_checkov(construct: IConstruct, check_ids: list[str], reason: str) -> None:
    """Acknowledge checkov findings in the resource's template metadata, as cdk-nag's with Validations."""
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    resource.add_metadata("checkov", {"skip": [{"id": check, "comment": reason} for check in check_ids]})


def build(app: cdk.App, *, account: str | None = None) -> None:
    """Add the migration to ``app``, as app.py deploys it (region eu-west-1).

    The share of traffic sent to the Service Connect half comes from the context value
    ``serviceConnectPercent`` (``cdk deploy -c serviceConnectPercent=10``); default 0.
    """
    MigrationStack(
        app,
        "ShopMigration",
        service_connect_percent=int(app.node.try_get_context("serviceConnectPercent") or 0),
        env=cdk.Environment(account=account, region="eu-west-1"),
    )
