"""The properties example in a real Envoy: its own values of request.time, source.address,
destination.port, plugin_name, xds.node.* and request.duration decode as the emulator's do."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pywasm_filter.envoy import HttpBootstrap, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy


def bootstrap(built: Callable[[Path], Path], admin: bool) -> dict[str, Any]:
    """Envoy with the example as plugin ``props`` on a node whose metadata sets ``admin``."""
    example = WasmFilter(built(EXAMPLES / "properties" / "properties.py"), name="props")
    config = HttpBootstrap(filters=[example]).to_config()
    config["node"] = {"id": "edge-1", "cluster": "edge",
                      "metadata": {"admin": admin, "team": "payments"}}
    return config


def test_envoy_values_decode_into_the_response_headers_and_log(
        start_envoy: StartEnvoy, built: Callable[[Path], Path]) -> None:
    with start_envoy(bootstrap(built, admin=True)) as envoy:
        before = datetime.now(UTC)
        response = get(envoy.url + "/status?full=1")
        admin = get(envoy.url + "/admin")
        time.sleep(0.3)
        logs = envoy.logs()
    assert response.status == 200
    assert response.headers["x-plugin"] == "props"
    assert response.headers["x-node"] == "edge-1"
    assert response.headers["x-client"] == "127.0.0.1"
    assert response.headers["x-listener-port"] == str(envoy.port)
    started = datetime.fromisoformat(response.headers["x-request-time"])
    assert abs(started - before) < timedelta(seconds=30)
    assert admin.status == 200
    assert re.search(r"GET /status\?full=1 from 127\.0\.0\.1: 200, 38 bytes in \d+\.\d ms", logs)


def test_envoy_denies_admin_when_the_node_metadata_does_not_enable_it(
        start_envoy: StartEnvoy, built: Callable[[Path], Path]) -> None:
    with start_envoy(bootstrap(built, admin=False)) as envoy:
        response = get(envoy.url + "/admin")
    assert response.status == 403
    assert response.body == (b"this node's metadata does not enable admin "
                             b"(node.metadata.admin: true)\n")
