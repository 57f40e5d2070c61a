"""Benchmark entry point: ``python benchmarks/run.py [--quick] [--out DIR] [--module NAME=PATH]``.

Builds the variants (no filter, a C floor filter, the Python filter, an AssemblyScript SDK
filter, and the peers: Envoy's Lua filter and an ext_proc server in Python), runs each in Envoy
(``--concurrency 1``, pinned to core 0; wrk pinned to core 1) in interleaved rounds, and prints
a table of medians; writes ``results.json`` and ``results.png``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from wasmtime import Trap, WasmtimeError

from benchmarks import report
from benchmarks.fuel import fuel_per_callback
from benchmarks.load import run_wrk
from benchmarks.proxy import PinnedEnvoy
from benchmarks.setup_tools import ensure_wrk
from benchmarks.variants import Variant, build_variants

DEFAULT_OUT = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Plan:
    """How long and how often to measure."""

    rounds: int
    seconds: float
    extra_starts: int
    warmup_seconds: float


QUICK = Plan(rounds=3, seconds=3, extra_starts=1, warmup_seconds=1)
FULL = Plan(rounds=7, seconds=10, extra_starts=4, warmup_seconds=2)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _machine() -> dict[str, Any]:
    model = ""
    for line in subprocess.run(["lscpu"], capture_output=True, text=True,
                               check=False).stdout.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    return {"cpu_model": model, "cpus": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}


def _check_header(envoy: PinnedEnvoy) -> None:
    """Fail early if a filter variant does not do its work (set x-bench)."""
    with urllib.request.urlopen(envoy.url, timeout=5) as response:
        value = response.headers.get("x-bench")
    if envoy.variant.filtered and value != "path":
        raise RuntimeError(f"{envoy.variant.name}: response has x-bench={value!r}, want 'path'")


def _cpu_rounds(variants: list[Variant], plan: Plan, wrk: str, work: Path,
                figures: dict[str, dict[str, list[float]]]) -> None:
    """Keep one Envoy per variant up and interleave wrk runs across them, round by round."""
    envoys = [PinnedEnvoy(variant, work) for variant in variants]
    try:
        for envoy in envoys:
            envoy.start()
            figures[envoy.variant.name]["load_seconds"].append(envoy.load_seconds)
            figures[envoy.variant.name]["load_cpu_seconds"].append(envoy.load_cpu_seconds)
            _check_header(envoy)
            run_wrk(wrk, envoy.url, plan.warmup_seconds)
        for round_number in range(plan.rounds):
            order = envoys if round_number % 2 == 0 else envoys[::-1]
            for envoy in order:
                before = envoy.cpu_seconds()
                faults_before = envoy.minor_faults()
                server_before = envoy.server_cpu_seconds()
                result = run_wrk(wrk, envoy.url, plan.seconds)
                cpu = envoy.cpu_seconds() - before
                faults = envoy.minor_faults() - faults_before
                server_after = envoy.server_cpu_seconds()
                if result.errors:
                    print(f"warning: {envoy.variant.name}: {result.errors} errors in a round",
                          file=sys.stderr)
                row = figures[envoy.variant.name]
                row["cpu_us_per_request"].append(cpu / result.requests * 1e6)
                row["minor_faults_per_1k_requests"].append(faults / result.requests * 1e3)
                row["requests_per_second"].append(result.requests_per_second)
                row["p50_ms"].append(result.p50_ms)
                row["p99_ms"].append(result.p99_ms)
                if server_before is not None and server_after is not None:
                    row["server_cpu_us_per_request"].append(
                        (server_after - server_before) / result.requests * 1e6)
            print(f"round {round_number + 1}/{plan.rounds} done", file=sys.stderr)
        for envoy in envoys:
            figures[envoy.variant.name]["rss_mib_concurrency_1"].append(envoy.rss_mib())
            server_rss = envoy.server_rss_mib()
            if server_rss is not None:
                figures[envoy.variant.name]["server_rss_mib"].append(server_rss)
            started = envoy.vm_to_first_callback()
            if started is not None:
                figures[envoy.variant.name]["vm_to_first_callback_seconds"].append(started)
    finally:
        for envoy in envoys:
            envoy.stop()


def _start_samples(variants: list[Variant], plan: Plan, wrk: str, work: Path,
                   figures: dict[str, dict[str, list[float]]]) -> None:
    """Fresh starts, interleaved: load time at concurrency 1, RSS at concurrency 2."""
    for _ in range(plan.extra_starts):
        for variant in variants:
            with PinnedEnvoy(variant, work) as envoy:
                figures[variant.name]["load_seconds"].append(envoy.load_seconds)
                figures[variant.name]["load_cpu_seconds"].append(envoy.load_cpu_seconds)
                started = envoy.vm_to_first_callback()
                if started is not None:
                    figures[variant.name]["vm_to_first_callback_seconds"].append(started)
            with PinnedEnvoy(variant, work, concurrency=2) as envoy:
                run_wrk(wrk, envoy.url, plan.warmup_seconds)
                figures[variant.name]["rss_mib_concurrency_2"].append(envoy.rss_mib())


def measure(plan: Plan, out: Path, extra: Sequence[Variant] = (),
            compare_release: bool = False, only: Sequence[str] = ()) -> dict[str, Any]:
    """Run the whole benchmark, with ``extra`` module variants beside the built ones (only
    those named in ``only`` besides none, c_floor and python, if given; and, with
    ``compare_release``, the Wasm ones and none again without the bootstrap's
    memory_allocator_manager, named NAME-keep), and return the summary written to results.json."""
    wrk = ensure_wrk()
    variants, notes = build_variants(out / "modules")
    if only:
        variants = [variant for variant in variants
                    if variant.name in {"none", "c_floor", "python", *only}]
    variants.extend(extra)
    if compare_release:
        variants.extend(replace(variant, name=f"{variant.name}-keep", release_memory=False)
                        for variant in list(variants) if variant.peer is None)
    figures: dict[str, dict[str, list[float]]] = {
        variant.name: {key: [] for key in (
            "cpu_us_per_request", "minor_faults_per_1k_requests", "requests_per_second",
            "p50_ms", "p99_ms", "load_seconds",
            "load_cpu_seconds",
            "vm_to_first_callback_seconds", "rss_mib_concurrency_1", "rss_mib_concurrency_2",
            "server_cpu_us_per_request", "server_rss_mib")}
        for variant in variants
    }
    _cpu_rounds(variants, plan, wrk, out / "envoy", figures)
    _start_samples(variants, plan, wrk, out / "envoy", figures)
    results: dict[str, dict[str, Any]] = {}
    for variant in variants:
        row: dict[str, Any] = {key: _median(values)
                               for key, values in figures[variant.name].items()}
        row.update(variant.sizes())
        if variant.module is not None:
            try:
                fuel = fuel_per_callback(variant.module)
            except (Trap, WasmtimeError) as error:  # a peer SDK's trap is a note, not a stop
                notes.append(f"{variant.name}: fuel not measured ({str(error).splitlines()[0]})")
            else:
                row["fuel_per_callback"] = fuel
                row["fuel_per_request"] = fuel["total"]
        results[variant.name] = row
    baseline = results["none"]["cpu_us_per_request"]
    for row in results.values():
        row["added_cpu_us_per_request"] = row["cpu_us_per_request"] - baseline
        row["total_added_cpu_us_per_request"] = (row["added_cpu_us_per_request"]
                                                 + (row["server_cpu_us_per_request"] or 0.0))
    python = results["python"]
    floor_added = results["c_floor"]["added_cpu_us_per_request"]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick" if plan.seconds == QUICK.seconds else "full",
        "plan": {"rounds": plan.rounds, "seconds_per_run": plan.seconds,
                 "starts_per_variant": plan.extra_starts + 1},
        "machine": _machine(),
        "module_file_bytes": python["file_bytes"],
        "code_bytes": python["code_bytes"],
        "data_bytes": python["data_bytes"],
        "load_seconds": python["load_seconds"],
        "load_cpu_seconds": python["load_cpu_seconds"],
        "vm_to_first_callback_seconds": python["vm_to_first_callback_seconds"],
        "rss_mib_concurrency_1": python["rss_mib_concurrency_1"],
        "rss_mib_concurrency_2": python["rss_mib_concurrency_2"],
        "fuel_per_callback": python.get("fuel_per_callback"),
        "cpu_us_per_request": {name: row["cpu_us_per_request"] for name, row in results.items()},
        "python_over_floor_ratio": (python["added_cpu_us_per_request"] / floor_added
                                    if floor_added > 0 else None),
        "variants": results,
        "notes": notes,
    }


def _module_variant(text: str) -> Variant:
    """``NAME=PATH.wasm`` from the command line, as a variant run beside the others."""
    name, separator, path = text.partition("=")
    if not separator or not name or not Path(path).is_file():
        raise argparse.ArgumentTypeError(
            f"{text!r}: give NAME=PATH of an existing .wasm module, e.g. old=/tmp/old.wasm")
    return Variant(name, Path(path))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the table and write the JSON and PNG files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (under 3 minutes)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--module", type=_module_variant, action="append", default=[],
                        metavar="NAME=PATH",
                        help="also run this built module (same header work), side by side "
                             "with the others, e.g. a build of an older checkout")
    parser.add_argument("--compare-release", action="store_true",
                        help="also run no filter and each Wasm variant without the "
                             "bootstrap's memory_allocator_manager (as NAME-keep)")
    parser.add_argument("--only", default="", metavar="NAMES",
                        help="comma-separated built variants to run besides none, c_floor and "
                             "python (default: all), e.g. lua,ext_proc")
    parser.add_argument("--rounds", type=int, help="measuring rounds (default: 3 quick, 7 full)")
    args = parser.parse_args(argv)
    if (missing := report.chart_missing()) is not None:
        parser.error(missing)
    started = time.monotonic()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = replace(plan, rounds=args.rounds)
    summary = measure(plan, out, args.module, args.compare_release,
                      [name for name in args.only.split(",") if name])
    print(report.table(summary["variants"]))
    ratio = summary["python_over_floor_ratio"]
    print(f"\npython / C floor, added CPU per request: "
          f"{'-' if ratio is None else f'{ratio:.2f}'}")
    for note in summary["notes"]:
        print(f"note: {note}")
    report.write_json(out / "results.json", summary)
    report.write_chart(out / "results.png", summary["variants"])
    print(f"wrote {out / 'results.json'} and {out / 'results.png'} "
          f"in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
