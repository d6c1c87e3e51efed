"""Durations compared in Python, each read from jsii once.

``Duration.to_milliseconds()`` is a jsii round trip. Every service compares the same few Duration
objects (the defaults of ``RoutePolicy`` and AWS's listener defaults), so their values are kept
here, by object: 200 services then cost a handful of calls instead of thousands.
"""

from __future__ import annotations

import functools

from aws_cdk import Duration

from .options import ListenerProtocol, RoutePolicy


@functools.cache
def milliseconds(duration: Duration) -> float:
    """``duration.to_milliseconds()``, asked of jsii once per Duration object (they are immutable)."""
    return duration.to_milliseconds()


def longer(duration: Duration, than: Duration) -> bool:
    """Whether ``duration`` is longer than ``than``."""
    return milliseconds(duration) > milliseconds(than)


def longest(*durations: Duration) -> Duration:
    """The longest of ``durations`` (the first of equals)."""
    return max(durations, key=milliseconds)


@functools.cache
def idle_timeout(policy: RoutePolicy, protocol: ListenerProtocol) -> Duration:
    """``policy.effective_idle_timeout(protocol)``, worked out once per distinct policy."""
    return policy.effective_idle_timeout(protocol)
