"""MeshedCluster: the VPC, ECS cluster, Cloud Map namespace and data plane that services share."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, cast

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct, IConstruct

from ._contract import DataPlaneBinding
from ._log_groups import allow_cloudwatch_logs, new_log_group
from ._validate import (
    ValidationProblems,
    check_interface,
    check_namespace_name,
    check_type,
    implements,
    is_token,
    kind_of,
)
from .data_plane import DataPlane

if TYPE_CHECKING:
    from aws_cdk import aws_appmesh as appmesh
    from aws_cdk import aws_kms as kms

    from .service import MeshedService


class MeshedCluster(Construct):
    """An ECS cluster whose services find each other through Cloud Map and a service mesh.

    The Cloud Map private DNS namespace always exists (created here, or the one you pass), so
    no service of this cluster can ask for service discovery without one.

    Attributes:
        vpc: The VPC the services run in.
        cluster: The ECS cluster (Fargate, Container Insights on).
        namespace: The Cloud Map private DNS namespace services register in.
        namespace_name: Its DNS name, e.g. ``shop.local``.
        service_domain: The domain callers dial services in: ``<name>.<service_domain>``.
        data_plane: The data-plane choice this cluster was created with.
        flow_logs: The VPC flow log's log group, when this construct created the VPC.
        log_encryption_key: The customer managed KMS key of every log group the cluster, its
            services and its ingresses create, or None (CloudWatch Logs' own encryption).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str | servicediscovery.IPrivateDnsNamespace,
        vpc: ec2.IVpc | None = None,
        data_plane: DataPlane | None = None,
        service_domain: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_encryption_key: kms.IKey | None = None,
    ) -> None:
        """Create the cluster.

        Args:
            scope: The parent construct.
            id: The construct id.
            namespace: The name of a new Cloud Map private DNS namespace (e.g. ``"shop.local"``),
                or an existing private DNS namespace of the same VPC to register services in. A new
                name must not be another cluster's namespace in the same VPC (Cloud Map refuses it):
                pass that cluster's ``namespace`` to share it.
            vpc: The VPC to run in. Default: a new VPC over two Availability Zones with public
                subnets for NAT gateways, private subnets with egress for tasks, and flow logs.
            data_plane: The data plane between services. Default: ``DataPlane.service_connect()``,
                ECS Service Connect. ``DataPlane.app_mesh()`` keeps an App Mesh estate (App Mesh was
                discontinued on 2026-09-30: its resources can no longer be created).
            service_domain: The domain of the names callers dial, when it differs from the
                namespace (Service Connect only, e.g. a twin cluster during a migration keeps its
                callers' ``orders.shop.local`` while registering in namespace ``shop-next.local``).
                Default: the namespace name.
            removal_policy: What happens to the namespace, mesh and flow-log group when they
                leave the stack. Default: RETAIN.
            flow_log_retention: How long VPC flow logs are kept (new VPC only). Default: one year.
            log_encryption_key: A symmetric customer managed KMS key, in the cluster's region, to
                encrypt the log groups the library creates with: the VPC flow-log group, every
                service's log group and every ingress's. A key created in the app gets the key
                policy statement CloudWatch Logs needs (the ``logs.<region>.amazonaws.com``
                principal, for log groups of the cluster's account and region only, by the
                ``kms:EncryptionContext:aws:logs:arn`` condition); an imported key's policy must
                already allow it. Default: none: CloudWatch Logs' own server-side encryption.
        """
        chosen = data_plane if data_plane is not None else DataPlane.service_connect()
        _check_cluster(  # raises with every problem, before any construct exists
            id, scope, namespace, vpc, chosen, service_domain, removal_policy, flow_log_retention, log_encryption_key
        )

        super().__init__(scope, id)
        self.data_plane = chosen
        self.log_encryption_key: kms.IKey | None = log_encryption_key
        if log_encryption_key is not None:
            allow_cloudwatch_logs(log_encryption_key)
        self.flow_logs: logs.ILogGroup | None = None
        if vpc is None:
            vpc, self.flow_logs = self._create_vpc(removal_policy, flow_log_retention)
        self.vpc: ec2.IVpc = vpc
        self.cluster = ecs.Cluster(self, "Resource", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        self._join_namespace(namespace, removal_policy)
        self.service_domain: str = service_domain or self.namespace_name
        self._plane: DataPlaneBinding = chosen._bind(self, removal_policy)
        self._services: dict[str, MeshedService] = {}
        # Registered with the VPC made here too: a later cluster may be given this one's VPC.
        registered = _namespace_key(scope, namespace, self.vpc)
        if registered is not None:
            root, key = registered
            _NAMESPACES.setdefault(root, {}).setdefault(key, self)

    def _join_namespace(
        self, namespace: str | servicediscovery.IPrivateDnsNamespace, removal_policy: RemovalPolicy
    ) -> None:
        """The Cloud Map namespace: a new one of the name given, or the one given."""
        if isinstance(namespace, str):
            created = servicediscovery.PrivateDnsNamespace(self, "Namespace", name=namespace, vpc=self.vpc)
            created.apply_removal_policy(removal_policy)
            self.namespace: servicediscovery.IPrivateDnsNamespace = created
            self.namespace_name = namespace
        else:
            self.namespace = namespace
            self.namespace_name = namespace.namespace_name

    @property
    def mesh(self) -> appmesh.IMesh:
        """The App Mesh mesh of this cluster (App Mesh data plane only).

        Raises:
            AttributeError: The cluster's data plane is not App Mesh; the message names it.
        """
        try:
            return cast("appmesh.IMesh", self._plane.part("mesh"))
        except AttributeError as error:
            raise AttributeError(f"MeshedCluster {self.node.id!r}: {error}") from None

    @property
    def services(self) -> list[MeshedService]:
        """The services of this cluster, in the order they were declared."""
        return list(self._services.values())

    def service_named(self, name: str) -> MeshedService | None:
        """The service of this cluster named ``name``, or None when none is (yet).

        Args:
            name: The service's ``name``, e.g. ``"orders"``.
        """
        return self._services.get(name)

    # The registration API of the library's constructs: they reach the cluster only through these.

    @property
    def _binding(self) -> DataPlaneBinding:
        """The data plane bound to this cluster: MeshedService and MeshIngress ask it for the plane's parts."""
        return self._plane

    def _register_service(self, service: MeshedService) -> None:
        """Record ``service``, once it is built, under its name (checked unique by ``service_named``)."""
        self._services[service.name] = service

    def _create_vpc(
        self, removal_policy: RemovalPolicy, retention: logs.RetentionDays
    ) -> tuple[ec2.Vpc, logs.LogGroup]:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
            ],
            # Nothing here uses the default security group; restricting it needs a custom-resource Lambda.
            restrict_default_security_group=False,
        )
        flow_logs = new_log_group(
            self, "FlowLogs", retention=retention, removal_policy=removal_policy, encryption_key=self.log_encryption_key
        )
        vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        return vpc, flow_logs


def _check_cluster(
    id: str,
    scope: Construct,
    namespace: object,
    vpc: object,
    data_plane: object,
    service_domain: object,
    removal_policy: object,
    flow_log_retention: object,
    log_encryption_key: object,
) -> None:
    """Raise with every problem of a cluster's inputs, the data plane's included."""
    problems = ValidationProblems(f"MeshedCluster {id!r}")
    _check_namespace(problems, namespace)
    if vpc is not None:
        check_interface(problems, "vpc", vpc, ec2.IVpc)
    if check_type(problems, "data_plane", data_plane, DataPlane):
        assert isinstance(data_plane, DataPlane)
        data_plane._check(problems, scope)
    if service_domain is not None:
        check_namespace_name(problems, "service_domain", service_domain)
    check_type(problems, "removal_policy", removal_policy, RemovalPolicy)
    check_type(problems, "flow_log_retention", flow_log_retention, logs.RetentionDays)
    _check_namespace_unique(problems, _namespace_key(scope, namespace, vpc), namespace)
    if log_encryption_key is not None:
        # Imported when used: every aws_cdk module loaded delays each synth's start.
        from aws_cdk import aws_kms as kms

        if check_interface(problems, "log_encryption_key", log_encryption_key, kms.IKey):
            _check_key_region(problems, scope, cast(kms.IKey, log_encryption_key))
    problems.raise_if_any()


# The namespaces of each app's clusters, by VPC and name: Cloud Map refuses a second private DNS
# namespace of one name in one VPC (at deployment, after the first stack deployed).
_NAMESPACES: weakref.WeakKeyDictionary[IConstruct, dict[tuple[object, str], MeshedCluster]] = (
    weakref.WeakKeyDictionary()
)


def _namespace_key(scope: Construct, namespace: object, vpc: object) -> tuple[IConstruct, tuple[object, str]] | None:
    """(app, (VPC, namespace name)) for a cluster in ``vpc``; None when it makes its own VPC (``vpc`` None).

    None too for inputs refused elsewhere (a namespace of no literal name, a VPC of the wrong type).
    """
    if not implements(vpc, ec2.IVpc):
        return None
    if isinstance(namespace, str):
        name = namespace
    elif implements(namespace, servicediscovery.IPrivateDnsNamespace):
        name = cast(servicediscovery.IPrivateDnsNamespace, namespace).namespace_name
    else:
        return None
    if is_token(name):
        return None
    vpc_id = cast(ec2.IVpc, vpc).vpc_id
    # An imported VPC has its literal id (two imports of one VPC are one VPC); a VPC of the app is its object.
    return scope.node.root, (vpc if is_token(vpc_id) else vpc_id, name)


def _check_namespace_unique(
    problems: ValidationProblems, key: tuple[IConstruct, tuple[object, str]] | None, namespace: object
) -> None:
    """A new namespace must not take the name of another cluster's namespace in the same VPC."""
    if key is None or not isinstance(namespace, str):
        return  # a cluster that makes its own VPC, or joins an existing namespace, creates no rival
    other = _NAMESPACES.get(key[0], {}).get(key[1])
    if other is not None:
        problems.add(
            f"namespace={namespace!r}: cluster {other.node.path!r} already has a Cloud Map namespace {namespace!r} "
            "in this VPC, and Cloud Map refuses a second private DNS namespace of one name in one VPC. Share that "
            f"namespace (namespace=<cluster {other.node.path!r}>.namespace), or choose another name, e.g. "
            f"'{namespace.split('.')[0]}-2.{namespace.split('.', 1)[-1]}'."
        )


def _check_key_region(problems: ValidationProblems, scope: Construct, key: kms.IKey) -> None:
    region, key_region = Stack.of(scope).region, key.env.region
    if not is_token(region) and not is_token(key_region) and key_region != region:
        problems.add(
            f"log_encryption_key is a key of region {key_region!r}, and the cluster's stack is in {region!r}: "
            "CloudWatch Logs encrypts a log group only with a key of its own region. Pass a key of that region."
        )


def _check_namespace(problems: ValidationProblems, namespace: object) -> None:
    if isinstance(namespace, str):
        check_namespace_name(problems, "namespace", namespace)
    elif implements(namespace, servicediscovery.IPrivateDnsNamespace):
        if is_token(cast(servicediscovery.IPrivateDnsNamespace, namespace).namespace_name):
            problems.add(
                "namespace has an unresolved name; import it with "
                "PrivateDnsNamespace.from_private_dns_namespace_attributes(namespace_name='shop.local', ...)."
            )
    else:
        problems.add(
            f"namespace={namespace!r} is {kind_of(namespace)}; pass a DNS name such as "
            "'shop.local' or an IPrivateDnsNamespace.",
            kind=TypeError,
        )
