"""Synthesis benchmark: the library app against the hand-written one, for several sizes and call graphs.

Each measurement is a fresh ``python`` process that builds one app and calls ``app.synth()``
with the context the CDK CLI passes (what ``cdk synth`` runs, without the CLI's own start), so
it includes starting jsii and importing aws_cdk, as every real synth does. Both apps' sources
are compiled to bytecode first, as pip does when it installs a package, so no process spends
its time compiling them. Wall time is the whole process; CPU time is user + system of python
and its node child (which jsii waits for), steadier than wall time when other work shares the
machine; peak memory is the largest sum of VmRSS over the process tree, sampled every 50 ms.
The apps of a comparison run alternately, in turn first and second (A B, B A, ...), so a change in
load and any cost of running first hit both.

Usage: python benchmarks/run.py [--sizes 10,50,200] [--graphs chain,random] [--planes app-mesh,service-connect]
       [--repeat 3] [--src DIR] [--no-template-validation]

``--no-template-validation`` runs both apps as ``cdk synth --no-validation`` does: aws-cdk-lib's
own CloudFormation validation of the templates (a WebAssembly engine whose start costs several
seconds of CPU whichever app it validates, and varies most) is left out, to compare what the
apps themselves cost.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Each app: module and builder. "library" has the hand-written app's features; "library-defaults"
# (not run unless asked) takes every library default, to show what the defaults cost.
IMPLS = {
    "library": ("library_app", "build"),
    "library-defaults": ("library_app", "build_with_defaults"),
    "handwritten": ("handwritten", "build"),
    "library-connect": ("library_app", "build_service_connect"),
    "handwritten-connect": ("handwritten_connect", "build"),
}
# What is compared, per data plane: the library app and the hand-written app with the same resources.
PAIRS = {"app-mesh": ("library", "handwritten"), "service-connect": ("library-connect", "handwritten-connect")}
# The hand-written Service Connect app takes calls that go one way between stacks only.
PLANE_GRAPHS = {"app-mesh": {"chain", "random"}, "service-connect": {"chain"}}
# The context ``cdk synth`` hands an app (CDK_CONTEXT_JSON of CLI 2.1148): construct paths and
# asset metadata in templates, a CDK metadata resource per stack, and the validation report left
# for the CLI to print.
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}
SAMPLE_SECONDS = 0.05
# Every process measured, by (N, graph, app), in the order they ran.
EACH_RUN: dict[tuple[int, str, str], list[Run]] = {}
MIB = 1024 * 1024
# Targets the figures are checked against: the library's CPU time at most the hand-written app's.
MAX_TIME_RATIO = 1.00
MAX_PEAK_MIB_AT_200 = 2048
# "linear": per-service time of the largest step at most 1.5x the smallest; a step may cost less
# per service than the one before (at most linear), never 1.5x more.
MAX_SLOPE_SPREAD = 1.5


@dataclass(frozen=True)
class Run:
    """One process: its wall and CPU time, peak memory, and the resources (by type) and template bytes it wrote."""

    seconds: float
    cpu_seconds: float
    peak_mib: float
    types: Counter[str]
    template_bytes: int


def child(impl: str, n: int, graph: str, outdir: str) -> None:
    """In the measured process: build one app and synthesize it (impl "none": only start jsii)."""
    import aws_cdk as cdk
    from aws_cdk import aws_appmesh, aws_ec2, aws_ecr, aws_ecs, aws_iam, aws_logs, aws_servicediscovery  # noqa: F401

    if impl == "none":
        return
    from importlib import import_module

    from graphs import GRAPHS

    app = cdk.App(outdir=outdir, context=CLI_CONTEXT)
    module, builder = IMPLS[impl]
    getattr(import_module(module), builder)(app, n, GRAPHS[graph](n))
    app.synth()


def tree_rss_bytes(root: int) -> int:
    """The summed resident memory of ``root`` and all its descendants, now."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                # Field 4 of /proc/PID/stat is the parent; the command name before it may hold spaces.
                ppid = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
            children.setdefault(ppid, []).append(int(entry.name))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, ()))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def measure(impl: str, n: int, graph: str, src: Path, *, validation: bool = True) -> Run:
    """Run one measured process and return its figures; exit with its output if it fails.

    ``validation=False`` runs it as ``cdk synth --no-validation`` does (CDK_VALIDATION=false).
    """
    outdir = tempfile.mkdtemp(prefix="bench-cdk-out-")
    # PYTHONPATH comes before site-packages: ``src`` wins over an installed mesh_microservices.
    env = {
        **os.environ,
        "JSII_DEPRECATED": "fail",
        "PYTHONPATH": os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH")) if p),
        **({} if validation else {"CDK_VALIDATION": "false"}),
    }
    command = [sys.executable, str(HERE / "run.py"), "--child", impl, str(n), graph, outdir]
    peak = 0
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_bytes(process.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4, not wait(): its usage includes the node child that python waited for.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start  # before joining the sampler: its last sleep is not ours
        code = process.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        if code != 0:
            output.seek(0)
            sys.exit(f"{impl} N={n} {graph} failed ({code}):\n{output.read().decode()[-4000:]}")
    types: Counter[str] = Counter()
    template_bytes = 0
    for template in Path(outdir).glob("*.template.json"):
        text = template.read_text()
        template_bytes += len(text.encode())
        types.update(r["Type"] for r in json.loads(text).get("Resources", {}).values())
    shutil.rmtree(outdir)
    return Run(seconds, usage.ru_utime + usage.ru_stime, peak / MIB, types, template_bytes)


def median_runs(
    impls: list[str], n: int, graph: str, repeat: int, src: Path, *, validation: bool = True
) -> dict[str, Run]:
    """Per app, the medians of ``repeat`` processes, the apps taking turns (first in every other round)."""
    runs: dict[str, list[Run]] = {impl: [] for impl in impls}
    for round_number in range(repeat):
        for impl in impls if round_number % 2 == 0 else reversed(impls):
            runs[impl].append(measure(impl, n, graph, src, validation=validation))
    for impl, rs in runs.items():
        EACH_RUN[n, graph, impl] = rs
    return {
        impl: Run(
            seconds=statistics.median(r.seconds for r in rs),
            cpu_seconds=statistics.median(r.cpu_seconds for r in rs),
            peak_mib=statistics.median(r.peak_mib for r in rs),
            types=rs[0].types,  # the same templates every time
            template_bytes=rs[0].template_bytes,
        )
        for impl, rs in runs.items()
    }


def slope(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares (intercept, seconds per service) of time against N."""
    if len(points) < 2:
        return (points[0][1] if points else 0.0), 0.0
    fit = statistics.linear_regression([p[0] for p in points], [p[1] for p in points])
    return fit.intercept, fit.slope


def verdict(n: int, ratio: float) -> str:
    """Whether a library/hand-written time ratio meets the target (checked from N=50 on)."""
    return "-" if n < 50 else "ok" if ratio <= MAX_TIME_RATIO else "OVER"


def linearity(points: list[tuple[int, float]]) -> str:
    """The fitted per-service cost and fixed cost, each step's per-service cost, and a verdict."""
    intercept, per_service = slope(points)
    steps = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(points)]
    if len(steps) < 2:
        verdict = "one step: no verdict"
    elif min(steps) <= 0:
        verdict = "a step does not grow: noise"  # another process took the CPU from a smaller size
    elif max(steps) / min(steps) <= MAX_SLOPE_SPREAD:
        verdict = "linear"
    elif all(later <= MAX_SLOPE_SPREAD * earlier for earlier, later in itertools.pairwise(steps)):
        verdict = "at most linear: later services cost less"  # aws-cdk-lib's code warms up
    else:
        verdict = "NOT linear"
    shown = ", ".join(f"{s * 1000:.1f}" for s in steps) or "-"
    return f"{per_service * 1000:6.1f} ms/service + {intercept:5.2f} s; steps {shown} ms/service ({verdict})"


def main() -> None:
    """Measure every (N, graph, plane) pair of apps and print the figures, the slopes and the checks."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,50,200", help="service counts N, comma-separated")
    parser.add_argument("--graphs", default="chain,random", help="call graphs: chain, random")
    parser.add_argument("--planes", default="app-mesh,service-connect", help="data planes: app-mesh, service-connect")
    parser.add_argument("--repeat", type=int, default=3, help="processes per figure; the median is reported")
    parser.add_argument(
        "--src",
        type=Path,
        default=HERE.parent / "src",
        help="folder holding the mesh_microservices package to measure (default: this checkout's src)",
    )
    parser.add_argument(
        "--no-template-validation",
        action="store_true",
        help="run both apps as `cdk synth --no-validation` does, without aws-cdk-lib's CloudFormation validation",
    )
    parser.add_argument("--child", nargs=4, metavar=("IMPL", "N", "GRAPH", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        impl, n, graph, outdir = args.child
        child(impl, int(n), graph, outdir)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    cases = [
        (n, graph, plane)
        for n in sizes
        for graph in args.graphs.split(",")
        for plane in args.planes.split(",")
        if graph in PLANE_GRAPHS[plane]
    ]
    validation = not args.no_template_validation
    print(f"library: {args.src.resolve() / 'mesh_microservices'}")
    if not validation:
        print("aws-cdk-lib's CloudFormation validation of the templates: off (CDK_VALIDATION=false)")
    # Bytecode for both apps, as pip writes it at install: no process compiles its sources.
    for folder in (args.src, HERE):
        compileall.compile_dir(folder, quiet=1)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other work skews wall time)")
    fixed = median_runs(["none"], 0, "chain", args.repeat, args.src, validation=validation)["none"]
    print(
        f"fixed cost (start jsii, import aws_cdk): {fixed.seconds:.2f} s wall, {fixed.cpu_seconds:.2f} s CPU,"
        f" {fixed.peak_mib:.0f} MiB\n",
        flush=True,
    )
    print(
        f"{'N':>5} {'graph':<7} {'plane':<16} {'lib CPU s':>9} {'hand CPU s':>10} {'CPU ratio':>9}"
        f" {'lib wall s':>10} {'hand wall s':>11} {'peak MiB lib/hand':>17} {'res/svc':>7}"
        f" {'template KB lib/hand':>20}",
        flush=True,
    )
    results: dict[tuple[int, str, str], tuple[Run, Run]] = {}
    for n, graph, plane in cases:
        library, handwritten = PAIRS[plane]
        runs = median_runs([library, handwritten], n, graph, args.repeat, args.src, validation=validation)
        lib, hand = results[n, graph, plane] = runs[library], runs[handwritten]
        if lib.types != hand.types:  # the comparison only holds for the same resources
            diff = {
                t: lib.types[t] - hand.types[t] for t in sorted(lib.types | hand.types) if lib.types[t] != hand.types[t]
            }
            sys.exit(f"N={n} {graph} {plane}: the apps' resources differ (library minus hand-written): {diff}")
        print(
            f"{n:>5} {graph:<7} {plane:<16} {lib.cpu_seconds:>9.2f} {hand.cpu_seconds:>10.2f}"
            f" {lib.cpu_seconds / hand.cpu_seconds:>9.3f} {lib.seconds:>10.2f} {hand.seconds:>11.2f}"
            f" {f'{lib.peak_mib:.0f} / {hand.peak_mib:.0f}':>17} {sum(lib.types.values()) / n:>7.2f}"
            f" {f'{lib.template_bytes / 1024:.0f} / {hand.template_bytes / 1024:.0f}':>20}",
            flush=True,
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print("\npaired CPU ratios (each library run over the hand-written run of its round), and their median:")
    for n, graph, plane in cases:
        library, handwritten = PAIRS[plane]
        pairs = zip(EACH_RUN[n, graph, library], EACH_RUN[n, graph, handwritten], strict=True)
        ratios = [lib.cpu_seconds / hand.cpu_seconds for lib, hand in pairs]
        shown = " ".join(f"{r:.3f}" for r in ratios)
        print(f"  N={n} {graph} {plane}: {shown}; median {statistics.median(ratios):.3f}")
    if len(sizes) > 1:
        print("\nper-service CPU slope (least squares over N, and of each step between sizes):")
        for graph, plane in dict.fromkeys((graph, plane) for _, graph, plane in cases):
            for impl, index in zip(PAIRS[plane], (0, 1), strict=True):
                points = [(n, results[n, graph, plane][index].cpu_seconds) for n in sizes]
                print(f"  {graph:<7} {impl:<20} {linearity(points)}")
    print(f"\nchecks (CPU ratio <= {MAX_TIME_RATIO} at N >= 50; peak < {MAX_PEAK_MIB_AT_200} MiB at N >= 200):")
    for (n, graph, plane), (lib, hand) in results.items():
        cpu_ratio = lib.cpu_seconds / hand.cpu_seconds
        peak = (
            f"; peak {lib.peak_mib:.0f} / {hand.peak_mib:.0f} MiB"
            f" {'ok' if max(lib.peak_mib, hand.peak_mib) < MAX_PEAK_MIB_AT_200 else 'OVER'}"
            if n >= 200
            else ""
        )
        print(f"  N={n} {graph} {plane}: CPU ratio {cpu_ratio:.3f} {verdict(n, cpu_ratio)}; same resources{peak}")


if __name__ == "__main__":
    main()
