"""What loading a module costs each Nginx WasmX worker: ``benchmarks/wasmx.py [A.wasm ...]``.

ngx_wasm_module compiles the module with Wasmtime in every worker, after the fork
(`init_process`), with parallel compilation off, so one worker's load is a single-threaded
Cranelift compile; wasmtime-py's default Engine compiles on every core and hid that. Each
figure comes from a fresh worker-like process (`wasmx_worker.py`: WasmX's Wasmtime settings,
compile, one started VM, requests replayed against a minimal host), runs interleaved, medians:

- ``wasmx``: what every worker pays today (no cache);
- ``cache cold`` / ``cache warm``: with the cache configuration `deploy wasmx --compile-cache`
  writes (`nginx.cache_toml`), over an empty directory (the first worker: it compiles, then
  writes the entry) and over the directory it filled (every later worker, reload or respawn);
- ``opt none`` / ``opt speed_and_size``: WasmX's `flag cranelift_opt_level` (default speed);
- ``default engine``: wasmtime-py's default configuration, as footprint.py measured before.

``--callgrind`` counts instead the instructions a worker executes (valgrind's callgrind;
deterministic where CPU time on a shared machine is not) to start one VM and per request, per
Cranelift opt level: what a faster compile costs the code it makes (Wasmtime's fuel counts wasm
instructions, which Cranelift does not change).

Wasmtime is this interpreter's wasmtime-py (WasmX builds with 26.0.0); ``--python`` runs the
workers under another interpreter, e.g. one with wasmtime-py 27 (26 is not on PyPI).
Without arguments it builds examples/http_headers.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from pywasm_filter.nginx import cache_toml

from .wasmx_worker import BATCHES

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("compile_s", "compile_cpu_s", "compile_peak_mib", "worker_rss_mib",
           "instantiate_ms", "request_cpu_us")


class Setting(NamedTuple):
    """One way a worker loads the module: Cranelift's opt level and the cache's state."""

    name: str
    opt_level: str = "speed"
    cache: str = ""
    """"": no cache; "cold": an empty cache directory; "warm": the one "cold" filled."""
    default_engine: bool = False


SETTINGS = (Setting("wasmx"), Setting("cache cold", cache="cold"),
            Setting("cache warm", cache="warm"), Setting("opt none", opt_level="none"),
            Setting("opt speed_and_size", opt_level="speed_and_size"),
            Setting("default engine", default_engine=True))
CACHE_SETTINGS = SETTINGS[:3]
"""What footprint.py reports for WasmX."""


def _wasmtime_major(python: str) -> int:
    code = "from importlib import metadata; print(metadata.version('wasmtime'))"
    version = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    return int(version.stdout.split(".")[0])


def _run(python: str, module: Path, setting: Setting, toml: Path | None,
         requests: int) -> dict[str, float]:
    command = [python, "-m", "benchmarks.wasmx_worker", str(module), "--requests", str(requests),
               "--opt-level", setting.opt_level]
    if toml is not None:
        command += ["--cache-toml", str(toml)]
    if setting.default_engine:
        command.append("--default-engine")
    result = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    figures = json.loads(result.stdout)
    return {key: figures[key] for key in FIGURES if key in figures}


def measure(modules: list[Path], settings: tuple[Setting, ...] = SETTINGS, repeat: int = 3,
            requests: int = 0, python: str = sys.executable
            ) -> dict[Path, dict[str, dict[str, float]]]:
    """module -> setting name -> figure -> median over ``repeat`` interleaved rounds."""
    samples: dict[Path, dict[str, dict[str, list[float]]]] = {
        module: {setting.name: {} for setting in settings} for module in modules}
    enabled_key = _wasmtime_major(python) < 33  # wasmtime-py 32 needs the key, 33 refuses it
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(repeat):
            for index, module in enumerate(modules):
                cache = Path(tmp) / f"cache-{round_}-{index}"
                toml = Path(tmp) / f"cache-{round_}-{index}.toml"
                toml.write_text(cache_toml(cache, enabled_key=enabled_key))
                for setting in settings:
                    figures = _run(python, module, setting, toml if setting.cache else None,
                                   requests)
                    for key, value in figures.items():
                        samples[module][setting.name].setdefault(key, []).append(value)
    return {module: {name: {key: statistics.median(values) for key, values in row.items()}
                     for name, row in rows.items()}
            for module, rows in samples.items()}


def _instructions(command: list[str], out: Path) -> float:
    """Millions of instructions ``command`` executes under valgrind's callgrind."""
    run = subprocess.run(["valgrind", "--tool=callgrind", "--smc-check=all-non-file",
                          f"--callgrind-out-file={out}", *command],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    found = re.search(r"Collected : ([0-9]+)", run.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind: {run.stderr}")
    return int(found[1]) / 1e6


def callgrind(module: Path, requests: int = 10, python: str = sys.executable
              ) -> dict[str, dict[str, float]]:
    """Opt level -> millions of instructions to compile (a cold cache's first worker minus a
    warm one), to start one VM from the warm cache (a whole worker process replaying no
    request), and per request ((with ``requests`` per batch - without) / requests replayed).
    The cache is filled under valgrind too: its key holds the CPU features, which differ."""
    enabled_key = _wasmtime_major(python) < 33
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        toml = Path(tmp) / "cache.toml"
        toml.write_text(cache_toml(Path(tmp) / "cache", enabled_key=enabled_key))
        for opt_level in ("none", "speed", "speed_and_size"):
            counts = [_instructions([python, "-m", "benchmarks.wasmx_worker", str(module),
                                     "--opt-level", opt_level, "--cache-toml", str(toml),
                                     "--requests", str(replayed)], Path(tmp) / "out")
                      for replayed in (0, 0, requests)]
            results[opt_level] = {
                "compile_minstr": counts[0] - counts[1], "start_minstr": counts[1],
                "request_minstr": (counts[2] - counts[1]) / (1 + BATCHES * requests)}
    return results


def main(argv: list[str] | None = None) -> int:
    """Measure the given modules (or examples/http_headers) and print a table per module."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", type=Path, help=".wasm files")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--requests", type=int, default=200,
                        help="requests per timed batch, 5 batches (default 200; 0: none)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter (with wasmtime-py) that runs the workers")
    parser.add_argument("--callgrind", action="store_true",
                        help="instructions per opt level instead (valgrind; minutes per module)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        modules: list[Path] = args.modules
        if not modules:
            from pywasm_filter.build import build

            source = ROOT / "examples" / "http_headers" / "http_headers.py"
            modules = [build(source, Path(tmp) / "http_headers.wasm").output]
        if args.callgrind:
            for module in modules:
                print(f"{module.name}: millions of instructions (callgrind): compile, a "
                      "worker starting one VM from the cache, per request")
                for level, counts in callgrind(module, python=args.python).items():
                    print(level.ljust(20) + "".join(
                        f"{counts[key]:18.3f}"
                        for key in ("compile_minstr", "start_minstr", "request_minstr")))
            return 0
        results = measure(modules, repeat=args.repeat, requests=args.requests,
                          python=args.python)
    for module, rows in results.items():
        print(f"{module.name} (medians of {args.repeat})")
        print("setting".ljust(20) + "".join(key.rjust(18) for key in FIGURES))
        for name, figures in rows.items():
            print(name.ljust(20) + "".join(f"{figures.get(key, float('nan')):18.3f}"
                                           for key in FIGURES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
