"""The public side of a MeshIngress: an internet-facing load balancer, its security group, access logs and listener.

Only this is open to the internet. Its listener has no default action yet: the data plane puts
its targets behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from ._acknowledgments import (
    acknowledge_access_log_bucket,
    acknowledge_plain_http_listener,
    acknowledge_public_load_balancer,
)
from .options import IngressLoadBalancer

if TYPE_CHECKING:
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_s3 as s3

HTTP_PORT = 80
HTTPS_PORT = 443
# How long the ingress's own access-log bucket keeps a log, and a replaced or deleted version of one.
ACCESS_LOGS_EXPIRATION = Duration.days(365)
ACCESS_LOGS_NONCURRENT_EXPIRATION = Duration.days(30)


@dataclass(frozen=True, kw_only=True)
class PublicLoadBalancer:
    """The parts of an ingress the internet reaches (see MeshIngress's attributes of the same names)."""

    load_balancer_security_group: ec2.SecurityGroup
    access_logs_bucket: s3.IBucket
    load_balancer: elbv2.ApplicationLoadBalancer | elbv2.NetworkLoadBalancer
    listener: elbv2.ApplicationListener | elbv2.NetworkListener
    redirect_listener: elbv2.ApplicationListener | None
    public_ports: tuple[int, ...]


def add_public_load_balancer(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    kind: IngressLoadBalancer,
    certificate: acm.ICertificate | None,
    access_logs_bucket: s3.IBucket | None,
    expiration: Duration,
) -> PublicLoadBalancer:
    """The public load balancer of ``kind`` in ``scope``, its security group, access-log bucket and listeners.

    Without a certificate (``allow_plain_http=True``, checked) it serves plain HTTP or TCP on 80.
    """
    security_group = ec2.SecurityGroup(
        scope,
        "LoadBalancerSecurityGroup",
        vpc=vpc,
        description=f"{scope.node.path}: the public load balancer, open on its listener ports",
        allow_all_outbound=False,
    )
    bucket = access_logs_bucket or _access_logs_bucket(scope, expiration)
    if kind is IngressLoadBalancer.ALB:
        built = _application_load_balancer(scope, vpc, security_group, bucket, certificate)
    else:
        built = _network_load_balancer(scope, vpc, security_group, bucket, certificate)
    acknowledge_public_load_balancer(security_group, ports=list(built.public_ports))
    if certificate is None:  # allow_plain_http=True: checked
        acknowledge_plain_http_listener(built.listener)
    return built


def _access_logs_bucket(scope: Construct, expiration: Duration) -> s3.Bucket:
    # Imported when used: every aws_cdk module loaded delays each synth's start.
    from aws_cdk import aws_s3 as s3

    bucket = s3.Bucket(
        scope,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption ALB access logs support
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        removal_policy=RemovalPolicy.RETAIN,  # access logs are records to keep
        versioned=True,  # a deleted or overwritten log stays recoverable until its version expires
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireAccessLogs",
                expiration=expiration,
                noncurrent_version_expiration=ACCESS_LOGS_NONCURRENT_EXPIRATION,
            )
        ],
    )
    acknowledge_access_log_bucket(bucket)
    return bucket


def _application_load_balancer(
    scope: Construct,
    vpc: ec2.IVpc,
    security_group: ec2.SecurityGroup,
    bucket: s3.IBucket,
    certificate: acm.ICertificate | None,
) -> PublicLoadBalancer:
    """The ALB and its listener: HTTP on 80, or HTTPS on 443 with a redirect from 80."""
    alb = elbv2.ApplicationLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=vpc,
        internet_facing=True,
        security_group=security_group,
        drop_invalid_header_fields=True,
    )
    alb.log_access_logs(bucket)
    redirect: elbv2.ApplicationListener | None = None
    ports: tuple[int, ...]
    if certificate is None:
        listener = alb.add_listener("Http", port=HTTP_PORT, protocol=elbv2.ApplicationProtocol.HTTP, open=True)
        ports = (HTTP_PORT,)
    else:
        listener = alb.add_listener(
            "Https",
            port=HTTPS_PORT,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=True,
        )
        redirect = alb.add_redirect(source_port=HTTP_PORT, target_port=HTTPS_PORT, open=True)
        ports = (HTTP_PORT, HTTPS_PORT)
    return PublicLoadBalancer(
        load_balancer_security_group=security_group,
        access_logs_bucket=bucket,
        load_balancer=alb,
        listener=listener,
        redirect_listener=redirect,
        public_ports=ports,
    )


def _network_load_balancer(
    scope: Construct,
    vpc: ec2.IVpc,
    security_group: ec2.SecurityGroup,
    bucket: s3.IBucket,
    certificate: acm.ICertificate | None,
) -> PublicLoadBalancer:
    """The NLB and its listener: TCP on 80, or TLS on 443."""
    nlb = elbv2.NetworkLoadBalancer(
        scope, "LoadBalancer", vpc=vpc, internet_facing=True, security_groups=[security_group]
    )
    nlb.log_access_logs(bucket)
    listener: elbv2.NetworkListener
    if certificate is None:
        port = HTTP_PORT
        listener = nlb.add_listener("Tcp", port=port, protocol=elbv2.Protocol.TCP)
    else:
        port = HTTPS_PORT
        listener = nlb.add_listener(
            "Tls",
            port=port,
            protocol=elbv2.Protocol.TLS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
        )
    security_group.add_ingress_rule(
        ec2.Peer.any_ipv4(), ec2.Port.tcp(port), f"the internet to the public listener on {port}"
    )
    return PublicLoadBalancer(
        load_balancer_security_group=security_group,
        access_logs_bucket=bucket,
        load_balancer=nlb,
        listener=listener,
        redirect_listener=None,
        public_ports=(port,),
    )
