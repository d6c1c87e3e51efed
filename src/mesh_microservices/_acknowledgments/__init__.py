"""Scanner findings that the library's design causes, acknowledged where they arise, with one reason.

Laid out like cdk-nag's rules: one module per finding kind, holding its rule ids (cdk-nag's
AwsSolutions, checkov's, cfn-lint's), its reason and its predicate, over ``core``'s one
``acknowledge`` call, which writes the cdk-nag acknowledgment and the resource's checkov metadata
with the same reason text.

Each acknowledgment covers only resources the library created and checked, so
``Validations.of(app).add_plugins(AwsSolutionsChecks(app))`` leaves an application only the
findings of its own choices. One-off resources (a load balancer's group, its log bucket, a role)
are acknowledged on the resource itself; a task definition's findings are decided from the
synthesized template (``task_findings``). Every other finding is fixed in the constructs' defaults.
"""

from __future__ import annotations

from .access_log_bucket import CHECKOV_ACCESS_LOGGING, SERVER_ACCESS_LOGS_RULE, acknowledge_access_log_bucket
from .container_environment import CONTAINER_ENVIRONMENT_RULE, acknowledge_sidecar_environment
from .core import AWS_SOLUTIONS_PLUGIN, CFN_LINT_METADATA, CHECKOV_METADATA, acknowledge
from .custom_resource_provider import acknowledge_custom_resource_provider
from .default_encryption import (
    CHECKOV_ECR_KMS,
    CHECKOV_LOG_GROUP_KMS,
    acknowledge_default_image_encryption,
    acknowledge_default_log_encryption,
)
from .listener_rule_dependencies import acknowledge_listener_rule_dependencies
from .managed_policies import AWS_MANAGED_POLICIES, LAMBDA_BASIC_EXECUTION_POLICY, acknowledge_aws_managed_policy
from .plain_http_listener import acknowledge_plain_http_listener
from .public_load_balancer import CHECKOV_OPEN_PORT_80, OPEN_INGRESS_RULE, acknowledge_public_load_balancer
from .task_findings import acknowledge_task_findings
from .wildcard_resources import UNSCOPABLE_ACTIONS, WILDCARD_RESOURCE_RULE, acknowledge_load_balancer_reads

__all__ = [
    "AWS_MANAGED_POLICIES",
    "AWS_SOLUTIONS_PLUGIN",
    "CFN_LINT_METADATA",
    "CHECKOV_ACCESS_LOGGING",
    "CHECKOV_ECR_KMS",
    "CHECKOV_LOG_GROUP_KMS",
    "CHECKOV_METADATA",
    "CHECKOV_OPEN_PORT_80",
    "CONTAINER_ENVIRONMENT_RULE",
    "LAMBDA_BASIC_EXECUTION_POLICY",
    "OPEN_INGRESS_RULE",
    "SERVER_ACCESS_LOGS_RULE",
    "UNSCOPABLE_ACTIONS",
    "WILDCARD_RESOURCE_RULE",
    "acknowledge",
    "acknowledge_access_log_bucket",
    "acknowledge_aws_managed_policy",
    "acknowledge_custom_resource_provider",
    "acknowledge_default_image_encryption",
    "acknowledge_default_log_encryption",
    "acknowledge_listener_rule_dependencies",
    "acknowledge_load_balancer_reads",
    "acknowledge_plain_http_listener",
    "acknowledge_public_load_balancer",
    "acknowledge_sidecar_environment",
    "acknowledge_task_findings",
]
