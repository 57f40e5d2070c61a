"""Soak: Envoy's RSS after 1k, 10k and 100k requests through one filter (default http_headers).

``python benchmarks/soak.py [FILTER.py] [--requests 1000,10000,100000] [--clients 2]``

Builds the filter, runs it in Envoy (``--concurrency 1``, pinned to core 0) in front of a
direct response, and sends GET requests on keep-alive connections from ``--clients`` threads
on 127.0.0.1 until each checkpoint, printing the RSS (from /proc) and the rate there. A flat
RSS after warm-up means no per-request leak in the filter, the SDK or the runtime.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from pywasm_filter.build import build

from .proxy import PinnedEnvoy
from .variants import Variant

DEFAULT_FILTER = Path(__file__).resolve().parent.parent / "examples/http_headers/http_headers.py"


def _send(port: int, count: int, failures: list[int]) -> None:
    """Send ``count`` GETs on one keep-alive connection; record any status but 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(count):
        connection.request("GET", "/soak", headers={"user-agent": "soak"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            failures.append(response.status)
    connection.close()


def _drive(port: int, total: int, clients: int) -> list[int]:
    """Send ``total`` requests spread over ``clients`` threads; the non-200 statuses seen."""
    failures: list[int] = []
    shares = [total // clients + (1 if index < total % clients else 0) for index in range(clients)]
    threads = [threading.Thread(target=_send, args=(port, share, failures)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def main() -> int:
    """Build, serve, and print RSS at each checkpoint."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("filter", nargs="?", type=Path, default=DEFAULT_FILTER)
    parser.add_argument("--requests", default="1000,10000,100000",
                        help="comma-separated checkpoints (total requests)")
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    checkpoints = sorted(int(value) for value in args.requests.split(","))
    with tempfile.TemporaryDirectory() as workdir:
        module = build(args.filter, Path(workdir) / "soak.wasm").output
        with PinnedEnvoy(Variant(args.filter.stem, module), Path(workdir)) as envoy:
            print(f"{args.filter.name}: RSS after start {envoy.rss_mib():.1f} MiB", flush=True)
            sent = 0
            started = time.monotonic()
            for checkpoint in checkpoints:
                failures = _drive(envoy.port, checkpoint - sent, args.clients)
                sent = checkpoint
                rate = sent / (time.monotonic() - started)
                print(f"{sent:>7} requests: RSS {envoy.rss_mib():.1f} MiB, "
                      f"{rate:,.0f} requests/s, non-200: {len(failures)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
