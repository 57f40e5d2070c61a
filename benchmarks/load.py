"""Load generation with wrk pinned to the other core, and parsing of its report."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

WRK_CORE = "1"
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _latency_ms(text: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no {percentile}% latency:\n{text}")
    return float(match.group(1)) * _UNITS[match.group(2)] * 1e3


def parse_wrk(text: str) -> LoadResult:
    """Read requests, requests/s, p50, p99 and errors from wrk --latency output."""
    requests = re.search(r"^\s*(\d+) requests in", text, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    if requests is None or rate is None:
        raise RuntimeError(f"unexpected wrk output:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", text)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(group) for group in socket_errors.groups())
    return LoadResult(int(requests.group(1)), float(rate.group(1)), _latency_ms(text, "50"),
                      _latency_ms(text, "99"), errors)


def run_wrk(wrk: str, url: str, seconds: float, connections: int = 8) -> LoadResult:
    """Run wrk (one thread, keep-alive) against ``url`` for ``seconds``."""
    result = subprocess.run(
        ["taskset", "-c", WRK_CORE, wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s",
         "--latency", url],
        capture_output=True, text=True, check=True,
    )
    return parse_wrk(result.stdout)
