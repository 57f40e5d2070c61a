"""What a module costs a proxy before its first request: ``benchmarks/footprint.py A.wasm ...``.

For each module: its sizes; Envoy start to the first 200 and Envoy's RSS at concurrency 1, 2, 4
and 8 (pinned to one core as in run.py; starts interleaved across modules, medians printed);
the time to instantiate one VM in Wasmtime, which includes expanding a compressed snapshot; and
the WasmX figures (`wasmx.py`): Nginx WasmX compiles the module in every worker with parallel
compilation off, so its compile time, compile peak memory and worker RSS come from fresh
worker-like processes set up as WasmX sets Wasmtime up (wasmtime-py's default Engine compiles
on every core and understated the time), without a cache, and with the `deploy wasmx
--compile-cache` configuration over an empty (cold) and a filled (warm) cache directory.
Without arguments it builds benchmarks' Python filter.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from wasmtime import Engine, FuncType, Linker, Module, Store, WasiConfig

from pywasm_filter.wasm import binary

from .proxy import PinnedEnvoy
from .variants import FILTERS, Variant
from .wasmx import CACHE_SETTINGS
from .wasmx import measure as wasmx_measure

CONCURRENCIES = (1, 2, 4, 8)
# Envoy's debug lines (component `wasm`) for a new VM: the base one, and each thread's.
VM_CREATED_MARKERS = ("Base Wasm created", "Thread-Local Wasm created")
INSTANTIATIONS = 5


def stub_linker(engine: Engine, module: Module) -> Linker:
    """A linker with WASI and every ``env`` import of ``module`` answering 0: enough to
    instantiate it and run its start function."""
    linker = Linker(engine)
    linker.define_wasi()
    for entry in module.imports:
        if entry.module == "env" and isinstance(entry.type, FuncType):
            linker.define_func("env", entry.name or "", entry.type, lambda *_: 0)
    return linker


def wasmtime_figures(path: Path) -> dict[str, float]:
    """The fastest of INSTANTIATIONS instantiations of one VM, in ms."""
    engine = Engine()
    module = Module(engine, path.read_bytes())
    linker = stub_linker(engine, module)
    times = []
    for _ in range(INSTANTIATIONS):
        store = Store(engine)
        store.set_wasi(WasiConfig())
        started = time.perf_counter()
        linker.instantiate(store, module)
        times.append(time.perf_counter() - started)
    return {"wasmtime_instantiate_ms": min(times) * 1000}


def _wasmtime_in_subprocess(path: Path) -> dict[str, float]:
    """wasmtime_figures in a fresh interpreter, so peak memory is this module's alone."""
    code = ("import json, sys; from benchmarks.footprint import wasmtime_figures; "
            "from pathlib import Path; print(json.dumps(wasmtime_figures(Path(sys.argv[1]))))")
    result = subprocess.run([sys.executable, "-c", code, str(path)], check=True,
                            capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    figures: dict[str, float] = json.loads(result.stdout)
    return figures


def _vms_started(envoy: PinnedEnvoy) -> float:
    """How many VMs Envoy made from the module (the base VM, then one per thread), from its log:
    each runs the module's start function (the snapshot's expansion)."""
    log = envoy.log_path.read_text(errors="replace")
    return float(log.count(VM_CREATED_MARKERS[0]) + log.count(VM_CREATED_MARKERS[1]))


def wasmx_figures(modules: list[Path], repeat: int) -> dict[Path, dict[str, float]]:
    """Per module: WasmX's compile s, compile peak MiB and worker RSS MiB without a cache, and
    with it cold and warm (medians of ``repeat`` interleaved rounds of fresh processes)."""
    rows: dict[Path, dict[str, float]] = {path: {} for path in modules}
    for path, settings in wasmx_measure(modules, CACHE_SETTINGS, repeat).items():
        for name, figures in settings.items():
            prefix = "wasmx" if name == "wasmx" else name.replace(" ", "_")
            for key in ("compile_s", "compile_peak_mib", "worker_rss_mib"):
                rows[path][f"{prefix}_{key}"] = figures[key]
    return rows


def envoy_figures(modules: list[Path], starts: int, work: Path,
                  concurrencies: tuple[int, ...] = CONCURRENCIES) -> dict[Path, dict[str, float]]:
    """Load time at concurrency 1 and RSS at each concurrency, medians over interleaved starts."""
    samples: dict[Path, dict[str, list[float]]] = {path: {} for path in modules}
    for _ in range(starts):
        for path in modules:
            for concurrency in concurrencies:
                variant = Variant(path.stem, path)
                with PinnedEnvoy(variant, work, concurrency=concurrency) as envoy:
                    row = samples[path]
                    if concurrency == 1:
                        row.setdefault("load_seconds", []).append(envoy.load_seconds)
                        row.setdefault("load_cpu_seconds", []).append(envoy.load_cpu_seconds)
                    time.sleep(0.5)  # every worker's VM is created by now
                    row.setdefault(f"rss_mib_c{concurrency}", []).append(envoy.rss_mib())
                    row.setdefault(f"vms_c{concurrency}", []).append(_vms_started(envoy))
    return {path: {key: statistics.median(values) for key, values in row.items()}
            for path, row in samples.items()}


def main(argv: list[str] | None = None) -> int:
    """Measure the given modules (or the benchmark's Python filter) and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", type=Path, help=".wasm files to compare")
    parser.add_argument("--starts", type=int, default=3, help="Envoy starts per module and "
                        "concurrency (default 3)")
    parser.add_argument("--concurrencies", type=int, nargs="+", default=list(CONCURRENCIES),
                        help="Envoy worker counts to start (default 1 2 4 8; `1` for the start "
                        "figures alone)")
    parser.add_argument("--no-envoy", action="store_true", help="sizes and Wasmtime only")
    parser.add_argument("--wasmx-repeat", type=int, default=3,
                        help="fresh worker processes per WasmX setting (default 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        modules: list[Path] = args.modules
        if not modules:
            from pywasm_filter.build import build

            modules = [build(FILTERS / "python_filter.py", Path(tmp) / "python.wasm").output]
        rows: dict[Path, dict[str, float]] = {}
        for path in modules:
            data = path.read_bytes()
            rows[path] = {"file_mb": len(data) / 1e6, "code_mb": binary.code_size(data) / 1e6,
                          "data_mb": binary.data_size(data) / 1e6,
                          **_wasmtime_in_subprocess(path)}
        for path, figures in wasmx_figures(modules, args.wasmx_repeat).items():
            rows[path].update(figures)
        if not args.no_envoy:
            concurrencies = tuple(args.concurrencies)
            for path, figures in envoy_figures(modules, args.starts, Path(tmp),
                                               concurrencies).items():
                rows[path].update(figures)
                if {1, 8} <= set(concurrencies):
                    extra = (figures["rss_mib_c8"] - figures["rss_mib_c1"]) / 7
                    rows[path]["rss_mib_per_extra_worker"] = extra
    keys = list(next(iter(rows.values())))
    print("figure".ljust(28) + "".join(path.name.rjust(16) for path in rows))
    for key in keys:
        print(key.ljust(28) + "".join(f"{rows[path].get(key, float('nan')):16.3f}"
                                      for path in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
