"""The same requests through filters in real Envoy and in the emulator give the same results.

The emulator gets the request Envoy gave the filter (read back from the filter's own log
lines) and the upstream response Envoy's direct_response sends; what the client receives and
what the filter logs must be the same.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from proxywasm import LogLevel
from proxywasm.testing import Host
from pywasm_filter.envoy import Envoy, HttpBootstrap, WasmFilter
from tests.conftest import EXAMPLES, FILTERS
from tests.e2e import RunEnvoy
from tests.e2e.client import Response, get

pytestmark = pytest.mark.envoy

EXAMPLE = EXAMPLES / "http_headers" / "http_headers.py"
# Envoy's line for a proxy_log call ends in "wasm log <plugin> <vm>: <message>".
_WASM_LOG = re.compile(r"\]\[(\w+)\]\[wasm\] \[[^\]]*\] wasm log [^:]*: (.*)")
_CONTEXT = re.compile(r"^#\d+ ")
# Headers Envoy's connection manager adds after the filters ran.
_ADDED_BY_ENVOY = {"connection", "date", "server"}


def filter_log(envoy: Envoy, level: str = "info") -> list[str]:
    """The filter's lines at ``level`` in Envoy's log, without the context id."""
    time.sleep(0.3)
    lines = [match[2] for match in map(_WASM_LOG.search, envoy.logs().splitlines())
             if match and match[1] == level]
    return [_CONTEXT.sub("", line) for line in lines]


def emulator_log(host: Host, level: LogLevel = LogLevel.INFO) -> list[str]:
    return [_CONTEXT.sub("", line) for line in host.logs(level)]


def request_seen_by_filter(log: list[str]) -> list[tuple[str, str]]:
    """The request headers Envoy passed to the filter, from its "-> name: value" lines."""
    pairs = [line.removeprefix("-> ").split(": ", 1) for line in log if line.startswith("-> ")]
    return [(name, value) for name, value in pairs]


def client_view(response: Response) -> tuple[int, dict[str, str], bytes]:
    headers = {name.lower(): value for name, value in response.headers.items()
               if name.lower() not in _ADDED_BY_ENVOY}
    return response.status, headers, response.body


@pytest.fixture
def module(built: Callable[[Path], Path]) -> Path:
    return built(EXAMPLE)


def in_envoy(run_envoy: RunEnvoy, module: Path, path: str) -> tuple[Response, list[str]]:
    with run_envoy(WasmFilter(module)) as envoy:
        response = get(envoy.url + path, headers={"x-probe": "seen"})
        return response, filter_log(envoy)


def test_local_response_matches_envoy(run_envoy: RunEnvoy, module: Path) -> None:
    response, envoy_log = in_envoy(run_envoy, module, "/hello")
    host = Host.from_wasm(module)
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers(request_seen_by_filter(envoy_log), end_of_stream=True)
    stream.complete()
    status, headers, body = client_view(response)
    assert int(stream.response_headers.get(":status") or 0) == status
    assert {name: value for name, value in stream.response_headers
            if not name.startswith(":")} == headers
    assert stream.response_body == body
    assert emulator_log(host) == envoy_log


def test_proxied_response_matches_envoy(run_envoy: RunEnvoy, module: Path) -> None:
    response, envoy_log = in_envoy(run_envoy, module, "/page")
    host = Host.from_wasm(module)
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers(request_seen_by_filter(envoy_log), end_of_stream=True)
    upstream_body = HttpBootstrap(filters=[]).direct_response_body.encode()
    stream.send_response_headers([(":status", "200"),
                                  ("content-length", str(len(upstream_body))),
                                  ("content-type", "text/plain")])
    stream.send_response_body(upstream_body)
    stream.complete()
    status, headers, body = client_view(response)
    assert int(stream.response_headers.get(":status") or 0) == status
    assert {name: value for name, value in stream.response_headers
            if not name.startswith(":")} == headers
    assert stream.response_body == body
    assert emulator_log(host) == envoy_log


@pytest.mark.parametrize("path", ["/raise", "/outside-phase"])
def test_filter_failure_matches_envoy(run_envoy: RunEnvoy, built: Callable[[Path], Path],
                                      path: str) -> None:
    broken = built(FILTERS / "broken.py")
    with run_envoy(WasmFilter(broken)) as envoy:
        response = get(envoy.url + path)
        envoy_errors = filter_log(envoy, "error")
    host = Host.from_wasm(broken, raise_filter_errors=False)
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": path}, end_of_stream=True)
    status, headers, body = client_view(response)
    assert int(stream.response_headers.get(":status") or 0) == status == 500
    assert {name: value for name, value in stream.response_headers
            if not name.startswith(":")} == headers
    assert stream.response_body == body
    assert emulator_log(host, LogLevel.ERROR) == envoy_errors
