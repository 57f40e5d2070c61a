"""The multiple_dispatches example in Envoy: ten calls reach the service before the request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter, free_port
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get
from tests.e2e.servers import BackendServer

pytestmark = pytest.mark.envoy

EXAMPLE = EXAMPLES / "multiple_dispatches" / "multiple_dispatches.py"


def fan_out_bootstrap(module: Path, backend_port: int, httpbin_port: int) -> HttpBootstrap:
    """The filter in front of the backend, its calls going to ``httpbin`` on httpbin_port."""
    return HttpBootstrap(filters=[WasmFilter(module)], route_to="backend",
                         clusters=[Upstream("backend", backend_port),
                                   Upstream("httpbin", httpbin_port)])


def test_the_request_reaches_the_backend_after_all_ten_calls(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend_server: BackendServer
) -> None:
    port = backend_server.server_address[1]
    with start_envoy(fan_out_bootstrap(built(EXAMPLE), port, port).to_config()) as envoy:
        response = get(envoy.url + "/orders")
        logs = envoy.logs()
    assert response.status == 200
    assert response.headers["total-dispatched"] == "10"
    assert response.headers["dispatches-succeeded"] == "10"
    *calls, request = backend_server.paths
    assert sorted(calls) == sorted(f"/dispatch/{number}" for number in range(10))
    assert request == "/orders"
    assert "request resumed after 10 dispatched calls, 10 answered 200" in logs


def test_calls_to_a_service_that_is_down_are_counted_and_the_request_passes(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend_server: BackendServer
) -> None:
    port = backend_server.server_address[1]
    config = fan_out_bootstrap(built(EXAMPLE), port, free_port()).to_config()
    with start_envoy(config) as envoy:
        response = get(envoy.url + "/orders")
    assert response.status == 200
    assert response.headers["dispatches-succeeded"] == "0"
    assert backend_server.paths == ["/orders"]
