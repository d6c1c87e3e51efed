"""CKV_AWS_2 and CKV_AWS_103: a plain HTTP or TCP listener, asked for with ``allow_plain_http=True``."""

from __future__ import annotations

from constructs import IConstruct

from .core import acknowledge

CHECKOV_HTTPS_LISTENER = "CKV_AWS_2"  # ALB listener protocol HTTPS
CHECKOV_LISTENER_TLS = "CKV_AWS_103"  # load balancer listener TLS 1.2 or later
PLAIN_HTTP_REASON = (
    "Plain HTTP (or TCP) on port 80 without a certificate, asked for with MeshIngress(allow_plain_http=True); "
    "give MeshIngress a certificate to serve HTTPS (or TLS) with TLS 1.2 or later instead."
)


def acknowledge_plain_http_listener(listener: IConstruct) -> None:
    """Acknowledge a listener without a certificate.

    Args:
        listener: The load balancer's listener on port 80, created without a certificate.
    """
    acknowledge(listener, PLAIN_HTTP_REASON, checkov=[CHECKOV_HTTPS_LISTENER, CHECKOV_LISTENER_TLS])
