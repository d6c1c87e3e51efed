"""The App Mesh Envoy sidecar: its image, container and the task's proxy configuration.

Each constant below is the one home of an App Mesh wiring fact (AWS App Mesh user guide,
"Envoy image" and "Getting started with App Mesh and Amazon ECS").
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from aws_cdk import Aws, CfnMapping, Duration, Stack, Token
from aws_cdk import aws_ecs as ecs
from aws_cdk.region_info import FactName, RegionInfo
from constructs import Construct

from .._acknowledgments import acknowledge_sidecar_environment
from .._placement import stack_of
from ..security import ALL_CAPABILITIES, DEFAULT_DROPPED_CAPABILITIES, ContainerSecurity, container_options

if TYPE_CHECKING:
    from aws_cdk import aws_ecr as ecr

# Newest App Mesh Envoy release (2026-09); override with ``DataPlane.app_mesh(envoy_image_tag=...)``.
ENVOY_IMAGE_TAG = "v1.39.1.0-prod"
ENVOY_REPOSITORY_NAME = "aws-appmesh-envoy"
ENVOY_PUBLIC_IMAGE = f"public.ecr.aws/appmesh/{ENVOY_REPOSITORY_NAME}"
ENVOY_CONTAINER_NAME = "envoy"

# The iptables rules of the proxy configuration let this uid's traffic bypass Envoy.
ENVOY_USER_ID = 1337
PROXY_INGRESS_PORT = 15000
PROXY_EGRESS_PORT = 15001
ENVOY_ADMIN_PORT = 9901
# Task metadata endpoint and instance metadata: never sent through Envoy.
EGRESS_IGNORED_IPS = ("169.254.170.2", "169.254.169.254")
ENVOY_NOFILE_LIMIT = 15000
# A sidecar Envoy runs as ENVOY_USER_ID on ports above 1024: it needs no capability. A gateway's
# Envoy runs as the image's root and keeps what a root process binding any port needs. Neither
# root file system is read-only: Envoy's image writes its admin access log and its agent's files
# under /tmp, and a scratch volume there would belong to root on Fargate, where 1337 cannot write.
SIDECAR_ENVOY_SECURITY = ContainerSecurity(user=str(ENVOY_USER_ID), drop_capabilities=ALL_CAPABILITIES)
GATEWAY_ENVOY_SECURITY = ContainerSecurity(drop_capabilities=DEFAULT_DROPPED_CAPABILITIES)
ENVOY_HEALTH_CHECK_COMMAND = (
    "CMD-SHELL",
    f"curl -s http://localhost:{ENVOY_ADMIN_PORT}/server_info | grep state | grep -q LIVE",
)
# Envoy 1.15+ finds its virtual node or gateway through this variable (APPMESH_VIRTUAL_NODE_NAME is gone).
ENVOY_RESOURCE_ARN_VARIABLE = "APPMESH_RESOURCE_ARN"
# Envoy's admin interface answers 200 here once it is LIVE (its configuration received), 503 before:
# what a load balancer in front of a gateway Envoy probes (AWS's App Mesh walkthroughs do the same).
ENVOY_READINESS_PATH = "/ready"

# Regions whose Envoy registry account aws-cdk-lib's region facts do not (yet) know.
_ENVOY_ACCOUNTS_MISSING_FROM_REGION_INFO = {"eu-central-2": "704106688930"}
_ENVOY_ACCOUNT_MAPPING_ID = "MeshMicroservicesEnvoyAccounts"
_ENVOY_REPOSITORY_ID = "MeshMicroservicesEnvoyRepository"
_REGIONAL_IMAGES: weakref.WeakKeyDictionary[Stack, dict[str, ecs.ContainerImage]] = weakref.WeakKeyDictionary()


@functools.cache
def envoy_registry_account(region: str) -> str | None:
    """The account of the App Mesh Envoy registry in ``region``, or None if none is known."""
    known = RegionInfo.get(region).app_mesh_repository_account
    return known or _ENVOY_ACCOUNTS_MISSING_FROM_REGION_INFO.get(region)


@functools.cache
def envoy_health_check() -> ecs.HealthCheck:
    """Envoy's container health check: LIVE on its admin interface (made when first used, not at import)."""
    return ecs.HealthCheck(
        command=list(ENVOY_HEALTH_CHECK_COMMAND),
        interval=Duration.seconds(5),
        timeout=Duration.seconds(2),
        retries=3,
        start_period=Duration.seconds(10),
    )


def reserved_ports() -> frozenset[int]:
    """Ports Envoy listens on inside every task."""
    return frozenset({PROXY_INGRESS_PORT, PROXY_EGRESS_PORT, ENVOY_ADMIN_PORT})


def proxy_configuration(app_ports: list[int]) -> ecs.ProxyConfiguration:
    """The APPMESH proxy configuration that routes the task's traffic through Envoy."""
    return ecs.AppMeshProxyConfiguration(
        container_name=ENVOY_CONTAINER_NAME,
        properties=ecs.AppMeshProxyConfigurationProps(
            app_ports=app_ports,
            proxy_ingress_port=PROXY_INGRESS_PORT,
            proxy_egress_port=PROXY_EGRESS_PORT,
            ignored_uid=ENVOY_USER_ID,
            egress_ignored_i_ps=list(EGRESS_IGNORED_IPS),
        ),
    )


def regional_envoy_image(scope: Construct, tag: str) -> ecs.ContainerImage:
    """AWS's Envoy image in the stack's own region, pulled with a grant on that repository only.

    With an unresolved stack region the account comes from a CloudFormation mapping, so one
    template deploys correctly in any region that has the image.
    """
    stack = stack_of(scope)
    # One image per stack and tag: every task of the stack binds the same one.
    images = _REGIONAL_IMAGES.setdefault(stack, {})
    if tag not in images:
        images[tag] = ecs.ContainerImage.from_ecr_repository(_regional_repository(stack), tag)
    return images[tag]


def _regional_repository(stack: Stack) -> ecr.IRepository:
    # One import per stack (it is no resource): services and clusters of the stack share it.
    repository = stack.node.try_find_child(_ENVOY_REPOSITORY_ID)
    if repository is None:
        # Imported when used: this module loads with the library (ENVOY_IMAGE_TAG), aws_ecr costs 60 ms.
        from aws_cdk import aws_ecr as ecr

        repository = ecr.Repository.from_repository_attributes(
            stack,
            _ENVOY_REPOSITORY_ID,
            repository_name=ENVOY_REPOSITORY_NAME,
            repository_arn=stack.format_arn(
                service="ecr",
                account=_registry_account_in(stack),
                resource="repository",
                resource_name=ENVOY_REPOSITORY_NAME,
            ),
        )
    return cast("ecr.IRepository", repository)


def _registry_account_in(stack: Stack) -> str:
    if not Token.is_unresolved(stack.region):
        account = envoy_registry_account(stack.region)
        if account is None:  # checked before any resource is created; see check_region
            raise ValueError(
                f"no App Mesh Envoy image is known for region {stack.region!r}; pass "
                "DataPlane.app_mesh(envoy_image=...), or deploy to a region with App Mesh."
            )
        return account
    mapping = stack.node.try_find_child(_ENVOY_ACCOUNT_MAPPING_ID)
    if not isinstance(mapping, CfnMapping):
        mapping = CfnMapping(stack, _ENVOY_ACCOUNT_MAPPING_ID, mapping=_account_mapping())
    return mapping.find_in_map(Aws.REGION, "account")


def _account_mapping() -> dict[str, dict[str, str]]:
    accounts = {**RegionInfo.region_map(FactName.APPMESH_ECR_ACCOUNT), **_ENVOY_ACCOUNTS_MISSING_FROM_REGION_INFO}
    return {region: {"account": accounts[region]} for region in sorted(accounts)}


def add_envoy_sidecar(
    task_definition: ecs.TaskDefinition,
    *,
    image: ecs.ContainerImage,
    virtual_node_arn: str,
    logging: ecs.LogDriver,
) -> ecs.ContainerDefinition:
    """Add the Envoy container that serves ``virtual_node_arn`` to ``task_definition``."""
    return add_envoy_container(
        task_definition,
        image=image,
        resource_arn=virtual_node_arn,
        logging=logging,
        sidecar=True,
        resource_description="the ARN of the virtual node whose configuration Envoy streams",
    )


def add_envoy_container(
    task_definition: ecs.TaskDefinition,
    *,
    image: ecs.ContainerImage,
    resource_arn: str,
    logging: ecs.LogDriver,
    sidecar: bool,
    resource_description: str,
    port_mappings: Sequence[ecs.PortMapping] = (),
) -> ecs.ContainerDefinition:
    """Add the Envoy container that serves the App Mesh resource ``resource_arn`` to ``task_definition``.

    Args:
        task_definition: The task definition to add Envoy to.
        image: The Envoy image.
        resource_arn: The ARN of the virtual node or virtual gateway Envoy serves.
        logging: Where Envoy's output goes.
        sidecar: Whether Envoy runs beside an application behind the task's proxy configuration:
            it then runs as ``ENVOY_USER_ID``, the uid whose traffic the proxy rules let through,
            without capabilities (``SIDECAR_ENVOY_SECURITY``).
            A virtual gateway's Envoy runs alone with no proxy configuration and no user (App
            Mesh user guide, "Virtual gateways"), with ``GATEWAY_ENVOY_SECURITY``.
        resource_description: What ``resource_arn`` is, for the acknowledgment of its variable.
        port_mappings: The ports Envoy listens on for traffic (a gateway's listener). Default: none.
    """
    envoy = task_definition.add_container(
        "Envoy",
        container_name=ENVOY_CONTAINER_NAME,
        image=image,
        essential=True,
        **container_options(
            task_definition, SIDECAR_ENVOY_SECURITY if sidecar else GATEWAY_ENVOY_SECURITY, id="EnvoyLinuxParameters"
        ),
        environment={ENVOY_RESOURCE_ARN_VARIABLE: resource_arn},
        health_check=envoy_health_check(),
        logging=logging,
        port_mappings=list(port_mappings) or None,
    )
    envoy.add_ulimits(
        ecs.Ulimit(name=ecs.UlimitName.NOFILE, soft_limit=ENVOY_NOFILE_LIMIT, hard_limit=ENVOY_NOFILE_LIMIT)
    )
    acknowledge_sidecar_environment(
        task_definition,
        container_name=ENVOY_CONTAINER_NAME,
        variables=f"{ENVOY_RESOURCE_ARN_VARIABLE}, {resource_description}",
    )
    return envoy
