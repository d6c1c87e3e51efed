"""Cloud Map registration facts shared by the data planes."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery

# Short enough that replaced tasks drop out of callers' caches quickly.
DNS_TTL = Duration.seconds(10)


def dns_record_type(network_mode: ecs.NetworkMode) -> servicediscovery.DnsRecordType:
    """The record type a task's network mode needs: A for awsvpc, SRV for bridge and host."""
    if network_mode == ecs.NetworkMode.AWS_VPC:
        return servicediscovery.DnsRecordType.A
    return servicediscovery.DnsRecordType.SRV


def cloud_map_options(
    name: str, namespace: servicediscovery.INamespace, network_mode: ecs.NetworkMode
) -> ecs.CloudMapOptions:
    """Register an ECS service's tasks as ``name`` in ``namespace``."""
    return ecs.CloudMapOptions(
        name=name,
        cloud_map_namespace=namespace,
        dns_record_type=dns_record_type(network_mode),
        dns_ttl=DNS_TTL,
    )
