"""How a container runs: read-only root file system, scratch volumes, user and Linux capabilities.

``ContainerSecurity`` is given to ``MeshedService(container_security=...)`` for the application
container of every version; the library's own sidecars take fixed settings from the constants
below, each as hardened as its image allows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import aws_ecs as ecs
from constructs import Construct

from ._validate import ValidationProblems, check_option, check_type, is_token, kind_of

# Capabilities a container keeps only if it must: raw sockets (forging packets inside the VPC,
# ping), device nodes, chroot, file capabilities and capability hand-over, audit records. Images
# that start as root and step down to a user (nginx, most distribution images), bind a port under
# 1024, or own their files at start still work: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
# SETUID, SETGID and NET_BIND_SERVICE stay.
DEFAULT_DROPPED_CAPABILITIES: tuple[ecs.Capability, ...] = (
    ecs.Capability.NET_RAW,
    ecs.Capability.MKNOD,
    ecs.Capability.SYS_CHROOT,
    ecs.Capability.SETFCAP,
    ecs.Capability.SETPCAP,
    ecs.Capability.AUDIT_WRITE,
)
# A process that runs as a user other than root has no effective capability: dropping them all
# only empties the bounding set, so set-uid files in the image cannot raise it back.
ALL_CAPABILITIES: tuple[ecs.Capability, ...] = (ecs.Capability.ALL,)
# A scratch volume: task-local storage (a Fargate bind mount without host path), empty at start.
SCRATCH_VOLUME_PREFIX = "scratch"
_CONTAINER_PATH = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
# "uid", "uid:gid", "user" or "user:group", as ECS takes it.
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$")


@dataclass(frozen=True, kw_only=True)
class ContainerSecurity:
    """How the application container runs: what it may write, as whom, with which capabilities.

    The defaults keep common images working; a platform that builds its own images should ask for
    more, e.g. ``ContainerSecurity(readonly_root_filesystem=True, writable_paths=["/tmp"],
    user="1000", drop_capabilities=[ecs.Capability.ALL])``.

    Attributes:
        readonly_root_filesystem: Whether the container's root file system is read-only, so that a
            compromised process cannot change the image's files. Default: False, because most
            images write somewhere (nginx its cache and pid file, JVMs and Python ``/tmp``); turn
            it on and list those places in ``writable_paths``.
        writable_paths: Absolute paths that stay writable under a read-only root file system: each
            becomes a scratch volume of the task (empty at start, gone with the task) mounted
            read-write there. Only with ``readonly_root_filesystem=True``. Fargate creates these
            volumes owned by root (mode 0755): a container that runs as another ``user`` writes to
            one only if its image declares that path with ``VOLUME`` as a directory the user owns
            (Fargate then fills the volume from it); try it on Fargate. Default: none.
        user: The user the container's processes run as, "uid", "uid:gid", "name" or
            "name:group", e.g. "1000". Default: None, the image's own ``USER`` (root when the
            image names none): forcing a uid breaks images whose files belong to their user.
        drop_capabilities: The Linux capabilities the container loses. Default:
            ``DEFAULT_DROPPED_CAPABILITIES`` (NET_RAW, MKNOD, SYS_CHROOT, SETFCAP, SETPCAP,
            AUDIT_WRITE), which no web service needs; ``[ecs.Capability.ALL]`` for an image that
            runs as a user other than root from the start. Fargate adds none back but SYS_PTRACE.
    """

    readonly_root_filesystem: bool = False
    writable_paths: Sequence[str] = ()
    user: str | None = None
    drop_capabilities: Sequence[ecs.Capability] = field(default=DEFAULT_DROPPED_CAPABILITIES)

    def _check(self, problems: ValidationProblems, where: str) -> None:
        """Record what is wrong with the fields, naming each as ``<where>.<field>``."""
        check_type(problems, f"{where}.readonly_root_filesystem", self.readonly_root_filesystem, bool)
        _check_paths(problems, f"{where}.writable_paths", self.writable_paths, self.readonly_root_filesystem)
        user = self.user
        checked = user is None or not check_type(problems, f"{where}.user", user, str) or is_token(user)
        if not checked and isinstance(user, str) and not _USER.match(user):
            problems.add(
                f"{where}.user={user!r} is not a user ECS can run as; pass a uid, 'uid:gid', a user name or "
                "'user:group', e.g. '1000'."
            )
        _check_capabilities(problems, f"{where}.drop_capabilities", self.drop_capabilities)


def _check_capabilities(problems: ValidationProblems, parameter: str, capabilities: object) -> None:
    if isinstance(capabilities, (str, bytes)) or not isinstance(capabilities, Sequence):
        problems.add(
            f"{parameter}={capabilities!r} is not a list; pass a list of ecs.Capability, e.g. [ecs.Capability.ALL].",
            kind=TypeError,
        )
        return
    for index, capability in enumerate(capabilities):
        if not isinstance(capability, ecs.Capability):
            problems.add(
                f"{parameter}[{index}]={capability!r} is {kind_of(capability)}; "
                "pass an ecs.Capability, e.g. ecs.Capability.NET_RAW.",
                kind=TypeError,
            )


def check_container_security(problems: ValidationProblems, parameter: str, value: object) -> None:
    """Record what is wrong with a ``ContainerSecurity``, naming each field."""
    check_option(problems, parameter, value, ContainerSecurity)


def _check_paths(problems: ValidationProblems, parameter: str, paths: object, readonly: object) -> None:
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence):
        problems.add(
            f"{parameter}={paths!r} is not a list; pass a list of absolute paths, e.g. ['/tmp'].", kind=TypeError
        )
        return
    if paths and readonly is False:
        problems.add(
            f"{parameter}={list(paths)!r} is given while readonly_root_filesystem=False, where every path is "
            "writable already; pass readonly_root_filesystem=True as well, or drop writable_paths."
        )
    seen: set[str] = set()
    for index, path in enumerate(paths):
        if not isinstance(path, str):
            problems.add(f"{parameter}[{index}]={path!r} is not a str; pass an absolute path.", kind=TypeError)
        elif not _CONTAINER_PATH.match(path):
            problems.add(
                f"{parameter}[{index}]={path!r} is not an absolute path of letters, digits, '.', '_' and '-' "
                "under '/' (not '/' itself, no trailing '/'); e.g. '/tmp' or '/var/cache/nginx'."
            )
        elif path in seen:
            problems.add(f"{parameter}[{index}]={path!r} is listed twice; list each path once.")
        else:
            seen.add(path)


def container_options(scope: Construct, security: ContainerSecurity, *, id: str) -> dict[str, Any]:
    """The ``add_container`` keyword arguments of ``security``: read-only root, user, dropped capabilities.

    Args:
        scope: Where the container's ``ecs.LinuxParameters`` construct is created.
        security: The checked settings.
        id: The id of that construct, unique in ``scope``.
    """
    linux_parameters = None
    if security.drop_capabilities:
        linux_parameters = ecs.LinuxParameters(scope, id)
        linux_parameters.drop_capabilities(*security.drop_capabilities)
    return {
        "readonly_root_filesystem": security.readonly_root_filesystem or None,  # ECS's default is writable
        "user": security.user,
        "linux_parameters": linux_parameters,
    }


def add_scratch_volumes(
    task_definition: ecs.TaskDefinition, container: ecs.ContainerDefinition, paths: Sequence[str]
) -> None:
    """Mount one empty task-local volume read-write at each of ``paths`` in ``container``."""
    for index, path in enumerate(paths):
        name = f"{container.container_name}-{SCRATCH_VOLUME_PREFIX}-{index}"
        task_definition.add_volume(name=name)
        container.add_mount_points(ecs.MountPoint(container_path=path, source_volume=name, read_only=False))
