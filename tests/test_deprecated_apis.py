"""The suite runs with JSII_DEPRECATED=fail: a deprecated aws-cdk-lib API used anywhere fails the tests.

conftest sets the variable before jsii starts; these tests prove it took effect in this process,
so the library's own calls (exercised by every other test) cannot use a deprecated API unnoticed.
"""

from __future__ import annotations

import os

import aws_cdk as cdk
import pytest


def test_the_environment_asks_jsii_to_fail_on_deprecated_apis() -> None:
    assert os.environ.get("JSII_DEPRECATED") == "fail"


def test_a_deprecated_api_raises_in_this_process() -> None:
    # SecretValue.plainText is deprecated in favour of unsafePlainText since aws-cdk-lib 2.0.
    with pytest.raises(RuntimeError, match="SecretValue#plainText is deprecated"):
        cdk.SecretValue.plain_text("not a secret")


def test_its_replacement_does_not() -> None:
    # The failure above comes from the deprecation, not from the call itself.
    assert cdk.SecretValue.unsafe_plain_text("not a secret") is not None
