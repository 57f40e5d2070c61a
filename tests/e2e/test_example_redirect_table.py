"""redirect_table in Envoy: PyYAML bundled by `build` parses the table; a redirect is answered
with its location, a rewrite reaches the backend with the new path."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy

SOURCE = EXAMPLES / "redirect_table" / "redirect_table.py"
# The backend answers /profile/alice with "gold" (tests/e2e/servers.py).
TABLE = """\
rules:
  - path: /old-docs
    redirect: https://docs.example.com/
  - prefix: /users/
    rewrite: /profile/
"""


def status_and_location(port: int, path: str) -> tuple[int, str | None]:
    """One GET whose redirect is not followed (urllib would follow it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("location")
    finally:
        connection.close()


def test_envoy_redirects_and_rewrites_from_the_yaml_table(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream
) -> None:
    config = HttpBootstrap(filters=[WasmFilter(built(SOURCE), configuration=TABLE)],
                           route_to="backend", clusters=[backend]).to_config()
    with start_envoy(config) as envoy:
        moved = status_and_location(envoy.port, "/old-docs?x=1")
        rewritten = get(envoy.url + "/users/alice")
    assert moved == (301, "https://docs.example.com/?x=1")
    assert (rewritten.status, rewritten.body) == (200, b"gold")
