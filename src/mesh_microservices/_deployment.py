"""Rolling-deployment limits for meshed services (AWS App Mesh best practices)."""

from aws_cdk import Token

# Never take a healthy task away before its replacement is up.
MIN_HEALTHY_PERCENT = 100


def max_healthy_percent(desired_count: int) -> int:
    """The largest share of tasks ECS may run during a deployment.

    AWS recommends 125 %, and 150 % for two or three tasks; ECS rounds the task count down,
    so a single task needs 200 % to be replaced at all while keeping 100 % healthy. A count
    known only at deployment (a token) may be one task: it gets 200 %.
    """
    if desired_count <= 1 or (isinstance(desired_count, float) and Token.is_unresolved(desired_count)):
        return 200
    if desired_count <= 3:
        return 150
    return 125
