# shellcheck shell=bash
# Sourced by the other scripts (and by hand: `source scripts/env.sh`).
# Puts the project's own tools first on PATH and keeps the CDK CLI offline.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Node 22 from the npm package `node` (the machine's Node 20 is end-of-life
# for jsii, which then prints a banner on every `import aws_cdk`), the CDK CLI,
# then the project's venv.
export PATH="$ROOT/node_modules/.bin:$ROOT/.venv/bin:$PATH"

# The CDK CLI would otherwise send telemetry and fetch notices over the
# network on every command; `--no-notices` (CDK_FLAGS) turns the notices off.
export CDK_DISABLE_CLI_TELEMETRY=true
CDK_FLAGS=(--no-notices)
# No AWS SDK call may fall back to the EC2 instance metadata endpoint.
export AWS_EC2_METADATA_DISABLED=true

# pip: no version check, no progress bars in logs.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off
