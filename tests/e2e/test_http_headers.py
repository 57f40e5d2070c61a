"""The http_headers example, built and run in a real Envoy."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import RunEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy


@pytest.fixture
def example(built: Callable[[Path], Path]) -> WasmFilter:
    return WasmFilter(built(EXAMPLES / "http_headers" / "http_headers.py"))


def test_response_carries_the_header_the_filter_adds(run_envoy: RunEnvoy,
                                                      example: WasmFilter) -> None:
    with run_envoy(example) as envoy:
        response = get(envoy.url + "/")
    assert response.status == 200
    assert response.headers["x-powered-by"] == "pywasm-filter"
    assert response.body == b"response from envoy's direct_response\n"


def test_hello_is_answered_by_the_filter(run_envoy: RunEnvoy, example: WasmFilter) -> None:
    with run_envoy(example) as envoy:
        response = get(envoy.url + "/hello")
    assert response.status == 200
    assert response.body == b"Hello, World\n"
    assert response.headers["hello"] == "World"
    assert response.headers["powered-by"] == "proxy-wasm"


def test_request_and_response_headers_are_logged(run_envoy: RunEnvoy,
                                                 example: WasmFilter) -> None:
    with run_envoy(example) as envoy:
        get(envoy.url + "/logged", headers={"x-probe": "seen"})
        time.sleep(0.3)
        logs = envoy.logs()
    assert "-> :path: /logged" in logs
    assert "-> x-probe: seen" in logs
    assert "<- :status: 200" in logs
    assert "completed." in logs


def test_many_requests_on_two_workers(run_envoy: RunEnvoy, example: WasmFilter) -> None:
    with run_envoy(example, concurrency=2) as envoy:
        statuses = [get(envoy.url + f"/n{index}").status for index in range(50)]
        assert envoy.running()
    assert statuses == [200] * 50
