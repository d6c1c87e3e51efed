"""Shared fixtures: each app is synthesized once per test session, because a synth costs seconds."""

from __future__ import annotations

import os

# Every deprecated aws-cdk-lib call raises; must be set before jsii starts.
os.environ.setdefault("JSII_DEPRECATED", "fail")

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_acmpca as acmpca
from aws_cdk import aws_appmesh as appmesh
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_servicediscovery as servicediscovery

from cfn_lint_check import BackgroundLint
from checked_apps import CheckedApp, check_app
from checkov_check import BackgroundCheckov, checkov_templates
from gate_counts import report_gate_counts as pytest_terminal_summary  # noqa: F401 (the counts the gates record)
from mesh_microservices import (
    ConnectionPool,
    ContainerSecurity,
    DataPlane,
    Discovery,
    IngressLoadBalancer,
    IngressRoute,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    MeshIngress,
    MeshTls,
    Observability,
    OutlierDetection,
    Rollout,
    RoutePolicy,
    RouteRule,
    ServiceRepository,
    ServiceVersion,
)
from production_stacks import build_production
from record_logical_ids import BuildApp
from record_logical_ids import discover as discover_examples
from synthesized import Synthesized

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "shop"))

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
NGINX = "public.ecr.aws/nginx/nginx:1.27"
NGINX_NEXT = "public.ecr.aws/nginx/nginx:1.28"
AUTHORITY_ARN = f"arn:aws:acm-pca:{REGION}:{ACCOUNT}:certificate-authority/0123abcd-0123-4567-89ab-0123456789ab"
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0123abcd-0123-4567-89ab-0123456789ab"

# The gates that read cfn-lint's and checkov's results: they run last, and the tests that synthesize the
# apps those tools check run first, so that both tools overlap the whole session.
CHECKED_APPS_LINT_GATE = "test_cfn_lint.py::test_every_template_passes_cfn_lint"
LINT_GATES = (
    CHECKED_APPS_LINT_GATE,
    "test_cfn_lint.py::test_the_linter_reports_what_it_finds",
    "test_properties_valid_graphs.py::test_random_graph_templates_pass_cfn_lint",
)
CHECKOV_GATES = "test_checkov.py::"
CHECKED_APPS_LINT = "checked apps"


def _session_runs(request: pytest.FixtureRequest, test: str) -> bool:
    """Whether the session runs a test whose node id holds ``test`` (a file, or a file and a test)."""
    return any(test in item.nodeid for item in request.session.items)


def new_app() -> cdk.App:
    """An app that records construct paths in templates, as the CDK CLI does."""
    return cdk.App(context={"aws:cdk:enable-path-metadata": True})


CheckApp = Callable[[str, Callable[[cdk.App], None], str], CheckedApp]


@pytest.fixture(scope="session")
def check(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, background_lint: BackgroundLint
) -> CheckApp:
    """``check_app`` into a fresh folder; when the session runs the cfn-lint gate, linting starts at once.

    Called as ``check(label, build, folder name)`` by the fixtures of the apps the gates check.
    """
    lint = _session_runs(request, CHECKED_APPS_LINT_GATE)

    def check_and_lint(label: str, build: Callable[[cdk.App], None], folder: str) -> CheckedApp:
        checked = check_app(label, build, tmp_path_factory.mktemp(folder))
        if lint:
            templates = {f"{label}: {name}": (stack.json, checked.region(name)) for name, stack in checked.stacks()}
            background_lint.submit(CHECKED_APPS_LINT, templates)
        return checked

    return check_and_lint


@pytest.fixture(scope="session")
def example_apps(check: CheckApp) -> dict[str, CheckedApp]:
    """Every app of examples/, built by its own build() as its app.py does, with cdk-nag attached."""
    apps: dict[str, CheckedApp] = {}
    for example in discover_examples():

        def build(app: cdk.App, example_build: BuildApp = example.build) -> None:
            example_build(app, account=ACCOUNT)

        apps[example.name] = check(f"examples/{example.name}", build, example.name)
    return apps


@pytest.fixture(scope="session")
def mesh_shop_app(check: CheckApp) -> CheckedApp:
    """The shop example's declarations on App Mesh, as a 0.x estate deployed them, with cdk-nag attached."""
    from shop_stack import ShopStack

    def build(app: cdk.App) -> None:
        ShopStack(app, "Shop", env=ENV, data_plane=DataPlane.app_mesh())

    return check("examples/shop on App Mesh", build, "mesh-shop")


@pytest.fixture(scope="session")
def mesh_shop(mesh_shop_app: CheckedApp) -> Synthesized:
    """The shop on App Mesh: the App Mesh wiring of three services, a mesh and an ingress gateway."""
    return mesh_shop_app.stack("Shop")


@pytest.fixture(scope="session")
def shop(example_apps: dict[str, CheckedApp]) -> Synthesized:
    """The shop example, synthesized as its app.py does."""
    return example_apps["shop"].stack("Shop")


# The SdsTls stack's secrets, as an SDS provider (a SPIRE agent) names them.
SDS_SECRET = "spiffe://corp.example/vault"
SDS_TRUSTED_SECRET = "spiffe://corp.example"


def _variants(app: cdk.App) -> None:
    """Stacks covering the choices the shop example does not make."""
    protocols = cdk.Stack(app, "Protocols", env=ENV)
    cluster = MeshedCluster(protocols, "Cluster", namespace="proto.local", data_plane=DataPlane.app_mesh())
    image = ecs.ContainerImage.from_registry(NGINX)
    MeshedService(
        protocols,
        "Http2",
        cluster=cluster,
        name="h2",
        image=image,
        protocol=ListenerProtocol.HTTP2,
        health_check_path="/healthz",
        desired_count=1,
    )
    MeshedService(
        protocols,
        "Grpc",
        cluster=cluster,
        name="rpc",
        image=image,
        port=50051,
        protocol=ListenerProtocol.GRPC,
        desired_count=3,
    )
    MeshedService(
        protocols,
        "Tcp",
        cluster=cluster,
        name="db",
        image=image,
        port=5432,
        protocol=ListenerProtocol.TCP,
        desired_count=4,
        discovery=Discovery.dns(),
        route_policy=RoutePolicy(idle_timeout=cdk.Duration.hours(2)),  # TCP takes an idle timeout only
    )

    traffic = cdk.Stack(app, "Traffic", env=ENV)
    cluster = MeshedCluster(traffic, "Cluster", namespace="traffic.local", data_plane=DataPlane.app_mesh())
    ledger = MeshedService(traffic, "Ledger", cluster=cluster, name="ledger", image=image)
    MeshedService(
        traffic,
        "Orders",
        cluster=cluster,
        name="orders",
        image=image,
        weight=90,
        versions=[
            ServiceVersion(name="v2", image=ecs.ContainerImage.from_registry(NGINX_NEXT), weight=10, desired_count=1)
        ],
        routes=[
            RouteRule(name="testers", headers={"x-canary": "true"}, weights={"v2": 100}),
            RouteRule(
                name="reports",
                path_prefix="/reports",
                policy=RoutePolicy(retry_attempts=4, request_timeout=cdk.Duration.seconds(60)),
            ),
        ],
        outlier_detection=OutlierDetection(),
        connection_pool=ConnectionPool(max_connections=100, max_pending_requests=50),
        backends=[ledger],
    )

    encrypted = cdk.Stack(app, "Tls", env=ENV)
    authority = acmpca.CertificateAuthority.from_certificate_authority_arn(encrypted, "Authority", AUTHORITY_ARN)
    cluster = MeshedCluster(
        encrypted, "Cluster", namespace="tls.local", data_plane=DataPlane.app_mesh(tls=MeshTls.private_ca(authority))
    )
    vault = MeshedService(
        encrypted,
        "Vault",
        cluster=cluster,
        name="vault",
        image=image,
        versions=[ServiceVersion(name="v2", image=image, weight=0)],
    )
    MeshedService(encrypted, "Teller", cluster=cluster, name="teller", image=image, backends=[vault])
    mutual = cdk.Stack(app, "MutualTls", env=ENV)
    cluster = MeshedCluster(
        mutual,
        "Cluster",
        namespace="mtls.local",
        data_plane=DataPlane.app_mesh(
            tls=MeshTls.files(
                certificate_chain="/certs/chain.pem",
                private_key="/certs/key.pem",
                trusted_chain="/certs/ca.pem",
                mutual=True,
            )
        ),
    )
    MeshedService(mutual, "Vault", cluster=cluster, name="vault", image=image, protocol=ListenerProtocol.GRPC)
    # SDS certificates with their defaults, on a service whose versions are discovered by DNS.
    sds = cdk.Stack(app, "SdsTls", env=ENV)
    tls = MeshTls.sds(secret_name=SDS_SECRET, trusted_secret_name=SDS_TRUSTED_SECRET)
    cluster = MeshedCluster(sds, "Cluster", namespace="sds.local", data_plane=DataPlane.app_mesh(tls=tls))
    MeshedService(
        sds,
        "Vault",
        cluster=cluster,
        name="vault",
        image=image,
        discovery=Discovery.dns(),
        weight=90,
        versions=[ServiceVersion(name="v2", image=image, weight=10)],
    )

    imported = cdk.Stack(app, "Imported", env=ENV)
    namespace = servicediscovery.PrivateDnsNamespace.from_private_dns_namespace_attributes(
        imported,
        "Namespace",
        namespace_name="corp.internal",
        namespace_id="ns-1234567890",
        namespace_arn=f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:namespace/ns-1234567890",
    )
    mesh = appmesh.Mesh.from_mesh_name(imported, "Mesh", "corp-mesh")
    shared = MeshedCluster(
        imported,
        "Cluster",
        namespace=namespace,
        data_plane=DataPlane.app_mesh(mesh=mesh, envoy_image_tag="v1.34.13.0-prod"),
    )
    MeshedService(imported, "Billing", cluster=shared, name="billing", image=image)

    anywhere = cdk.Stack(app, "AnyRegion")  # region unknown until deployment
    cluster = MeshedCluster(anywhere, "Cluster", namespace="any.local", data_plane=DataPlane.app_mesh())
    MeshedService(anywhere, "Api", cluster=cluster, name="api", image=image)

    custom = cdk.Stack(app, "CustomEnvoy", env=cdk.Environment(account=ACCOUNT, region="eu-central-2"))
    own_envoy = ecs.ContainerImage.from_registry("registry.example.com/envoy:v1.39.1.0-prod")
    cluster = MeshedCluster(
        custom,
        "Cluster",
        namespace="own.local",
        data_plane=DataPlane.app_mesh(envoy_image=own_envoy, mesh_name="own-mesh"),
    )
    MeshedService(custom, "Api", cluster=cluster, name="api", image=image)
    throwaway = ServiceRepository(custom, "Scratch", removal_policy=cdk.RemovalPolicy.DESTROY)
    MeshedService(custom, "Worker", cluster=cluster, name="worker", image=throwaway.image("latest"))
    connect = cdk.Stack(app, "ServiceConnect", env=ENV)
    cluster = MeshedCluster(connect, "Cluster", namespace="shop.local", data_plane=DataPlane.service_connect())
    inventory = MeshedService(connect, "Inventory", cluster=cluster, name="inventory", image=image)
    orders = MeshedService(
        connect,
        "Orders",
        cluster=cluster,
        name="orders",
        image=image,
        backends=[inventory],
        route_policy=RoutePolicy(request_timeout=cdk.Duration.seconds(20)),
    )
    MeshedService(
        connect, "Ledger", cluster=cluster, name="ledger", image=image, port=5432, protocol=ListenerProtocol.TCP
    )
    web = MeshedService(connect, "Web", cluster=cluster, name="web", image=image, port=80)
    web.connect_to(orders)
    web.connect_to(inventory)

    secure = cdk.Stack(app, "ServiceConnectTls", env=ENV)
    cluster = MeshedCluster(
        secure,
        "Cluster",
        namespace="secure.local",
        data_plane=DataPlane.service_connect(
            tls_authority_arn=f"arn:aws:acm-pca:{REGION}:{ACCOUNT}:certificate-authority/0123abcd-0123-4567-89ab-0123456789ab"
        ),
    )
    MeshedService(secure, "Vault", cluster=cluster, name="vault", image=image)

    watched = cdk.Stack(app, "ServiceConnectObserved", env=ENV)  # no access logs, thresholds of its own
    cluster = MeshedCluster(
        watched,
        "Cluster",
        namespace="watched.local",
        data_plane=DataPlane.service_connect(
            observability=Observability(
                access_logs=False,
                server_error_percent_threshold=2,
                response_time_threshold=cdk.Duration.seconds(2),
                alarm_period=cdk.Duration.minutes(2),
                alarm_evaluation_periods=3,
            )
        ),
    )
    MeshedService(watched, "Api", cluster=cluster, name="api", image=image, protocol=ListenerProtocol.HTTP2)
    MeshedService(watched, "Rpc", cluster=cluster, name="rpc", image=image, port=50051, protocol=ListenerProtocol.GRPC)

    observed = cdk.Stack(app, "Observed", env=ENV)  # tracing on, thresholds of its own
    cluster = MeshedCluster(
        observed,
        "Cluster",
        namespace="observed.local",
        data_plane=DataPlane.app_mesh(
            observability=Observability(
                tracing=True,
                metrics_namespace="Observed/Envoy",
                server_error_percent_threshold=2,
                unhealthy_hosts_threshold=2,
                alarm_period=cdk.Duration.minutes(2),
                alarm_evaluation_periods=3,
            )
        ),
    )
    ledger = MeshedService(
        observed, "Ledger", cluster=cluster, name="ledger", image=image, port=5432, protocol=ListenerProtocol.TCP
    )
    MeshedService(
        observed,
        "Orders",
        cluster=cluster,
        name="orders",
        image=image,
        weight=90,
        versions=[ServiceVersion(name="v2", image=image, weight=10)],
        backends=[ledger],
    )

    _timeouts(app)
    _rollouts(app)
    build_production(app)
    _hardened(app)

    key = kms.Key(custom, "ImageKey", enable_key_rotation=True)
    ServiceRepository(custom, "Sealed", encryption_key=key)


# The Rollouts stack: its lifecycle hook's function, and its canary's timings.
HOOK_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-smoke-test"
CANARY_PERCENT = 10
CANARY_BAKE_MINUTES = 30
TEST_HEADER = ("x-canary", "true")


def _rollouts(app: cdk.App) -> None:
    """Service Connect services released by each ECS strategy, with the options a rollout takes."""
    stack = cdk.Stack(app, "Rollouts", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="release.local", data_plane=DataPlane.service_connect())
    image = ecs.ContainerImage.from_registry(NGINX)
    checkout = cloudwatch.Alarm(
        stack,
        "CheckoutFailures",
        metric=cloudwatch.Metric(namespace="Shop", metric_name="CheckoutFailures", statistic="Sum"),
        threshold=1,
        evaluation_periods=1,
    )
    smoke_test = lambda_.Function.from_function_arn(stack, "SmokeTest", HOOK_FUNCTION_ARN)
    hook_role = iam.Role(stack, "HookRole", assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"))
    hook_role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[HOOK_FUNCTION_ARN]))
    hook = ecs.DeploymentLifecycleLambdaTarget(
        smoke_test,
        "SmokeTest",
        role=hook_role,
        lifecycle_stages=[ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT],
    )
    ledger = MeshedService(
        stack,
        "Ledger",
        cluster=cluster,
        name="ledger",
        image=image,
        port=5432,
        protocol=ListenerProtocol.TCP,
        rollout=Rollout.blue_green(bake=cdk.Duration.minutes(20)),
    )
    inventory = MeshedService(
        stack,
        "Inventory",
        cluster=cluster,
        name="inventory",
        image=image,
        rollout=Rollout.linear(percent=12.5, interval=cdk.Duration.minutes(5), final_bake=cdk.Duration.minutes(10)),
        backends=[ledger],
    )
    MeshedService(
        stack,
        "Orders",
        cluster=cluster,
        name="orders",
        image=image,
        rollout=Rollout.canary(
            percent=CANARY_PERCENT,
            bake=cdk.Duration.minutes(CANARY_BAKE_MINUTES),
            test_header=TEST_HEADER,
            alarms=[checkout],
            lifecycle_hooks=[hook],
        ),
        backends=[inventory],
    )
    MeshedService(
        stack,
        "Payments",
        cluster=cluster,
        name="payments",
        image=image,
        rollout=Rollout.rolling(alarms=[checkout], rollback_on_alarm=False),
    )


# What the Hardened stacks' "locked" services ask for.
LOCKED = ContainerSecurity(
    readonly_root_filesystem=True,
    writable_paths=["/tmp", "/var/cache/nginx"],
    user="1000",
    drop_capabilities=[ecs.Capability.ALL],
)


def _hardened(app: cdk.App) -> None:
    """On each plane: a locked-down service, one with the defaults that calls it, one open to all outbound."""
    image = ecs.ContainerImage.from_registry(NGINX)
    planes = {"HardenedConnect": DataPlane.service_connect(), "HardenedMesh": DataPlane.app_mesh()}
    for name, plane in planes.items():
        stack = cdk.Stack(app, name, env=ENV)
        cluster = MeshedCluster(stack, "Cluster", namespace=f"{name.lower()}.local", data_plane=plane)
        # App Mesh runs versions side by side: each version's container is locked down too.
        versions = [ServiceVersion(name="v2", image=image, weight=10)] if name == "HardenedMesh" else []
        locked = MeshedService(
            stack,
            "Locked",
            cluster=cluster,
            name="locked",
            image=image,
            container_security=LOCKED,
            weight=100 - sum(v.weight for v in versions),
            versions=versions,
        )
        plain = MeshedService(stack, "Plain", cluster=cluster, name="plain", image=image, port=9090, backends=[locked])
        MeshedService(
            stack, "Open", cluster=cluster, name="open", image=image, allow_all_outbound=True, backends=[plain, locked]
        )


# What the Timeouts stack's services probe inside their application containers.
CONTAINER_HEALTH_CHECK = ecs.HealthCheck(command=["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"])


def _timeouts(app: cdk.App) -> None:
    """The same long-request, idle and health-check declarations on both data planes."""
    stack = cdk.Stack(app, "Timeouts", env=ENV)
    image = ecs.ContainerImage.from_registry(NGINX)
    two_minutes = RoutePolicy(request_timeout=cdk.Duration.minutes(2))
    planes = {
        "Mesh": (DataPlane.app_mesh(), [ServiceVersion(name="v2", image=image, weight=10)]),
        "Connect": (DataPlane.service_connect(), []),
    }
    clusters: dict[str, MeshedCluster] = {}
    for prefix, (data_plane, versions) in planes.items():
        cluster = MeshedCluster(stack, f"{prefix}Cluster", namespace=f"{prefix.lower()}.local", data_plane=data_plane)
        MeshedService(
            stack,
            f"{prefix}Slow",
            cluster=cluster,
            name="slow",
            image=image,
            route_policy=two_minutes,
            container_health_check=CONTAINER_HEALTH_CHECK,
            weight=100 - sum(v.weight for v in versions),
            versions=versions,
        )
        tcp = ListenerProtocol.TCP
        MeshedService(stack, f"{prefix}Cache", cluster=cluster, name="cache", image=image, port=6379, protocol=tcp)
        clusters[prefix] = cluster
    MeshedService(
        stack,
        "MeshStream",
        cluster=clusters["Mesh"],
        name="stream",
        image=image,
        port=50051,
        protocol=ListenerProtocol.GRPC,
        route_policy=RoutePolicy(request_timeout=cdk.Duration.seconds(10), idle_timeout=cdk.Duration.minutes(10)),
    )
    connect = clusters["Connect"]
    peer = ec2.SecurityGroup(stack, "LoadBalancerGroup", vpc=connect.vpc, allow_all_outbound=False)
    web = MeshedService(stack, "ConnectWeb", cluster=connect, name="web", image=image, health_check_path="/healthz")
    web.expose_to(peer, "load balancer")  # its target group probes /healthz


@pytest.fixture(scope="session")
def variants_app(check: CheckApp) -> CheckedApp:
    """The variant stacks in one app, with cdk-nag attached."""
    return check("variants", _variants, "variants")


@pytest.fixture(scope="session")
def variants(variants_app: CheckedApp) -> Callable[[str], Synthesized]:
    """One app of several stacks; returns the synthesized stack of a given name."""
    return variants_app.stack


def _service_connect_ingresses(app: cdk.App) -> None:
    """MeshIngress on Service Connect: routes by host and path, HTTPS, NLBs, and an ingress in a stack of its own."""
    image = ecs.ContainerImage.from_registry(NGINX)
    front = cdk.Stack(app, "ConnectIngress", env=ENV)
    cluster = MeshedCluster(front, "Cluster", namespace="front.local", data_plane=DataPlane.service_connect())
    ledger = MeshedService(
        front, "Ledger", cluster=cluster, name="ledger", image=image, port=5432, protocol=ListenerProtocol.TCP
    )
    api = MeshedService(
        front, "Api", cluster=cluster, name="api", image=image, health_check_path="/healthz", backends=[ledger]
    )
    web = MeshedService(front, "Web", cluster=cluster, name="web", image=image, port=80)
    MeshIngress(
        front,
        "Ingress",
        cluster=cluster,
        routes=[
            IngressRoute(service=api, path_prefix="/api/", hostname="shop.example.com"),
            IngressRoute(service=web, path_prefix="/docs", name="docs"),
            IngressRoute(service=web),
        ],
        allow_plain_http=True,
    )

    variants = cdk.Stack(app, "ConnectIngressVariants", env=ENV)
    cluster = MeshedCluster(variants, "Cluster", namespace="gates.local", data_plane=DataPlane.service_connect())
    site = MeshedService(variants, "Site", cluster=cluster, name="site", image=image, health_check_path="/up")
    certificate = acm.Certificate.from_certificate_arn(variants, "Certificate", CERTIFICATE_ARN)
    MeshIngress(variants, "Secure", cluster=cluster, routes=[IngressRoute(service=site)], certificate=certificate)
    nlb = IngressLoadBalancer.NLB
    MeshIngress(
        variants, "Tcp", cluster=cluster, routes=[IngressRoute(service=site)], load_balancer=nlb, allow_plain_http=True
    )
    MeshIngress(
        variants,
        "Tls",
        cluster=cluster,
        routes=[IngressRoute(service=site)],
        load_balancer=nlb,
        certificate=certificate,
    )

    # The ingress in a stack of its own, which deploys after the cluster's and before the service's.
    platform = cdk.Stack(app, "ConnectPlatform", env=ENV)
    cluster = MeshedCluster(platform, "Cluster", namespace="split.local", data_plane=DataPlane.service_connect())
    services = cdk.Stack(app, "ConnectServices", env=ENV)
    shop = MeshedService(services, "Shop", cluster=cluster, name="shop", image=image)
    edge = cdk.Stack(app, "ConnectEdge", env=ENV)
    MeshIngress(edge, "Ingress", cluster=cluster, routes=[IngressRoute(service=shop)], allow_plain_http=True)

    _connect_rollouts(app, image)


# The ConnectRollouts stack's blue/green header (its canary's is TEST_HEADER).
BLUE_GREEN_HEADER = ("x-release", "green")


def _connect_rollouts(app: cdk.App, image: ecs.ContainerImage) -> None:
    """Routed services that roll out by canary and by blue/green behind an ALB, and a rolling one after them."""
    stack = cdk.Stack(app, "ConnectRollouts", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="release.local", data_plane=DataPlane.service_connect())
    canary = Rollout.canary(
        percent=CANARY_PERCENT, bake=cdk.Duration.minutes(CANARY_BAKE_MINUTES), test_header=TEST_HEADER
    )
    orders = MeshedService(stack, "Orders", cluster=cluster, name="orders", image=image, rollout=canary)
    billing = MeshedService(
        stack,
        "Billing",
        cluster=cluster,
        name="billing",
        image=image,
        rollout=Rollout.blue_green(test_header=BLUE_GREEN_HEADER),
    )
    web = MeshedService(stack, "Web", cluster=cluster, name="web", image=image)
    MeshIngress(
        stack,
        "Ingress",
        cluster=cluster,
        routes=[
            IngressRoute(service=orders, path_prefix="/orders/"),
            IngressRoute(service=billing, path_prefix="/billing/", hostname="shop.example.com"),
            IngressRoute(service=web),
        ],
        allow_plain_http=True,
    )


@pytest.fixture(scope="session")
def service_connect_ingress_app(check: CheckApp) -> CheckedApp:
    """MeshIngress on Service Connect, in one app with cdk-nag attached."""
    return check("service connect ingress", _service_connect_ingresses, "service-connect-ingress")


def _encrypted_logs(app: cdk.App) -> None:
    """Clusters with a customer key for their logs on both planes, and an application bucket of its own."""
    from aws_cdk import aws_s3 as s3

    image = ecs.ContainerImage.from_registry(NGINX)
    for stack_id, plane in (("SealedLogs", DataPlane.service_connect()), ("SealedMeshLogs", DataPlane.app_mesh())):
        stack = cdk.Stack(app, stack_id, env=ENV)
        key = kms.Key(stack, "LogKey", enable_key_rotation=True)
        cluster = MeshedCluster(stack, "Cluster", namespace="sealed.local", data_plane=plane, log_encryption_key=key)
        api = MeshedService(stack, "Api", cluster=cluster, name="api", image=image)
        MeshIngress(
            stack,
            "Ingress",
            cluster=cluster,
            routes=[IngressRoute(service=api)],
            allow_plain_http=True,
            access_logs_expiration=cdk.Duration.days(90),
        )
    # What an application adds itself stays reported: a bucket without versioning, for one.
    own = cdk.Stack(app, "OwnBucket", env=ENV)
    s3.Bucket(
        own,
        "Unversioned",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
    )


@pytest.fixture(scope="session")
def encrypted_logs_app(tmp_path_factory: pytest.TempPathFactory) -> CheckedApp:
    """Log groups under a customer key on both planes, plus an application's unversioned bucket."""
    return check_app("encrypted logs", _encrypted_logs, tmp_path_factory.mktemp("encrypted-logs"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Runs the tests of the checked apps first, the checkov gates, then the cfn-lint gates, last.

    A stable sort keeps every other test in place.
    """
    items.sort(
        key=lambda item: (
            item.nodeid.endswith(LINT_GATES),
            CHECKOV_GATES in item.nodeid,
            "checked_apps" not in getattr(item, "fixturenames", ()),
        )
    )


@pytest.fixture(scope="session")
def background_lint() -> Iterator[BackgroundLint]:
    """cfn-lint on the other cores for the whole session: tests submit templates, the gates read results."""
    lint = BackgroundLint()
    yield lint
    lint.shutdown()


@pytest.fixture(scope="session")
def background_checkov() -> Iterator[BackgroundCheckov]:
    """checkov beside the tests: started once the checked apps are synthesized, read by the checkov gates."""
    checkov = BackgroundCheckov()
    yield checkov
    checkov.stop()


@pytest.fixture(scope="session")
def checked_apps(
    request: pytest.FixtureRequest,
    example_apps: dict[str, CheckedApp],
    mesh_shop_app: CheckedApp,
    variants_app: CheckedApp,
    service_connect_ingress_app: CheckedApp,
) -> list[CheckedApp]:
    """Every app the gates check: the examples, the shop on App Mesh, the variants, the Service Connect ingresses.

    Each is handed to cfn-lint as it is synthesized (``check``); when the session runs the checkov
    gates, checkov starts here on them all and on the encrypted-logs app.
    """
    apps = [*example_apps.values(), mesh_shop_app, variants_app, service_connect_ingress_app]
    if _session_runs(request, CHECKOV_GATES):
        checkov_apps = [*apps, request.getfixturevalue("encrypted_logs_app")]
        templates_by_app = checkov_templates(checkov_apps)
        request.getfixturevalue("background_checkov").start(
            [path for stacks in templates_by_app.values() for path in stacks.values()]
        )
    return apps
