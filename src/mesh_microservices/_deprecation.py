"""Parameters renamed to aws-cdk-lib's spelling: the old name works, with a warning, until 2.0."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TypeVar

from ._validate import ValidationProblems

T = TypeVar("T")

# The release that drops the deprecated names.
REMOVED_IN = "2.0"
# Frames in these directories are the library's or jsii's: the warning points past them, at the caller.
_LIBRARY = str(Path(__file__).parent)


def renamed(
    problems: ValidationProblems, *, old: str, old_value: T | None, new: str, new_value: T | None
) -> tuple[str, T | None]:
    """The name a renamed parameter was given under, and its value (None when under neither).

    A value under ``old`` warns with a ``DeprecationWarning`` naming ``new``; values under both
    names are a problem naming both.
    """
    if old_value is None:
        return new, new_value
    if new_value is not None:
        problems.add(
            f"{old}={old_value!r} and {new}={new_value!r} are both given; {old} is the deprecated name of "
            f"{new}. Pass {new} only."
        )
        return new, new_value
    warnings.warn(
        f"{old} is deprecated: use {new}, aws-cdk-lib's name; {old} is removed in {REMOVED_IN}.",
        DeprecationWarning,
        stacklevel=_caller_level(),
    )
    return old, old_value


def _caller_level() -> int:
    """The stack level of the first frame outside this library and jsii: the application's call."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and (
        frame.f_code.co_filename.startswith(_LIBRARY) or "jsii" in Path(frame.f_code.co_filename).parts
    ):
        frame, level = frame.f_back, level + 1
    return level
