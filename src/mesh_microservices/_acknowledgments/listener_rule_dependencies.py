"""cfn-lint W3005 (obsolete DependsOn) on an ECS service that ECS shifts an ALB's traffic for.

aws-cdk-lib makes a load-balanced ECS service depend on the listener rules that forward to its
target group, so that the group is attached first; the service's ``AdvancedConfiguration``
references the production and test rules too, which cfn-lint reports as an obsolete DependsOn.
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs

from .core import ignore_cfn_lint
from .custom_resource_provider import OBSOLETE_DEPENDS_ON_CHECK


def acknowledge_listener_rule_dependencies(service: ecs.FargateService) -> None:
    """Have cfn-lint skip W3005 on ``service``, whose load balancer entry has an alternate target group.

    Args:
        service: The ECS service ECS shifts traffic for.
    """
    ignore_cfn_lint(service, OBSOLETE_DEPENDS_ON_CHECK)
