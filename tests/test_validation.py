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
    IngressRoute,
    ListenerProtocol,
    MeshedCluster,
    MeshedService,
    MeshIngress,
    MeshTls,
    RoutePolicy,
    ServiceRepository,
    ServiceVersion,
)


class World:
    """A stack with one cluster and one service, rebuilt for each test (no synth needed)."""

    def __init__(self) -> None:
        self.app = cdk.App()
        self.stack = cdk.Stack(self.app, "Validation", env=ENV)
        self.cluster = MeshedCluster(self.stack, "Cluster", namespace="shop.local", data_plane=DataPlane.app_mesh())
        self.image = ecs.ContainerImage.from_registry(NGINX)
        self.orders = MeshedService(self.stack, "Orders", cluster=self.cluster, name="orders", image=self.image)

    def construct_paths(self) -> list[str]:
        return sorted(c.node.path for c in self.stack.node.find_all())


@pytest.fixture
def world() -> Iterator[World]:
    yield World()


def assert_refused(world: World, build: Callable[[], object], error: type[Exception], *fragments: str) -> str:
    """Run ``build``; it must raise ``error`` with every fragment in the message and create nothing."""
    before = world.construct_paths()
    services_before = list(world.cluster.services)
    with pytest.raises(error) as raised:
        build()
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert world.construct_paths() == before, "a construct was left half-created"
    assert world.cluster.services == services_before
    return message


def _service(world: World, **overrides: Any) -> Callable[[], object]:
    arguments: dict[str, Any] = {"cluster": world.cluster, "name": "payments", "image": world.image, **overrides}
    return lambda: MeshedService(world.stack, "Payments", **arguments)


@pytest.mark.parametrize("name", ["Orders", "1orders", "orders-", "or_ders", "", "a" * 64, "orders.v2"])
def test_invalid_service_name(world: World, name: str) -> None:
    assert_refused(world, _service(world, name=name), ValueError, f"name={name!r}", "DNS label")


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(world: World, port: int) -> None:
    assert_refused(world, _service(world, port=port), ValueError, f"port={port}", "1 to 65535")


@pytest.mark.parametrize("port", [15000, 15001, 9901])
def test_port_reserved_by_envoy(world: World, port: int) -> None:
    assert_refused(world, _service(world, port=port), ValueError, f"port={port}", "reserved by the Envoy sidecar")


@pytest.mark.parametrize(
    ("cpu", "memory_limit_mib", "fragment"),
    [
        (256, 4096, "memory_limit_mib=4096 is not available with cpu=256"),
        (300, 512, "cpu=300 is not a Fargate size"),
        (1024, 1024, "use one of 2048 to 8192 in steps of 1024"),
    ],
)
def test_impossible_cpu_memory_pair(world: World, cpu: int, memory_limit_mib: int, fragment: str) -> None:
    assert_refused(world, _service(world, cpu=cpu, memory_limit_mib=memory_limit_mib), ValueError, fragment)


def test_duplicate_service_name_in_one_cluster(world: World) -> None:
    assert_refused(
        world, _service(world, name="orders"), ValueError, "name='orders' is already a service", "Validation/Orders"
    )


def test_connecting_services_of_different_clusters(world: World) -> None:
    other = MeshedCluster(world.stack, "Other", namespace="other.local", data_plane=DataPlane.app_mesh())
    stranger = MeshedService(world.stack, "Stranger", cluster=other, name="stranger", image=world.image)
    assert_refused(
        world,
        lambda: world.orders.connect_to(stranger),
        ValueError,
        "'stranger' runs in cluster 'Validation/Other'",
        "'Validation/Cluster'",
    )
    assert_refused(world, _service(world, backends=[stranger]), ValueError, "backends", "Validation/Other")


def test_connecting_a_service_to_itself(world: World) -> None:
    assert_refused(world, lambda: world.orders.connect_to(world.orders), ValueError, "itself")


@pytest.mark.parametrize("tag", ["", " ", "-x", "a" * 129, "v1:2"])
def test_invalid_image_tag(world: World, tag: str) -> None:
    repository = ServiceRepository(world.stack, "Repo")
    assert_refused(world, lambda: repository.image(tag), ValueError, "tag")


def test_empty_image_tag_says_what_to_pass(world: World) -> None:
    repository = ServiceRepository(world.stack, "Repo")
    assert_refused(world, lambda: repository.image(""), ValueError, "tag is empty", "'1.4.2'")


def test_empty_envoy_tag(world: World) -> None:
    assert_refused(
        world,
        lambda: MeshedCluster(
            world.stack, "C2", namespace="b.local", data_plane=DataPlane.app_mesh(envoy_image_tag="")
        ),
        ValueError,
        "envoy_image_tag is empty",
    )


@pytest.mark.parametrize("namespace", ["shop", "Shop.Local", "shop..local", "-shop.local"])
def test_invalid_namespace(world: World, namespace: str) -> None:
    assert_refused(
        world,
        lambda: MeshedCluster(world.stack, "C2", namespace=namespace, data_plane=DataPlane.app_mesh()),
        ValueError,
        f"namespace={namespace!r}",
        "shop.local",
    )


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"image": "nginx:latest"}, "image='nginx:latest' is a str; pass a ContainerImage"),
        ({"port": "8080"}, "port='8080' is a str; pass a int"),
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
    assert_refused(world, _service(world, **overrides), error, fragment)


def test_health_check_path_must_start_with_a_slash(world: World) -> None:
    assert_refused(world, _service(world, health_check_path="health"), ValueError, "health_check_path='health'")


@pytest.mark.parametrize("plane", [DataPlane.app_mesh, DataPlane.service_connect])
@pytest.mark.parametrize("protocol", [ListenerProtocol.GRPC, ListenerProtocol.TCP])
def test_health_check_path_is_refused_where_health_checks_have_no_path(
    world: World, plane: Callable[[], DataPlane], protocol: ListenerProtocol
) -> None:
    cluster = MeshedCluster(world.stack, "Planed", namespace="planed.local", data_plane=plane())
    assert_refused(
        world,
        lambda: MeshedService(
            world.stack,
            "Payments",
            cluster=cluster,
            name="payments",
            image=world.image,
            protocol=protocol,
            health_check_path="/healthz",
        ),
        ValueError,
        f"health_check_path='/healthz' is not used by protocol=ListenerProtocol.{protocol.name}: gRPC and TCP "
        "health checks have no path (App Mesh probes gRPC with the gRPC health protocol and TCP by connecting). "
        "Drop health_check_path; to probe the application from inside its task, pass "
        "container_health_check=ecs.HealthCheck(...).",
    )


def test_container_health_check_must_be_an_ecs_health_check(world: World) -> None:
    check = {"command": ["CMD-SHELL", "true"]}
    build = _service(world, container_health_check=check)
    assert_refused(world, build, TypeError, "container_health_check={'command'", "pass a HealthCheck")


def test_a_cluster_finds_its_services_by_name(world: World) -> None:
    assert world.cluster.service_named("orders") is world.orders
    assert world.cluster.service_named("payments") is None
    payments = _service(world)()
    assert world.cluster.service_named("payments") is payments
    assert world.cluster.services == [world.orders, payments]


def test_app_mesh_parts_of_a_service_come_from_its_data_plane(world: World) -> None:
    meshing = world.orders.meshing
    assert world.orders.app_mesh is meshing
    for part in ("virtual_node", "virtual_router", "virtual_service", "envoy_container"):
        assert getattr(world.orders, part) is getattr(meshing, part)


def test_memory_under_both_names_is_refused(world: World) -> None:
    build = _service(world, memory_mib=1024, memory_limit_mib=2048)
    assert_refused(
        world,
        build,
        ValueError,
        "memory_mib=1024 and memory_limit_mib=2048 are both given",
        "memory_mib is the deprecated name of memory_limit_mib. Pass memory_limit_mib only.",
    )


def test_all_problems_are_reported_at_once(world: World) -> None:
    build = _service(world, name="Bad_Name", port=0, cpu=256, memory_limit_mib=8192)
    message = assert_refused(world, build, ValueError)
    assert "name='Bad_Name'" in message and "port=0" in message and "memory_limit_mib=8192" in message


def test_wrong_vpc_type(world: World) -> None:
    assert_refused(
        world,
        lambda: MeshedCluster(world.stack, "C2", namespace="b.local", vpc="vpc-123", data_plane=DataPlane.app_mesh()),  # type: ignore[arg-type]
        TypeError,
        "vpc='vpc-123' is a str; pass an IVpc",
    )


def test_mesh_and_mesh_name_together(world: World) -> None:
    assert_refused(
        world,
        lambda: MeshedCluster(
            world.stack,
            "C2",
            namespace="b.local",
            data_plane=DataPlane.app_mesh(mesh=world.cluster.mesh, mesh_name="x"),
        ),
        ValueError,
        "mesh_name='x'",
    )


def test_region_without_envoy_registry(world: World) -> None:
    stack = cdk.Stack(world.app, "Elsewhere", env=cdk.Environment(account="123456789012", region="xx-nowhere-1"))
    with pytest.raises(ValueError, match=r"xx-nowhere-1.*envoy_image="):
        MeshedCluster(stack, "Cluster", namespace="x.local", data_plane=DataPlane.app_mesh())
    assert stack.node.children == []


def test_repository_bad_counts(world: World) -> None:
    assert_refused(
        world, lambda: ServiceRepository(world.stack, "R", max_image_count=0), ValueError, "max_image_count=0"
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
    assert_refused(world, _service(world, **{parameter: token}), ValueError, fragment, "pass a literal number")


@pytest.mark.parametrize("parameter", ["max_image_count", "untagged_image_expiry_days"])
def test_repository_counts_must_be_literal(world: World, parameter: str) -> None:
    # The lifecycle policy is JSON text: CloudFormation would keep {"Ref": ...} in it verbatim.
    token = _number_parameter(world, "Count")
    assert_refused(
        world,
        lambda: ServiceRepository(world.stack, "Repo", **{parameter: token}),
        ValueError,
        f"{parameter} is a token",
        "ECR lifecycle policy's JSON text",
    )


def test_string_tokens_are_refused_by_name_for_service_and_namespace_names(world: World) -> None:
    token = cdk.CfnParameter(world.stack, "Name").value_as_string
    assert_refused(world, _service(world, name=token), ValueError, "name is a token", "pass a literal string")
    assert_refused(
        world,
        lambda: MeshedCluster(world.stack, "C2", namespace=token, data_plane=DataPlane.service_connect()),
        ValueError,
        "namespace is a token",
        "services derive their DNS names from it",
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
        world, _service(world, **overrides), ValueError, f"{parameter}[{name!r}] is reserved", f"e.g. 'APP_{name}'"
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
        world,
        _service(world, environment={"DB_PASSWORD": "x", "A": "1"}, secrets={"DB_PASSWORD": secret}),
        ValueError,
        "environment and secrets both set 'DB_PASSWORD'; a container takes one value per name",
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
        world,
        lambda: MeshedCluster(
            world.stack, "C2", namespace="b.local", data_plane=DataPlane.service_connect(tls_authority_arn=arn)
        ),
        ValueError,
        f"tls_authority_arn={arn!r}",
        "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/",
    )


@pytest.mark.parametrize("plane", [DataPlane.app_mesh, DataPlane.service_connect])
def test_an_imported_authority_with_a_malformed_arn_is_refused(world: World, plane: Callable[..., DataPlane]) -> None:
    authority = acmpca.CertificateAuthority.from_certificate_authority_arn(world.stack, "Ca", "my-ca")
    assert_refused(
        world,
        lambda: MeshedCluster(
            world.stack, "C2", namespace="b.local", data_plane=plane(tls=MeshTls.private_ca(authority))
        ),
        ValueError,
        "tls: the authority's certificate_authority_arn='my-ca' is not the ARN of an acm-pca certificate-authority",
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
    message = assert_refused(world, build, ValueError, "namespace='shop.local': cluster 'Validation/Cluster'")
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
        world,
        build,
        ValueError,
        f"scope: stack 'Elsewhere' deploys to {shown}, but cluster 'Validation/Cluster' is in stack 'Validation', "
        "which deploys to aws://123456789012/eu-west-1",
        "Give stack 'Elsewhere' the same env as 'Validation'",
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
        world,
        build,
        ValueError,
        "scope: stack 'Edge' deploys to aws://123456789012/us-east-1, but cluster 'Validation/Cluster' is in stack "
        "'Validation', which deploys to aws://123456789012/eu-west-1",
    )
    assert edge.node.children == []
