"""AwsSolutions-EC23 and checkov's port 80 check: ingress from anywhere, on a public load balancer's group."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2

from .core import acknowledge, aws_solutions_rule

OPEN_INGRESS_RULE = aws_solutions_rule("AwsSolutions-EC23")
CHECKOV_OPEN_PORT_80 = "CKV_AWS_260"  # security group ingress from 0.0.0.0/0 to port 80
PLAIN_HTTP_PORT = 80


def open_port_checks(ports: Sequence[int]) -> list[str]:
    """The checkov checks a group open to the internet on ``ports`` fails: the port 80 one, if 80 is open."""
    return [CHECKOV_OPEN_PORT_80] if PLAIN_HTTP_PORT in ports else []


def public_load_balancer_reason(ports: Sequence[int]) -> str:
    """Why the group of a public load balancer open on ``ports`` admits the internet."""
    return (
        f"The group of a public load balancer: the internet reaches the listener ports "
        f"({', '.join(str(p) for p in ports)}) on purpose. Behind it only what it forwards to admits it, on those "
        "ports: the App Mesh gateway, which alone reaches the routed services, or on Service Connect the routed "
        "services themselves."
    )


def acknowledge_public_load_balancer(security_group: ec2.SecurityGroup, *, ports: Sequence[int]) -> None:
    """Acknowledge ingress from anywhere on a public load balancer's group.

    Args:
        security_group: The load balancer's own group, the only one the library opens to the internet.
        ports: The listener ports it opens.
    """
    acknowledge(
        security_group,
        public_load_balancer_reason(ports),
        cdk_nag=[OPEN_INGRESS_RULE],
        checkov=open_port_checks(ports),
    )
