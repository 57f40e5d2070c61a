"""Time one full emulator test of a header filter in each engine; prints milliseconds.

A "test" is what a user's test does: create a Host, start the plugin, send request and
response headers through one stream and complete it. The wasm engine compiles the module
once (reported separately) and instantiates it per test.

    .venv/bin/python benchmarks/emulator.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from proxywasm.testing import Host
from pywasm_filter.build import build

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "http_headers" / "http_headers.py"


def one_test(path: Path, engine: str) -> float:
    """Seconds for one full header-filter test."""
    started = time.perf_counter()
    host = Host(path, engine)
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    stream.send_response_headers({":status": "200"}, end_of_stream=True)
    stream.complete()
    assert stream.response_headers.get("x-powered-by") == "pywasm-filter"
    host.close()
    return time.perf_counter() - started


def report(name: str, times: list[float]) -> None:
    milliseconds = sorted(value * 1000 for value in times)
    print(f"{name}: median {statistics.median(milliseconds):.2f} ms, "
          f"min {milliseconds[0]:.2f} ms, max {milliseconds[-1]:.2f} ms ({len(times)} runs)")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as workdir:
        module = build(EXAMPLE, Path(workdir) / "http_headers.wasm").output
        one_test(EXAMPLE, "source")
        report("source engine, one test", [one_test(EXAMPLE, "source") for _ in range(runs)])
        print(f"wasm engine, first test (compiles the module): "
              f"{one_test(module, 'wasm') * 1000:.0f} ms")
        report("wasm engine, one test (module reused)",
               [one_test(module, "wasm") for _ in range(runs)])


if __name__ == "__main__":
    main()
