"""The dispatch_call_on_tick example in Envoy: the plugin's calls reach the service on a timer."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.servers import BackendServer

pytestmark = pytest.mark.envoy

EXAMPLE = EXAMPLES / "dispatch_call_on_tick" / "dispatch_call_on_tick.py"


def test_calls_reach_the_service_every_tick_without_traffic(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend_server: BackendServer
) -> None:
    config = HttpBootstrap(
        filters=[WasmFilter(built(EXAMPLE))],
        clusters=[Upstream("web_service", backend_server.server_address[1])],
    ).to_config()
    with start_envoy(config) as envoy:
        deadline = time.monotonic() + 10
        while len(backend_server.paths) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        logs = envoy.wait_for_log("call 3: 200")
    assert len(backend_server.paths) >= 6
    assert {"/tick/1", "/tick/2", "/tick/3"} <= set(backend_server.paths)
    assert "calling web_service every 0.1 s" in logs
    assert "call 3: 200 with" in logs
