"""Bad input raises a clear ValueError/TypeError naming the parameter and the fix; nothing is created."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_acmpca as acmpca
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Template

from conftest import ENV, NGINX
from mesh_microservices import (
    DataPlane,
    Discovery,
    IngressRoute,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    MeshIngress,
    MeshTls,
    Rollout,
    RoutePolicy,
    RouteRule,
    ServiceRepository,
    ServiceVersion,
)
from refusals import assert_refused


class World:
    """A stack with one cluster and one service, rebuilt for each test (no synth needed)."""

    def __init__(self) -> None:
        self.app = cdk.App()
        self.stack = cdk.Stack(self.app, "Validation", env=ENV)
        self.cluster = MeshedCluster(self.stack, "Cluster", namespace="shop.local", data_plane=DataPlane.app_mesh())
        self.image = ecs.ContainerImage.from_registry(NGINX)
        self.orders = MeshedService(self.stack, "Orders", cluster=self.cluster, name="orders", image=self.image)

    def services(self) -> list[MeshedService]:
        return list(self.cluster.services)


@pytest.fixture
def world() -> Iterator[World]:
    yield World()


def _service(world: World, **overrides: Any) -> Callable[[], object]:
    arguments: dict[str, Any] = {"cluster": world.cluster, "name": "payments", "image": world.image, **overrides}
    return lambda: MeshedService(world.stack, "Payments", **arguments)


@pytest.mark.parametrize("name", ["Orders", "1orders", "orders-", "or_ders", "", "a" * 64, "orders.v2"])
def test_invalid_service_name(world: World, name: str) -> None:
    assert_refused(
        _service(world, name=name),
        f"name={name!r}",
        "DNS label",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(world: World, port: int) -> None:
    assert_refused(
        _service(world, port=port),
        f"port={port}",
        "1 to 65535",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("port", [15000, 15001, 9901])
def test_port_reserved_by_envoy(world: World, port: int) -> None:
    assert_refused(
        _service(world, port=port),
        f"port={port}",
        "reserved by the Envoy sidecar",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize(
    ("cpu", "memory_limit_mib", "fragment"),
    [
        (256, 4096, "memory_limit_mib=4096 is not available with cpu=256"),
        (300, 512, "cpu=300 is not a Fargate size"),
        (1024, 1024, "use one of 2048 to 8192 in steps of 1024"),
    ],
)
def test_impossible_cpu_memory_pair(world: World, cpu: int, memory_limit_mib: int, fragment: str) -> None:
    assert_refused(
        _service(world, cpu=cpu, memory_limit_mib=memory_limit_mib),
        fragment,
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_duplicate_service_name_in_one_cluster(world: World) -> None:
    assert_refused(
        _service(world, name="orders"),
        "name='orders' is already a service",
        "Validation/Orders",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_connecting_services_of_different_clusters(world: World) -> None:
    other = MeshedCluster(world.stack, "Other", namespace="other.local", data_plane=DataPlane.app_mesh())
    stranger = MeshedService(world.stack, "Stranger", cluster=other, name="stranger", image=world.image)
    assert_refused(
        lambda: world.orders.connect_to(stranger),
        "'stranger' runs in cluster 'Validation/Other'",
        "'Validation/Cluster'",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )
    assert_refused(
        _service(world, backends=[stranger]),
        "backends",
        "Validation/Other",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_connecting_a_service_to_itself(world: World) -> None:
    assert_refused(
        lambda: world.orders.connect_to(world.orders),
        "itself",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("tag", ["", " ", "-x", "a" * 129, "v1:2"])
def test_invalid_image_tag(world: World, tag: str) -> None:
    repository = ServiceRepository(world.stack, "Repo")
    assert_refused(lambda: repository.image(tag), "tag", error=ValueError, within=world.app, unchanged=world.services)


def test_empty_image_tag_says_what_to_pass(world: World) -> None:
    repository = ServiceRepository(world.stack, "Repo")
    assert_refused(
        lambda: repository.image(""),
        "tag is empty",
        "'1.4.2'",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_empty_envoy_tag(world: World) -> None:
    assert_refused(
        lambda: MeshedCluster(
            world.stack, "C2", namespace="b.local", data_plane=DataPlane.app_mesh(envoy_image_tag="")
        ),
        "envoy_image_tag is empty",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("namespace", ["shop", "Shop.Local", "shop..local", "-shop.local"])
def test_invalid_namespace(world: World, namespace: str) -> None:
    assert_refused(
        lambda: MeshedCluster(world.stack, "C2", namespace=namespace, data_plane=DataPlane.app_mesh()),
        f"namespace={namespace!r}",
        "shop.local",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"image": "nginx:latest"}, "image='nginx:latest' is a str; pass a ContainerImage"),
        ({"port": "8080"}, "port='8080' is a str; pass an int"),
        ({"port": True}, "port=True is a bool"),
        ({"protocol": "http"}, "protocol='http' is a str; pass a ListenerProtocol"),
        ({"cluster": "shop"}, "cluster='shop' is a str; pass a MeshedCluster"),
        ({"environment": {"A": 1}}, "environment['A']=1"),
        ({"backends": "orders"}, "backends='orders' is not a list"),
        ({"route_policy": RoutePolicy(retry_attempts=-1)}, "route_policy.retry_attempts=-1"),
    ],
)
def test_wrong_types_and_values_are_named(world: World, overrides: dict[str, Any], fragment: str) -> None:
    error = ValueError if "retry_attempts" in fragment else TypeError
    assert_refused(_service(world, **overrides), fragment, error=error, within=world.app, unchanged=world.services)


def test_health_check_path_must_start_with_a_slash(world: World) -> None:
    assert_refused(
        _service(world, health_check_path="health"),
        "health_check_path='health'",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("plane", [DataPlane.app_mesh, DataPlane.service_connect])
@pytest.mark.parametrize("protocol", [ListenerProtocol.GRPC, ListenerProtocol.TCP])
def test_health_check_path_is_refused_where_health_checks_have_no_path(
    world: World, plane: Callable[[], DataPlane], protocol: ListenerProtocol
) -> None:
    cluster = MeshedCluster(world.stack, "Planed", namespace="planed.local", data_plane=plane())
    assert_refused(
        lambda: MeshedService(
            world.stack,
            "Payments",
            cluster=cluster,
            name="payments",
            image=world.image,
            protocol=protocol,
            health_check_path="/healthz",
        ),
        f"health_check_path='/healthz' is not used by protocol=ListenerProtocol.{protocol.name}: gRPC and TCP "
        "health checks have no path (App Mesh probes gRPC with the gRPC health protocol and TCP by connecting). "
        "Drop health_check_path; to probe the application from inside its task, pass "
        "container_health_check=ecs.HealthCheck(...).",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_container_health_check_must_be_an_ecs_health_check(world: World) -> None:
    check = {"command": ["CMD-SHELL", "true"]}
    build = _service(world, container_health_check=check)
    assert_refused(
        build,
        "container_health_check={'command'",
        "pass a HealthCheck",
        error=TypeError,
        within=world.app,
        unchanged=world.services,
    )


def test_a_cluster_finds_its_services_by_name(world: World) -> None:
    assert world.cluster.service_named("orders") is world.orders
    assert world.cluster.service_named("payments") is None
    payments = _service(world)()
    assert world.cluster.service_named("payments") is payments
    assert world.cluster.services == [world.orders, payments]


def test_app_mesh_parts_of_a_service_come_from_its_data_plane(world: World) -> None:
    meshing = world.orders._meshing
    assert world.orders.app_mesh is meshing
    for part in ("virtual_node", "virtual_router", "virtual_service", "envoy_container"):
        assert getattr(world.orders, part) is getattr(meshing, part)


def test_meshing_is_deprecated_and_still_answers(world: World) -> None:
    with pytest.warns(DeprecationWarning, match="MeshedService.meshing is deprecated and removed in 2.0"):
        assert world.orders.meshing is world.orders._meshing


def test_memory_under_both_names_is_refused(world: World) -> None:
    assert_refused(
        _service(world, memory_mib=1024, memory_limit_mib=2048),
        "memory_mib=1024 and memory_limit_mib=2048 are both given",
        "memory_mib is the deprecated name of memory_limit_mib. Pass memory_limit_mib only.",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_all_problems_are_reported_at_once(world: World) -> None:
    message = assert_refused(
        _service(world, name="Bad_Name", port=0, cpu=256, memory_limit_mib=8192),
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )
    assert "name='Bad_Name'" in message and "port=0" in message and "memory_limit_mib=8192" in message


def test_wrong_vpc_type(world: World) -> None:
    assert_refused(
        lambda: MeshedCluster(world.stack, "C2", namespace="b.local", vpc="vpc-123", data_plane=DataPlane.app_mesh()),
        "vpc='vpc-123' is a str; pass an IVpc",
        # type: ignore[arg-type]
        error=TypeError,
        within=world.app,
        unchanged=world.services,
    )


def test_mesh_and_mesh_name_together(world: World) -> None:
    assert_refused(
        lambda: MeshedCluster(
            world.stack,
            "C2",
            namespace="b.local",
            data_plane=DataPlane.app_mesh(mesh=world.cluster.mesh, mesh_name="x"),
        ),
        "mesh_name='x'",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_region_without_envoy_registry(world: World) -> None:
    stack = cdk.Stack(world.app, "Elsewhere", env=cdk.Environment(account="123456789012", region="xx-nowhere-1"))
    with pytest.raises(ValueError, match=r"xx-nowhere-1.*envoy_image="):
        MeshedCluster(stack, "Cluster", namespace="x.local", data_plane=DataPlane.app_mesh())
    assert stack.node.children == []


def test_repository_bad_counts(world: World) -> None:
    assert_refused(
        lambda: ServiceRepository(world.stack, "R", max_image_count=0),
        "max_image_count=0",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_protocol_enum_is_the_only_accepted_protocol(world: World) -> None:
    built = MeshedService(
        world.stack, "Rpc", cluster=world.cluster, name="rpc", image=world.image, protocol=ListenerProtocol.GRPC
    )
    assert built.protocol is ListenerProtocol.GRPC


# --- Round 2: tokens, reserved names, ARNs, namespaces, environments ---------------------------------------------

# The reserved names AWS documents: "Amazon ECS environment variables" (ECS_*, AWS_CONTAINER_*,
# AWS_EXECUTION_ENV) and App Mesh's Envoy configuration (APPMESH_*).
RESERVED_NAMES = [
    "ECS_CONTAINER_METADATA_URI",
    "ECS_CONTAINER_METADATA_URI_V4",
    "ECS_AGENT_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_EXECUTION_ENV",
    "APPMESH_RESOURCE_ARN",
]
PRIVATE_CA_ARN = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0123abcd-0123-4567-89ab-0123456789ab"


def _number_parameter(world: World, name: str) -> float:
    return cdk.CfnParameter(world.stack, name, type="Number").value_as_number


def test_number_tokens_are_accepted_where_cloudformation_takes_them(world: World) -> None:
    count, cpu, memory = (_number_parameter(world, n) for n in ("Count", "Cpu", "Memory"))
    MeshedService(
        world.stack,
        "Sized",
        cluster=world.cluster,
        name="sized",
        image=world.image,
        desired_count=count,  # type: ignore[arg-type]  # a number token is a float to Python
        cpu=cpu,  # type: ignore[arg-type]
        memory_limit_mib=memory,  # type: ignore[arg-type]
    )
    template = Template.from_stack(world.stack)
    services = template.find_resources("AWS::ECS::Service", {"Properties": {"DesiredCount": {"Ref": "Count"}}})
    (service,) = services.values()
    # A count known only at deployment may be one task, which ECS replaces only with 200 %.
    assert service["Properties"]["DeploymentConfiguration"]["MaximumPercent"] == 200
    template.has_resource_properties("AWS::ECS::TaskDefinition", {"Cpu": {"Ref": "Cpu"}, "Memory": {"Ref": "Memory"}})


@pytest.mark.parametrize(
    ("parameter", "fragment"),
    [
        ("port", "the data plane's listeners and health checks are derived from it"),
        ("weight", "weight is a token"),
    ],
)
def test_number_tokens_are_refused_by_name_where_the_value_must_be_known(
    world: World, parameter: str, fragment: str
) -> None:
    token = _number_parameter(world, "Value")
    assert_refused(
        _service(world, **{parameter: token}),
        fragment,
        "pass a literal number",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("parameter", ["max_image_count", "untagged_image_expiry_days"])
def test_repository_counts_must_be_literal(world: World, parameter: str) -> None:
    # The lifecycle policy is JSON text: CloudFormation would keep {"Ref": ...} in it verbatim.
    token = _number_parameter(world, "Count")
    assert_refused(
        lambda: ServiceRepository(world.stack, "Repo", **{parameter: token}),
        f"{parameter} is a token",
        "ECR lifecycle policy's JSON text",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_string_tokens_are_refused_by_name_for_service_and_namespace_names(world: World) -> None:
    token = cdk.CfnParameter(world.stack, "Name").value_as_string
    assert_refused(
        _service(world, name=token),
        "name is a token",
        "pass a literal string",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )
    assert_refused(
        lambda: MeshedCluster(world.stack, "C2", namespace=token, data_plane=DataPlane.service_connect()),
        "namespace is a token",
        "services derive their DNS names from it",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("name", RESERVED_NAMES)
@pytest.mark.parametrize("parameter", ["environment", "secrets", "versions[0].environment"])
def test_reserved_environment_names_are_refused(world: World, name: str, parameter: str) -> None:
    secret = ecs.Secret.from_ssm_parameter(
        ssm.StringParameter.from_string_parameter_name(world.stack, "Secret", "/shop/secret")
    )
    overrides: dict[str, Any] = {
        "environment": {"environment": {name: "x"}},
        "secrets": {"secrets": {name: secret}},
        "versions[0].environment": {
            "versions": [ServiceVersion(name="v2", image=world.image, weight=10, environment={name: "x"})],
            "weight": 90,
        },
    }[parameter]
    assert_refused(
        _service(world, **overrides),
        f"{parameter}[{name!r}] is reserved",
        f"e.g. 'APP_{name}'",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("name", ["AWS_REGION", "AWS_DEFAULT_REGION", "MY_ECS_URL", "APP_ECS_AGENT_URI"])
def test_environment_names_ecs_does_not_own_are_accepted(world: World, name: str) -> None:
    service = MeshedService(
        world.stack, "Env", cluster=world.cluster, name="env", image=world.image, environment={name: "x"}
    )
    task = service.task_definition.node.default_child
    assert isinstance(task, ecs.CfnTaskDefinition)
    (app, *_) = world.stack.resolve(task.container_definitions)
    assert {"name": name, "value": "x"} in app["environment"]


def test_a_name_in_both_environment_and_secrets_is_refused(world: World) -> None:
    secret = ecs.Secret.from_ssm_parameter(
        ssm.StringParameter.from_string_parameter_name(world.stack, "Secret", "/shop/db")
    )
    assert_refused(
        _service(world, environment={"DB_PASSWORD": "x", "A": "1"}, secrets={"DB_PASSWORD": secret}),
        "environment and secrets both set 'DB_PASSWORD'; a container takes one value per name",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize(
    "arn",
    [
        "not-an-arn",
        "arn:aws:acm:eu-west-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab",
        "arn:aws:acm-pca:eu-west-1:123456789012:0123abcd",
        "arn:aws:acm-pca:eu-west-1:12345:certificate-authority/0123abcd",
        "arn:aws:acm-pca:::certificate-authority/0123abcd",
        f" {PRIVATE_CA_ARN}",
    ],
)
def test_malformed_authority_arns_are_refused(world: World, arn: str) -> None:
    assert_refused(
        lambda: MeshedCluster(
            world.stack, "C2", namespace="b.local", data_plane=DataPlane.service_connect(tls_authority_arn=arn)
        ),
        f"tls_authority_arn={arn!r}",
        "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


@pytest.mark.parametrize("plane", [DataPlane.app_mesh, DataPlane.service_connect])
def test_an_imported_authority_with_a_malformed_arn_is_refused(world: World, plane: Callable[..., DataPlane]) -> None:
    authority = acmpca.CertificateAuthority.from_certificate_authority_arn(world.stack, "Ca", "my-ca")
    assert_refused(
        lambda: MeshedCluster(
            world.stack, "C2", namespace="b.local", data_plane=plane(tls=MeshTls.private_ca(authority))
        ),
        "tls: the authority's certificate_authority_arn='my-ca' is not the ARN of an acm-pca certificate-authority",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )


def test_authority_arn_tokens_and_well_formed_arns_are_accepted(world: World) -> None:
    token = cdk.CfnParameter(world.stack, "Ca").value_as_string
    for index, arn in enumerate((token, PRIVATE_CA_ARN, PRIVATE_CA_ARN.replace("arn:aws:", "arn:aws-cn:"))):
        plane = DataPlane.service_connect(tls_authority_arn=arn)
        cluster = MeshedCluster(world.stack, f"Tls{index}", namespace=f"tls{index}.local", data_plane=plane)
        assert repr(cluster.data_plane) == "DataPlane.service_connect()"


def test_a_second_namespace_of_one_name_in_one_vpc_is_refused(world: World) -> None:
    other_stack = cdk.Stack(world.app, "Other", env=ENV)
    build = lambda: MeshedCluster(  # noqa: E731
        other_stack, "Twin", namespace="shop.local", vpc=world.cluster.vpc, data_plane=DataPlane.service_connect()
    )
    message = assert_refused(
        build,
        "namespace='shop.local': cluster 'Validation/Cluster'",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )
    assert "namespace=<cluster 'Validation/Cluster'>.namespace" in message and "'shop-2.local'" in message
    assert other_stack.node.children == []
    # Another name in that VPC, or the same name in another VPC, is fine; so is sharing the namespace.
    MeshedCluster(other_stack, "Next", namespace="next.local", vpc=world.cluster.vpc, data_plane=DataPlane.app_mesh())
    MeshedCluster(other_stack, "Apart", namespace="shop.local", data_plane=DataPlane.app_mesh())
    MeshedCluster(
        other_stack,
        "Shared",
        namespace=world.cluster.namespace,
        vpc=world.cluster.vpc,
        data_plane=DataPlane.service_connect(),
    )


def test_a_second_namespace_in_one_imported_vpc_is_refused(world: World) -> None:
    def imported(stack: cdk.Stack) -> ec2.IVpc:
        return ec2.Vpc.from_vpc_attributes(
            stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a"]
        )

    first, second = cdk.Stack(world.app, "First", env=ENV), cdk.Stack(world.app, "Second", env=ENV)
    MeshedCluster(first, "Cluster", namespace="corp.local", vpc=imported(first), data_plane=DataPlane.app_mesh())
    with pytest.raises(ValueError, match=r"namespace='corp.local': cluster 'First/Cluster' already has"):
        MeshedCluster(second, "Cluster", namespace="corp.local", vpc=imported(second), data_plane=DataPlane.app_mesh())


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        (None, "aws://unknown-account/unknown-region"),
        (cdk.Environment(region="eu-west-1"), "aws://unknown-account/eu-west-1"),
        (cdk.Environment(account="123456789012", region="us-east-1"), "aws://123456789012/us-east-1"),
        (cdk.Environment(account="210987654321", region="eu-west-1"), "aws://210987654321/eu-west-1"),
    ],
)
def test_a_service_outside_its_clusters_environment_is_refused(
    world: World, env: cdk.Environment | None, shown: str
) -> None:
    elsewhere = cdk.Stack(world.app, "Elsewhere", env=env)
    build = lambda: MeshedService(elsewhere, "Payments", cluster=world.cluster, name="payments", image=world.image)  # noqa: E731
    assert_refused(
        build,
        f"scope: stack 'Elsewhere' deploys to {shown}, but cluster 'Validation/Cluster' is in stack 'Validation', "
        "which deploys to aws://123456789012/eu-west-1",
        "Give stack 'Elsewhere' the same env as 'Validation'",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )
    assert elsewhere.node.children == []


def test_services_of_an_environment_agnostic_cluster_may_be_environment_agnostic() -> None:
    app = cdk.App()
    cluster = MeshedCluster(cdk.Stack(app, "Platform"), "Cluster", namespace="a.local", data_plane=DataPlane.app_mesh())
    image = ecs.ContainerImage.from_registry(NGINX)
    services = cdk.Stack(app, "Services")
    MeshedService(services, "Orders", cluster=cluster, name="orders", image=image)
    assert {stack.stack_name for stack in services.dependencies} == {"Platform"}


def test_an_ingress_outside_its_clusters_environment_is_refused(world: World) -> None:
    edge = cdk.Stack(world.app, "Edge", env=cdk.Environment(account="123456789012", region="us-east-1"))
    build = lambda: MeshIngress(  # noqa: E731
        edge, "Ingress", cluster=world.cluster, routes=[IngressRoute(service=world.orders)], allow_plain_http=True
    )
    assert_refused(
        build,
        "scope: stack 'Edge' deploys to aws://123456789012/us-east-1, but cluster 'Validation/Cluster' is in stack "
        "'Validation', which deploys to aws://123456789012/eu-west-1",
        error=ValueError,
        within=world.app,
        unchanged=world.services,
    )
    assert edge.node.children == []


# --- One set of checks: paths, host names, headers; unions built only through their factories -------------------

# What an Application Load Balancer's path-pattern condition matches literally (Elastic Load Balancing API
# reference, RuleCondition): A-Z, a-z, 0-9 and _ - . $ / ~ " ' @ : + &; '*' and '?' are wildcards.
ALB_PATH_PATTERN_LITERALS = "/AZaz09_-.$/~\"'@:+&"


def _routed(world: World, **route: Any) -> Callable[[], object]:
    rules = [RouteRule(name="beta", **route)]
    return _service(world, routes=rules)


@pytest.mark.parametrize("path", ["/a b", "/caf\u00e9", "/a\tb"])
def test_a_path_is_refused_alike_as_a_route_prefix_an_ingress_prefix_and_a_health_check_path(
    world: World, path: str
) -> None:
    assert_refused(_routed(world, path_prefix=path), f"routes[0].path_prefix={path!r}", error=ValueError)
    ingress = lambda: MeshIngress(  # noqa: E731
        world.stack,
        "Ingress",
        cluster=world.cluster,
        routes=[IngressRoute(service=world.orders, path_prefix=path)],
        allow_plain_http=True,
    )
    assert_refused(ingress, f"routes[0].path_prefix={path!r}", error=ValueError, within=world.app)
    assert_refused(
        _service(world, health_check_path=path), f"health_check_path={path!r}", error=ValueError, within=world.app
    )


@pytest.mark.parametrize("path", ["/a%20b", "/a?b", "/a#b", "/a,b", "/a=b"])
def test_a_prefix_holds_only_what_a_load_balancers_path_pattern_matches(world: World, path: str) -> None:
    assert_refused(
        _routed(world, path_prefix=path),
        f"routes[0].path_prefix={path!r}",
        "load balancer's path pattern",
        "e.g. '/api/'",
        error=ValueError,
        within=world.app,
    )


def test_a_prefix_of_every_character_a_path_pattern_matches_literally_is_accepted(world: World) -> None:
    service = _routed(world, path_prefix=ALB_PATH_PATTERN_LITERALS, headers={"x-beta": "1"})()
    assert isinstance(service, MeshedService)


def test_a_health_check_path_may_carry_a_percent_encoded_path_and_a_query(world: World) -> None:
    service = _service(world, health_check_path="/caf%C3%A9?deep=1")()
    assert isinstance(service, MeshedService) and service.health_check_path == "/caf%C3%A9?deep=1"


def test_a_health_check_path_longer_than_a_target_group_takes_is_refused(world: World) -> None:
    # Elastic Load Balancing API, CreateTargetGroup: HealthCheckPath is 1 to 1024 characters.
    path = "/" + "h" * 1024
    assert_refused(_service(world, health_check_path=path), "health_check_path has 1025 characters", "at most 1024")


@pytest.mark.parametrize(("name", "value"), [("x canary", "1"), ("x-canary:", "1"), ("x-canary", " 1"), ("x", "")])
def test_a_route_header_follows_the_rule_of_a_test_header(world: World, name: str, value: str) -> None:
    assert_refused(
        _routed(world, headers={name: value}), f"routes[0].headers[{name!r}]", error=ValueError, within=world.app
    )


def test_an_ingress_host_name_ends_in_a_label_a_load_balancer_takes(world: World) -> None:
    # An ALB host-header condition: "You can include only alphabetical characters after the final '.'".
    build = lambda: MeshIngress(  # noqa: E731
        world.stack,
        "Ingress",
        cluster=world.cluster,
        routes=[IngressRoute(service=world.orders, hostname="shop.example1")],
        allow_plain_http=True,
    )
    assert_refused(build, "routes[0].hostname='shop.example1'", "host-header", error=ValueError, within=world.app)


@pytest.mark.parametrize(
    ("build", "public", "factories"),
    [
        (lambda: DataPlane("x", None, None), "DataPlane", "DataPlane.service_connect(...) or DataPlane.app_mesh(...)"),
        (lambda: Discovery("bogus"), "Discovery", "Discovery.cloud_map(...) or Discovery.dns(...)"),
        (lambda: MeshTls(), "MeshTls", "MeshTls.private_ca(...), MeshTls.files(...) or MeshTls.sds(...)"),
        (lambda: Rollout(), "Rollout", "Rollout.rolling(...), Rollout.canary(...), Rollout.linear(...) or"),
    ],
)
def test_a_choice_is_built_only_through_its_factories(build: Callable[[], object], public: str, factories: str) -> None:
    assert_refused(build, f"{public} is created by its factories only: call {factories}", error=TypeError)


def test_the_factories_still_build_each_choice() -> None:
    assert repr(Discovery.dns()) == "Discovery.dns()" and repr(DataPlane.app_mesh()) == "DataPlane.app_mesh()"
    assert isinstance(Discovery.cloud_map(), Discovery) and isinstance(Rollout.rolling(), Rollout)


def test_discovery_mode_of_1_0_is_importable_but_deprecated() -> None:
    import mesh_microservices

    assert "DiscoveryMode" not in mesh_microservices.__all__
    with pytest.warns(DeprecationWarning, match="DiscoveryMode is deprecated"):
        mode = mesh_microservices.DiscoveryMode
    with pytest.warns(DeprecationWarning, match="Discovery.mode is deprecated"):
        assert Discovery.dns().mode is mode.DNS
