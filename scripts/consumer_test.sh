#!/usr/bin/env bash
# Tests the package as a user gets it: builds the sdist and, from it, the
# wheel; checks their metadata; installs the wheel into a fresh venv outside
# the repository; and synthesizes a small CDK app that uses the library the
# way its README does, with the repository's CDK CLI. Fails if the wheel
# misses a file, a dependency or its py.typed marker.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log="$work/log"

# Runs a command quietly; shows its output if it fails.
quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "consumer test: FAILED: $*" >&2
    exit 1
  fi
}

echo "consumer test: build sdist and wheel"
# python -m build makes the wheel from the sdist, so both are checked.
quietly python -m build --outdir "$work/dist" .
quietly twine check --strict "$work"/dist/*
wheel="$(ls "$work"/dist/*.whl)"
python - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for required in ("mesh_microservices/__init__.py", "mesh_microservices/py.typed"):
    if required not in names:
        sys.exit(f"consumer test: the wheel lacks {required}")
PY

echo "consumer test: install $(basename "$wheel") into a new venv"
# The machine's python3, not the project's venv (first on PATH).
base_python="$(PATH="${PATH//"$ROOT/.venv/bin:"/}" command -v python3)"
quietly "$base_python" -m venv "$work/venv"
quietly "$work/venv/bin/python" -m pip install "$wheel"
quietly "$work/venv/bin/python" -m pip check

echo "consumer test: synthesize an app that uses the installed package"
mkdir -p "$work/app/orders"
# The README's quick start: orders is built from orders/Dockerfile by the CDK CLI (an asset).
echo "FROM public.ecr.aws/nginx/nginx:1.27" >"$work/app/orders/Dockerfile"
cat >"$work/app/app.py" <<'PY'
"""A user's app, as README's quick start: two services on the default data plane, web calls orders."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs

from mesh_microservices import MeshedCluster, MeshedService

HERE = Path(__file__).parent

app = cdk.App()
stack = cdk.Stack(
    app, "ConsumerShop", env=cdk.Environment(account="123456789012", region="eu-west-1")
)
cluster = MeshedCluster(stack, "Cluster", namespace="shop.local")
orders = MeshedService(
    stack,
    "Orders",
    cluster=cluster,
    name="orders",
    image=ecs.ContainerImage.from_asset(str(HERE / "orders")),
    port=8080,
)
web = MeshedService(
    stack,
    "Web",
    cluster=cluster,
    name="web",
    image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27"),
    port=80,
)
web.connect_to(orders)
app.synth()
PY
# The app runs with the consumer venv's python. The availability zones are
# given as context, as a committed cdk.context.json would, so that synth
# needs no AWS account.
cat >"$work/app/cdk.json" <<JSON
{
  "app": "$work/venv/bin/python app.py",
  "context": {
    "availability-zones:account=123456789012:region=eu-west-1": [
      "eu-west-1a",
      "eu-west-1b",
      "eu-west-1c"
    ]
  }
}
JSON
(cd "$work/app" && cdk synth --quiet "${CDK_FLAGS[@]}" --output cdk.out)
python "$ROOT/scripts/summarize_cdk_out.py" --require-type AWS::ECS::Service "$work/app/cdk.out"

echo "consumer test: type-check the app against the installed package"
# mypy finds the package's types only through its py.typed marker.
(cd "$work/app" && mypy --strict --python-executable "$work/venv/bin/python" \
  --no-incremental app.py)
