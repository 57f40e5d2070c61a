"""Time the body recipes on 1 MiB in the built module (wasmtime, the emulator's wasm engine):
pii_redaction redacting a whole JSON response, http_body_chunk scanning 64 KiB chunks.
Prints the median seconds per MiB.

    .venv/bin/python benchmarks/body_scan.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from proxywasm.testing import Host
from pywasm_filter.build import build

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LINE = (b'{"user": "ana@example.com", "card": "4111 1111 1111 1111", '
        b'"note": "lorem ipsum dolor sit amet"}\n')
BODY = LINE * (1024 * 1024 // len(LINE))
CHUNK = 64 * 1024


def redact_once(host: Host) -> float:
    """Seconds for one 1 MiB response through pii_redaction."""
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    stream.send_response_headers({":status": "200", "content-type": "application/json"})
    started = time.perf_counter()
    stream.send_response_body(BODY, end_of_stream=True)
    elapsed = time.perf_counter() - started
    assert b"ana@example.com" not in stream.response_body
    stream.complete()
    return elapsed


def scan_once(host: Host) -> float:
    """Seconds for one 1 MiB request through http_body_chunk, in 64 KiB chunks."""
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/"})
    started = time.perf_counter()
    for start in range(0, len(BODY), CHUNK):
        stream.send_request_body(BODY[start:start + CHUNK],
                                 end_of_stream=start + CHUNK >= len(BODY))
    elapsed = time.perf_counter() - started
    assert stream.local_response is None
    stream.complete()
    return elapsed


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        for name, once in (("pii_redaction", redact_once), ("http_body_chunk", scan_once)):
            module = Path(workdir) / f"{name}.wasm"
            build(EXAMPLES / name / f"{name}.py", module)
            host = Host.from_wasm(module)
            assert host.start()
            times = [once(host) for _ in range(runs)]
            print(f"{name}: median {statistics.median(times):.3f} s per MiB over {runs} runs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
