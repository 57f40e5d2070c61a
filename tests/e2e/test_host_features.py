"""Foreign functions and the rest of the host API, in Envoy (the foreign_functions example)."""

from __future__ import annotations

import http.client
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import RunEnvoy, StartEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy


@pytest.fixture
def example(built: Callable[[Path], Path]) -> WasmFilter:
    return WasmFilter(built(EXAMPLES / "foreign_functions" / "foreign_functions.py"))


def test_envoys_compress_foreign_function_round_trips(
    run_envoy: RunEnvoy, example: WasmFilter
) -> None:
    payload = "proxy-wasm" * 20
    with run_envoy(example) as envoy:
        response = get(envoy.url + "/compress", headers={"x-payload": payload})
    assert response.status == 200
    assert zlib.decompress(response.body) == payload.encode()
    assert len(response.body) < len(payload)


def test_log_level_and_header_map_size_are_reported(
    run_envoy: RunEnvoy, example: WasmFilter
) -> None:
    with run_envoy(example) as envoy:
        response = get(envoy.url + "/", headers={"x-pad": "a" * 100})
    assert response.headers["x-log-level"] == "DEBUG"  # Envoy runs with wasm:debug
    assert int(response.headers["x-request-header-bytes"]) > 100


def test_buffer_status_reports_the_buffered_request_body(
    start_envoy: StartEnvoy, example: WasmFilter, backend: Upstream
) -> None:
    config = HttpBootstrap(filters=[example], route_to="backend", clusters=[backend]).to_config()
    with start_envoy(config) as envoy:
        request = urllib.request.Request(envoy.url + "/upload", data=b"x" * 3000, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            buffered = response.headers["x-body-buffered"]
    assert buffered == "3000"


def test_reset_http_response_resets_the_stream(run_envoy: RunEnvoy, example: WasmFilter) -> None:
    with run_envoy(example) as envoy:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            urllib.request.urlopen(envoy.url + "/reset", timeout=10)
        assert get(envoy.url + "/").status == 200
        logs = envoy.logs()
    assert "resetting /reset as asked" in logs
