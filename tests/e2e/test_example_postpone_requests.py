"""The postpone_requests example in Envoy: a request reaches the backend after the next tick."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy

EXAMPLE = EXAMPLES / "postpone_requests" / "postpone_requests.py"


def test_a_request_is_postponed_then_resumed_by_the_tick(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream
) -> None:
    config = HttpBootstrap(filters=[WasmFilter(built(EXAMPLE))], route_to="backend",
                           clusters=[backend]).to_config()
    with start_envoy(config) as envoy:
        response = get(envoy.url + "/orders")
        logs = envoy.logs()
    assert response.status == 200
    assert json.loads(response.body)["x-postponed-ms"].isdigit()
    [postponed] = re.findall(r"postpone request with context id (\d+)", logs)
    [resumed] = re.findall(r"resume request with context id (\d+)", logs)
    assert postponed == resumed
    assert logs.index("postpone request") < logs.index("resume request")
