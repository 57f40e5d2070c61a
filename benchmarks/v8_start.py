"""Where a module's start goes under V8: ``benchmarks/v8_start.py A.wasm B.wasm ...``.

Envoy's V8 runs with ``--no-liftoff``: TurboFan compiles every function before the plugin
serves, then each VM (the base VM, two on the main thread, one per worker: four at
concurrency 1, see footprint.py's ``vms_c1``) runs the module's start function (expanding the
compressed snapshot) and the SDK's start callbacks. This splits that work with Node's V8
(older than Envoy's, same TurboFan; one thread, so CPU is the work): TurboFan's compile CPU
and the zone memory it allocates (deterministic: a steadier figure of its work than time on a
shared machine), one instantiation (the start function), Liftoff's compile for comparison,
and, with Wasmtime fuel (deterministic), the start function against the SDK's start callbacks.
``--functions N`` lists the N largest functions with their compile time and zone memory.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from wasmtime import Config, Engine, Module, Store, WasiConfig

from pywasm_filter.wasm import binary

from . import fuel
from .footprint import stub_linker

# Envoy's setting (no Liftoff), every function compiled up front as Envoy does, on one thread.
NODE_FLAGS = ("--no-liftoff", "--no-wasm-lazy-compilation", "--single-threaded")
# For comparison: V8's baseline compiler alone (what a host allowing Liftoff would pay first).
LIFTOFF_FLAGS = ("--liftoff", "--no-wasm-tier-up", "--no-wasm-dynamic-tiering",
                 "--no-wasm-lazy-compilation", "--single-threaded")
INSTANTIATIONS = 3
_FUEL = 10**15  # what fuel.instantiate gives a store
# Compile, then instantiate against imports that return 0 (the start function calls none).
_TIMER = """
const bytes = require('fs').readFileSync(process.argv[1]);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
let before = cpu();
const module = new WebAssembly.Module(bytes);
const compile = cpu() - before;
const imports = {};
for (const entry of WebAssembly.Module.imports(module)) {
  imports[entry.module] = imports[entry.module] || {};
  if (entry.kind === 'function') imports[entry.module][entry.name] = () => 0;
}
const instantiate = [];
for (let i = 0; i < +process.argv[2]; i++) {
  before = cpu();
  new WebAssembly.Instance(module, imports);
  instantiate.push(cpu() - before);
}
console.log(JSON.stringify({compile, instantiate}));
"""
_TRACE = re.compile(r"#(\d+) using TurboFan, took (\d+) ms and (\d+) / (\d+) max/total bytes; "
                    r"bodysize (\d+)")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("v8_start.py needs Node.js (its V8) on PATH")
    return node


def node_times(path: Path, flags: tuple[str, ...] = NODE_FLAGS) -> tuple[float, float]:
    """Compile CPU-s of the whole module (TurboFan by default) and the cheapest
    instantiation's CPU ms."""
    result = subprocess.run([_node(), *flags, "-e", _TIMER, str(path), str(INSTANTIATIONS)],
                            check=True, capture_output=True, text=True)
    figures = json.loads(result.stdout)
    return figures["compile"], min(figures["instantiate"]) * 1000


def compile_trace(path: Path) -> list[tuple[int, int, int, int]]:
    """(function index, body bytes, compile ms, zone bytes) of every function TurboFan compiled."""
    result = subprocess.run(
        [_node(), *NODE_FLAGS, "--trace-wasm-compilation-times", "-e", _TIMER, str(path), "0"],
        check=True, capture_output=True, text=True)
    return [(int(index), int(body), int(took), int(zone))
            for index, took, _peak, zone, body in _TRACE.findall(result.stdout)]


def start_fuel(path: Path) -> dict[str, float]:
    """Wasmtime fuel (millions) of the start function, and of the SDK's start that follows it
    (``_initialize``, the root context, ``proxy_on_vm_start``, ``proxy_on_configure``)."""
    config = Config()
    config.consume_fuel = True
    engine = Engine(config)
    store = Store(engine)
    store.set_wasi(WasiConfig())
    module = Module(engine, path.read_bytes())
    linker = stub_linker(engine, module)
    store.set_fuel(_FUEL)
    linker.instantiate(store, module)
    start = _FUEL - store.get_fuel()
    started, _ = fuel.instantiate(path)
    return {"start_function_mfuel": start / 1e6,
            "sdk_start_mfuel": (_FUEL - started.get_fuel() - start) / 1e6}


def _names(path: Path) -> dict[int, str]:
    from pywasm_filter.wasm.shrink import function_names

    try:
        return function_names(binary.parse_module(path.read_bytes()))
    except ValueError:
        return {}


def main(argv: list[str] | None = None) -> int:
    """Print the split of each module's start, side by side; node runs interleaved."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="+", type=Path, help=".wasm files to compare")
    parser.add_argument("--runs", type=int, default=5, help="Node runs per module (medians)")
    parser.add_argument("--functions", type=int, default=0, help="list the N largest functions")
    args = parser.parse_args(argv)
    rows: dict[Path, dict[str, float]] = {}
    traces = {}
    for path in args.modules:
        data = path.read_bytes()
        traces[path] = trace = compile_trace(path)
        rows[path] = {"code_mb": binary.code_size(data) / 1e6, "functions": len(trace),
                      "largest_function_kb": max(body for _, body, _, _ in trace) / 1e3,
                      "turbofan_zone_gb": sum(zone for *_, zone in trace) / 1e9,
                      **start_fuel(path)}
    samples: dict[Path, list[tuple[float, float, float]]] = {path: [] for path in args.modules}
    for _ in range(args.runs):
        for path in args.modules:
            samples[path].append((*node_times(path), node_times(path, LIFTOFF_FLAGS)[0]))
    for path, values in samples.items():
        rows[path]["compile_cpu_s"] = statistics.median(row[0] for row in values)
        rows[path]["instantiate_ms"] = statistics.median(row[1] for row in values)
        rows[path]["liftoff_compile_cpu_s"] = statistics.median(row[2] for row in values)
    print("figure".ljust(26) + "".join(path.name.rjust(16) for path in rows))
    for key in next(iter(rows.values())):
        print(key.ljust(26) + "".join(f"{rows[path][key]:16.3f}" for path in rows))
    for path, trace in traces.items():
        if args.functions:
            names = _names(path)
            print(f"\n{path.name}: largest functions (body bytes, compile ms, zone MB)")
            for index, body, took, zone in sorted(trace, key=lambda row: -row[1])[:args.functions]:
                print(f"  {body:8d} {took:5d} {zone / 1e6:8.1f}  {names.get(index, index)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
