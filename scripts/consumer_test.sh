#!/usr/bin/env bash
# Tests the package as a user gets it: builds the sdist and, from it, the
# wheel; checks their metadata; installs the wheel into two fresh venvs
# outside the repository, one with the oldest aws-cdk-lib and constructs that
# pyproject.toml allows (the floors of its dependencies, pinned) and one with
# the newest; and in each synthesizes a small CDK app that uses the library
# the way its README does, with the repository's CDK CLI. At the floor it
# also synthesizes every example, which use every feature, so that a floor
# too low to have an API the library calls fails here. Fails if the wheel
# misses a file, a dependency or its py.typed marker.
# pip keeps the downloaded wheels in its cache (~/.cache/pip): a second run
# downloads nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
# The venvs' python must import the installed wheel, never the work tree's src/.
unset PYTHONPATH
# As in the test suite: any use of a deprecated CDK API raises.
export JSII_DEPRECATED=fail

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

# The floors: each runtime dependency pinned to the lower bound pyproject.toml gives it.
mapfile -t floor_pins < <(python - <<'PY'
import re, tomllib
for requirement in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    match = re.fullmatch(r"(aws-cdk-lib|constructs)>=([^,]+)(,.*)?", requirement)
    if match:
        print(f"{match[1]}=={match[2]}")
PY
)
[[ ${#floor_pins[@]} == 2 ]] || { echo "consumer test: no aws-cdk-lib and constructs floors in pyproject.toml" >&2; exit 1; }

# The machine's python3, not the project's venv (first on PATH).
base_python="$(PATH="${PATH//"$ROOT/.venv/bin:"/}" command -v python3)"

# Makes venv $1 with the wheel and the pins that follow ($2...), and checks it.
install_wheel() {
  local venv="$1"; shift
  quietly "$base_python" -m venv "$venv"
  quietly "$venv/bin/python" -m pip install "$wheel" "$@"
  quietly "$venv/bin/python" -m pip check
  "$venv/bin/python" - <<'PY'
from importlib.metadata import version
import mesh_microservices
assert "site-packages" in mesh_microservices.__file__, mesh_microservices.__file__
print("consumer test:", ", ".join(f"{name} {version(name)}" for name in ("aws-cdk-lib", "constructs")))
PY
}

echo "consumer test: write an app that uses the package as README's quick start does"
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
# The availability zones are given as context, as a committed
# cdk.context.json would, so that synth needs no AWS account. Each synth runs
# the app with its venv's python (--app).
cat >"$work/app/cdk.json" <<JSON
{
  "context": {
    "availability-zones:account=123456789012:region=eu-west-1": [
      "eu-west-1a",
      "eu-west-1b",
      "eu-west-1c"
    ]
  }
}
JSON

# Synthesizes the app with the venv $1 into $2.
synth_app() {
  (cd "$work/app" && cdk synth --quiet "${CDK_FLAGS[@]}" --app "$1/bin/python app.py" --output "$2")
  python "$ROOT/scripts/summarize_cdk_out.py" --require-type AWS::ECS::Service "$2"
}

echo "consumer test: install $(basename "$wheel") with the floors ${floor_pins[*]}"
install_wheel "$work/venv-floor" "${floor_pins[@]}"
echo "consumer test: synthesize the app at the floors"
synth_app "$work/venv-floor" "$work/app/cdk.out-floor"
echo "consumer test: synthesize every example at the floors"
# The examples import the installed package; scripts/ gives their discovery.
PYTHONPATH="$ROOT/scripts" "$work/venv-floor/bin/python" - "$work/examples.out" <<'PY'
import sys
from pathlib import Path

import aws_cdk as cdk
from record_logical_ids import discover

for example in discover():
    app = cdk.App(outdir=str(Path(sys.argv[1]) / example.name))
    example.build(app, account=None)
    stacks = app.synth().stacks
    print(f"consumer test:   examples/{example.name}: {len(stacks)} stacks")
PY
rm -rf "$work/venv-floor"  # a venv with aws-cdk-lib is ~500 MB

echo "consumer test: install $(basename "$wheel") with the newest aws-cdk-lib"
install_wheel "$work/venv"
echo "consumer test: synthesize the app at the newest"
synth_app "$work/venv" "$work/app/cdk.out"

echo "consumer test: type-check the app against the installed package"
# mypy finds the package's types only through its py.typed marker.
(cd "$work/app" && mypy --strict --python-executable "$work/venv/bin/python" \
  --no-incremental app.py)
