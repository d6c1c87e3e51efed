"""Hardened tasks: the application container's options and defaults, the sidecars' settings, pinned images."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs

from checked_apps import CheckedApp
from conftest import ENV, NGINX
from mesh_microservices import ContainerSecurity, DataPlane, MeshedCluster, MeshedService
from mesh_microservices.app_mesh import observability as obs
from mesh_microservices.app_mesh.envoy import ENVOY_CONTAINER_NAME
from mesh_microservices.security import DEFAULT_DROPPED_CAPABILITIES
from mesh_microservices.service import APP_CONTAINER_NAME
from synthesized import Synthesized

Variants = Callable[[str], Synthesized]
HARDENED = ("HardenedConnect", "HardenedMesh")


def _task_definitions(synth: Synthesized) -> Iterator[tuple[str, dict[str, Any], dict[str, dict[str, Any]]]]:
    """(construct path, properties, containers by name) of every task definition of ``synth``."""
    for resource in synth.resources("AWS::ECS::TaskDefinition").values():
        properties = resource["Properties"]
        containers = {c["Name"]: c for c in properties["ContainerDefinitions"]}
        yield resource["Metadata"]["aws:cdk:path"], properties, containers


def _dropped(container: dict[str, Any]) -> list[str]:
    dropped: list[str] = container.get("LinuxParameters", {}).get("Capabilities", {}).get("Drop", [])
    return dropped


def _default_dropped() -> list[str]:
    return [capability.value for capability in DEFAULT_DROPPED_CAPABILITIES]


def test_the_default_drops_capabilities_no_web_service_needs_and_keeps_the_images_user(shop: Synthesized) -> None:
    for path, _, containers in _task_definitions(shop):
        app = containers[APP_CONTAINER_NAME]
        assert _dropped(app) == _default_dropped(), path
        assert "User" not in app and "ReadonlyRootFilesystem" not in app and "MountPoints" not in app, path
    # Capabilities an image started as root needs to step down to its user stay (Docker's names).
    kept = {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "NET_BIND_SERVICE", "KILL"}
    assert "NET_RAW" in _default_dropped() and not kept & set(_default_dropped())


@pytest.mark.parametrize("stack", HARDENED)
def test_a_locked_service_runs_read_only_as_its_user_without_capabilities_in_every_version(
    variants: Variants, stack: str
) -> None:
    locked = [(path, p, c) for path, p, c in _task_definitions(variants(stack)) if f"{stack}/Locked/" in path]
    assert len(locked) == (2 if stack == "HardenedMesh" else 1)
    for path, properties, containers in locked:
        app = containers[APP_CONTAINER_NAME]
        assert app["ReadonlyRootFilesystem"] is True, path
        assert app["User"] == "1000"
        assert _dropped(app) == ["ALL"]
        mounts = {m["ContainerPath"]: m for m in app["MountPoints"]}
        assert sorted(mounts) == ["/tmp", "/var/cache/nginx"]
        volumes = {v["Name"]: v for v in properties["Volumes"]}
        for mount in mounts.values():
            assert mount["ReadOnly"] is False
            # A task-local volume: no host path, no EFS; empty at start, gone with the task.
            assert volumes[mount["SourceVolume"]] == {"Name": mount["SourceVolume"]}


@pytest.mark.parametrize("stack", HARDENED)
def test_a_service_with_the_defaults_beside_a_locked_one_keeps_the_defaults(variants: Variants, stack: str) -> None:
    for path, properties, containers in _task_definitions(variants(stack)):
        if f"{stack}/Plain/" in path:
            assert _dropped(containers[APP_CONTAINER_NAME]) == _default_dropped()
            assert "Volumes" not in properties or all(
                not v["Name"].startswith(APP_CONTAINER_NAME) for v in properties["Volumes"]
            )


def test_envoy_sidecars_run_as_their_ignored_uid_without_capabilities(mesh_shop: Synthesized) -> None:
    seen = 0
    for path, _, containers in _task_definitions(mesh_shop):
        if APP_CONTAINER_NAME in containers:  # a service's task, where Envoy is a sidecar
            envoy = containers[ENVOY_CONTAINER_NAME]
            assert envoy["User"] == "1337", path  # App Mesh's IgnoredUID
            assert _dropped(envoy) == ["ALL"], path
            seen += 1
    assert seen >= 3


def test_the_gateway_envoy_runs_as_its_image_user_and_drops_the_defaults(mesh_shop: Synthesized) -> None:
    gateways = [(path, c) for path, _, c in _task_definitions(mesh_shop) if APP_CONTAINER_NAME not in c]
    assert gateways
    for path, containers in gateways:
        assert "User" not in containers[ENVOY_CONTAINER_NAME], path
        assert _dropped(containers[ENVOY_CONTAINER_NAME]) == _default_dropped(), path


def test_the_xray_daemon_runs_read_only_without_capabilities(variants: Variants) -> None:
    daemons = [c[obs.XRAY_DAEMON_CONTAINER_NAME] for _, _, c in _task_definitions(variants("Observed"))]
    assert daemons
    for daemon in daemons:
        assert daemon["ReadonlyRootFilesystem"] is True
        assert daemon["User"] == "1337"
        assert _dropped(daemon) == ["ALL"]


def test_the_cloudwatch_agent_drops_the_default_capabilities_and_keeps_its_writable_root(
    mesh_shop: Synthesized,
) -> None:
    agents = [c[obs.CLOUDWATCH_AGENT_CONTAINER_NAME] for _, _, c in _task_definitions(mesh_shop)]
    assert agents
    for agent in agents:
        assert _dropped(agent) == _default_dropped()
        # It writes its translated configuration under /opt/aws/amazon-cloudwatch-agent (see the constant).
        assert "ReadonlyRootFilesystem" not in agent


def _image_text(image: Any) -> str:
    """A container's image as text, tokens shown as '?': ECR images are an Fn::Join of the registry and tag."""
    if isinstance(image, str):
        return image
    parts = image["Fn::Join"][1]
    return "".join(part if isinstance(part, str) else "?" for part in parts)


def test_the_sidecar_images_are_pinned_to_releases() -> None:
    assert obs.XRAY_DAEMON_IMAGE == "public.ecr.aws/xray/aws-xray-daemon:" + obs.XRAY_DAEMON_VERSION
    assert obs.CLOUDWATCH_AGENT_IMAGE == "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:" + (
        obs.CLOUDWATCH_AGENT_VERSION
    )
    for version in (obs.XRAY_DAEMON_VERSION, obs.CLOUDWATCH_AGENT_VERSION):
        assert version[0].isdigit() and "." in version


def test_no_image_of_any_example_or_sidecar_is_latest(
    example_apps: dict[str, CheckedApp], mesh_shop_app: CheckedApp, variants: Variants
) -> None:
    synths = [synth for app in [*example_apps.values(), mesh_shop_app] for _, synth in app.stacks()]
    synths += [variants(name) for name in ("Observed", *HARDENED)]  # tracing: the X-Ray daemon
    images = [
        _image_text(container["Image"])
        for synth in synths
        for _, _, containers in _task_definitions(synth)
        for container in containers.values()
    ]
    assert any(image == obs.XRAY_DAEMON_IMAGE for image in images)
    assert any(image == obs.CLOUDWATCH_AGENT_IMAGE for image in images)
    assert [image for image in images if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]] == []


def _service(**options: Any) -> None:
    stack = cdk.Stack(cdk.App(), "Bad", env=ENV)
    cluster = MeshedCluster(stack, "Cluster", namespace="bad.local", data_plane=DataPlane.service_connect())
    image = ecs.ContainerImage.from_registry(NGINX)
    try:
        MeshedService(stack, "Api", cluster=cluster, name="api", image=image, **options)
    finally:
        assert stack.node.try_find_child("Api") is None  # refused before any construct exists


@pytest.mark.parametrize(
    ("security", "kind", "message"),
    [
        ("read-only", TypeError, "container_security='read-only' is a str; pass a ContainerSecurity"),
        (
            ContainerSecurity(writable_paths=["/tmp"]),
            ValueError,
            "container_security.writable_paths=['/tmp'] is given while readonly_root_filesystem=False",
        ),
        (
            ContainerSecurity(readonly_root_filesystem=True, writable_paths=["tmp"]),
            ValueError,
            "container_security.writable_paths[0]='tmp' is not an absolute path",
        ),
        (
            ContainerSecurity(readonly_root_filesystem=True, writable_paths=["/tmp", "/tmp"]),
            ValueError,
            "container_security.writable_paths[1]='/tmp' is listed twice",
        ),
        (
            ContainerSecurity(readonly_root_filesystem=True, writable_paths="/tmp"),
            TypeError,
            "container_security.writable_paths='/tmp' is not a list",
        ),
        (ContainerSecurity(user="app user"), ValueError, "container_security.user='app user' is not a user ECS"),
        (ContainerSecurity(user=1000), TypeError, "container_security.user=1000 is an int; pass a str"),  # type: ignore[arg-type]
        (
            ContainerSecurity(drop_capabilities=["NET_RAW"]),  # type: ignore[list-item]
            TypeError,
            "container_security.drop_capabilities[0]='NET_RAW' is a str; pass an ecs.Capability",
        ),
        (
            ContainerSecurity(readonly_root_filesystem="yes"),  # type: ignore[arg-type]
            TypeError,
            "container_security.readonly_root_filesystem='yes' is a str; pass a bool",
        ),
    ],
)
def test_bad_container_security_is_refused_by_name(security: object, kind: type[Exception], message: str) -> None:
    with pytest.raises(kind) as raised:
        _service(container_security=security)
    assert message in str(raised.value)


def test_every_container_security_problem_is_reported_at_once() -> None:
    bad = ContainerSecurity(writable_paths=["relative"], user="", drop_capabilities=[None])  # type: ignore[list-item]
    with pytest.raises(TypeError) as raised:
        _service(container_security=bad, allow_all_outbound="yes")
    message = str(raised.value)
    for part in ("writable_paths=['relative'] is given", "writable_paths[0]='relative'", "user=''", "[0]=None"):
        assert part in message
    assert "allow_all_outbound='yes' is a str; pass a bool" in message
