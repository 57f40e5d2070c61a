"""One Nginx WasmX worker's load of a module, in this fresh process: ``python -m
benchmarks.wasmx_worker MODULE.wasm [--opt-level L] [--cache-toml FILE] [--requests N]``.

It sets Wasmtime up as ngx_wasm_module does (3bed278, src/wasm/wrt/ngx_wrt_wasmtime.c:
reference types on, parallel compilation off, then the `cache_config` file and the
`cranelift_opt_level` flag), compiles the module, starts one VM against benchmarks.fuel's
minimal host and replays requests; it prints one JSON object. It imports only wasmtime and
benchmarks.fuel, so any interpreter with a wasmtime-py can run it (``wasmx.py --python``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from wasmtime import Config, Engine, Func, Module, Store

from .fuel import request, start

BATCHES = 5


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status: VmRSS now, VmHWM its peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> float:
    """Set the peak (VmHWM) to the resident memory now, and return that. ru_maxrss would not
    do: it survives exec, so a child started by a big parent reports the parent's peak."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmRSS")


def wasmx_config(opt_level: str, cache_toml: Path | None) -> Config:
    """Wasmtime's configuration as a WasmX worker builds it, with its `flag cranelift_opt_level`
    and `cache_config` directives."""
    config = Config()
    config.wasm_reference_types = True
    config.parallel_compilation = False
    config.cranelift_opt_level = opt_level
    if cache_toml is not None:
        config.cache = str(cache_toml)
    return config


def _request_us(store: Store, exports: dict[str, object], requests: int) -> float:
    """Median CPU microseconds per request over BATCHES batches (after a warm-up request)."""
    stream = 2
    samples = []
    for batch in range(BATCHES + 1):
        started = time.process_time()
        for _ in range(requests if batch else 1):
            for name, args in request(stream):
                function = exports.get(name)
                if isinstance(function, Func):
                    function(store, *args)
            stream += 1
        if batch:
            samples.append((time.process_time() - started) * 1e6 / requests)
    return statistics.median(samples)


def worker(path: Path, config: Config, requests: int) -> dict[str, object]:
    """The figures of one worker-like load of ``path`` (memory over this process's baseline,
    taken before the module's bytes are read: a WasmX worker holds them too)."""
    baseline = _reset_peak()
    engine = Engine(config)
    data = path.read_bytes()
    wall, cpu = time.perf_counter(), time.process_time()
    module = Module(engine, data)
    figures: dict[str, object] = {
        "compile_s": time.perf_counter() - wall, "compile_cpu_s": time.process_time() - cpu,
        "compile_peak_mib": _status_mib("VmHWM") - baseline}
    store = Store(engine)
    wall = time.perf_counter()
    exports = dict(start(store, module))
    figures["instantiate_ms"] = (time.perf_counter() - wall) * 1000
    figures["worker_rss_mib"] = _status_mib("VmRSS") - baseline
    if requests:
        figures["request_cpu_us"] = _request_us(store, exports, requests)
    figures["wasmtime"] = metadata.version("wasmtime")
    return figures


def main(argv: list[str] | None = None) -> int:
    """Measure one worker-like load and print it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", type=Path)
    parser.add_argument("--opt-level", default="speed",
                        choices=("none", "speed", "speed_and_size"),
                        help="Cranelift's optimization level (WasmX's default: speed)")
    parser.add_argument("--cache-toml", type=Path, help="Wasmtime cache configuration file")
    parser.add_argument("--requests", type=int, default=0,
                        help="requests per timed batch after the load (default 0: none)")
    parser.add_argument("--default-engine", action="store_true",
                        help="wasmtime-py's default configuration instead of WasmX's")
    args = parser.parse_args(argv)
    config = Config() if args.default_engine else wasmx_config(args.opt_level, args.cache_toml)
    print(json.dumps(worker(args.module, config, args.requests)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
