"""The data-plane choice of a MeshedCluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from ._contract import DataPlaneBinding
from ._validate import (
    FactoryOnly,
    ValidationProblems,
    check_arn,
    check_image_tag,
    check_interface,
    check_name_length,
    check_type,
)
from .app_mesh.envoy import ENVOY_IMAGE_TAG, ENVOY_PUBLIC_IMAGE, envoy_registry_account
from .app_mesh.tls import MeshTls
from .observability import Observability, check_observability
from .service_connect import ServiceConnectPlane
from .service_connect.observability import check_service_connect_observability

if TYPE_CHECKING:
    from aws_cdk import aws_appmesh as appmesh


class DataPlane(FactoryOnly):
    """Which data plane carries the traffic between a cluster's services.

    Create one with a factory: ``DataPlane.service_connect()`` (the default) or
    ``DataPlane.app_mesh()``, for estates that still run App Mesh (discontinued by AWS on
    2026-09-30) and for their migration. The same MeshedService declarations run on either; what a
    plane cannot do is refused by name: App Mesh's weighted ``versions=`` and header routes on
    Service Connect, whose releases are ECS rollouts (``rollout=Rollout.canary(...)``), and those
    rollouts on App Mesh, whose traffic ECS does not shift.
    """

    _factories = ("service_connect", "app_mesh")
    _description: str
    _bind: Callable[[Construct, RemovalPolicy], DataPlaneBinding]
    _check: Callable[[ValidationProblems, Construct], None]

    @classmethod
    def app_mesh(
        cls,
        *,
        mesh: appmesh.IMesh | None = None,
        mesh_name: str | None = None,
        envoy_image_tag: str = ENVOY_IMAGE_TAG,
        envoy_image: ecs.ContainerImage | None = None,
        tls: MeshTls | None = None,
        observability: Observability | None = None,
    ) -> DataPlane:
        """AWS App Mesh: an Envoy sidecar in every task, configured by the mesh.

        Args:
            mesh: An existing mesh to join. Default: a new mesh with egress filter DROP_ALL.
            mesh_name: The name of the new mesh. Default: a name CloudFormation generates.
            envoy_image_tag: The tag of AWS's Envoy image in the stack's region.
                Default: ``ENVOY_IMAGE_TAG``, the newest release the library was tested with.
            envoy_image: A complete Envoy image to use instead of AWS's regional one (e.g. a copy
                in your own registry). Default: AWS's image for the stack's region.
            tls: Encrypt traffic between services, e.g. ``MeshTls.private_ca(authority)``.
                Default: no TLS inside the mesh.
            observability: Access logs, tracing, Envoy statistics and alarms of every service,
                e.g. ``Observability(tracing=True)``. Default: ``Observability()``, everything but
                tracing: access logs, Envoy statistics in CloudWatch, and alarms per service (5xx
                share, unhealthy tasks). ``response_time_threshold``, a Service Connect option, is
                refused.
        """

        def check(problems: ValidationProblems, scope: Construct) -> None:
            from aws_cdk import aws_appmesh as appmesh  # App Mesh apps only, as the modules below

            from .app_mesh.observability import check_app_mesh_observability

            check_image_tag(problems, "envoy_image_tag", envoy_image_tag)
            if mesh is not None:
                check_interface(problems, "mesh", mesh, appmesh.IMesh)
            if envoy_image is not None:
                check_type(problems, "envoy_image", envoy_image, ecs.ContainerImage)
            if tls is not None and check_type(problems, "tls", tls, MeshTls) and tls.authority_arn is not None:
                _check_authority_arn(problems, "tls: the authority's certificate_authority_arn", tls.authority_arn)
            if observability is not None:
                check_observability(problems, "observability", observability)
                check_app_mesh_observability(problems, "observability", observability)
            if mesh is not None and mesh_name is not None:
                problems.add(f"mesh_name={mesh_name!r} is given with an existing mesh; pass one or the other.")
            elif mesh_name is not None:
                check_name_length(problems, "mesh_name", mesh_name, maximum=255)  # App Mesh's limit
            region = Stack.of(scope).region
            if envoy_image is None and not Token.is_unresolved(region) and envoy_registry_account(region) is None:
                problems.add(
                    f"stack region {region!r} has no known App Mesh Envoy registry; pass envoy_image="
                    f"ecs.ContainerImage.from_registry('{ENVOY_PUBLIC_IMAGE}:{envoy_image_tag}') "
                    "or deploy to a region with App Mesh."
                )

        def bind(scope: Construct, removal_policy: RemovalPolicy) -> DataPlaneBinding:
            from .app_mesh.observability import AppMeshObservability  # App Mesh apps only
            from .app_mesh.plane import AppMeshPlane

            return AppMeshPlane(
                scope,
                mesh=mesh,
                mesh_name=mesh_name,
                envoy_image_tag=envoy_image_tag,
                envoy_image=envoy_image,
                removal_policy=removal_policy,
                tls=tls,
                observability=AppMeshObservability.of(observability if observability is not None else Observability()),
            )

        return _DataPlane("DataPlane.app_mesh()", bind, check)

    @classmethod
    def service_connect(
        cls,
        *,
        tls_authority_arn: str | None = None,
        tls: MeshTls | None = None,
        observability: Observability | None = None,
    ) -> DataPlane:
        """Amazon ECS Service Connect: ECS's own proxy, no sidecar to declare, no App Mesh.

        Services keep their names: each registers ``<name>.<namespace>`` as its Service Connect
        DNS name, so callers' URLs do not change when a cluster moves off App Mesh.

        Args:
            tls_authority_arn: The ARN of an AWS Private CA
                (``arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>``, or a token); when
                given, traffic between services is encrypted with certificates it issues. Default: no TLS.
            tls: The App Mesh cluster's ``MeshTls.private_ca(authority)``, accepted as is so that
                moving a cluster keeps its encryption; the same as ``tls_authority_arn``. Service
                Connect has no mutual TLS and no file or SDS certificates: those are refused.
                Default: no TLS.
            observability: Access logs and alarms of every service, e.g.
                ``Observability(response_time_threshold=Duration.millis(500))``. Default:
                ``Observability()``: the proxy's access logs in each service's log group, and
                alarms per HTTP and HTTP/2 service on its 5xx share and average response time,
                read from the metrics ECS publishes in ``AWS/ECS``. The App Mesh options
                (tracing, envoy_metrics, metrics_namespace, unhealthy_hosts_threshold and the
                sidecar images) are refused when set.
        """

        def check(problems: ValidationProblems, scope: Construct) -> None:
            if tls_authority_arn is not None:
                _check_authority_arn(problems, "tls_authority_arn", tls_authority_arn)
            if tls is not None and check_type(problems, "tls", tls, MeshTls):
                if tls.authority_arn is not None:
                    _check_authority_arn(problems, "tls: the authority's certificate_authority_arn", tls.authority_arn)
                else:
                    problems.add(
                        f"tls={tls!r}: Service Connect has no mutual TLS and takes certificates only from an "
                        "AWS Private CA; pass MeshTls.private_ca(authority) or tls_authority_arn=..., or stay "
                        "on DataPlane.app_mesh()."
                    )
                if tls_authority_arn is not None:
                    problems.add("tls and tls_authority_arn are both given; pass one of them.")
            if observability is not None:
                check_observability(problems, "observability", observability)
                check_service_connect_observability(problems, "observability", observability)

        def bind(scope: Construct, removal_policy: RemovalPolicy) -> DataPlaneBinding:
            authority_arn = tls_authority_arn if tls is None else tls.authority_arn
            return ServiceConnectPlane(scope, tls_authority_arn=authority_arn, observability=observability)

        return _DataPlane("DataPlane.service_connect()", bind, check)

    def __repr__(self) -> str:
        return self._description


class _DataPlane(DataPlane):
    def __init__(
        self,
        description: str,
        bind: Callable[[Construct, RemovalPolicy], DataPlaneBinding],
        check: Callable[[ValidationProblems, Construct], None],
    ) -> None:
        self._description = description
        self._bind = bind
        self._check = check


# What an AWS Private CA's ARN looks like, for messages.
_AUTHORITY_ARN_EXAMPLE = (
    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0123abcd-0123-4567-89ab-0123456789ab"
)


def _check_authority_arn(problems: ValidationProblems, parameter: str, arn: object) -> None:
    check_arn(
        problems,
        parameter,
        arn,
        service="acm-pca",
        resource_type="certificate-authority",
        example=_AUTHORITY_ARN_EXAMPLE,
    )
