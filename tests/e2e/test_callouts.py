"""HTTP callouts in Envoy: the classic callback filter and the awaiting one behave alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter, free_port
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get
from tests.e2e.servers import SECRET

pytestmark = pytest.mark.envoy

EXAMPLE_FILTERS = [EXAMPLES / "http_auth" / "http_auth.py",
                   EXAMPLES / "await_callout" / "await_callout.py"]


def auth_bootstrap(module: Path, backend: Upstream, auth_port: int) -> HttpBootstrap:
    """The filter in front of the backend, with its callouts going to ``auth`` on auth_port."""
    return HttpBootstrap(filters=[WasmFilter(module)], route_to="backend",
                         clusters=[backend, Upstream("auth", auth_port)])


@pytest.mark.parametrize("source", EXAMPLE_FILTERS, ids=lambda path: path.stem)
def test_authorized_request_reaches_the_backend_with_the_user(
    source: Path, start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream
) -> None:
    config = auth_bootstrap(built(source), backend, backend.port).to_config()
    with start_envoy(config) as envoy:
        response = get(envoy.url + "/orders", headers={"authorization": SECRET})
    assert response.status == 200
    seen_upstream = json.loads(response.body)
    assert seen_upstream["x-user"] == "alice"
    if source.stem == "await_callout":
        assert seen_upstream["x-plan"] == "gold"


@pytest.mark.parametrize("source", EXAMPLE_FILTERS, ids=lambda path: path.stem)
def test_unauthorized_request_is_denied_locally(
    source: Path, start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream
) -> None:
    config = auth_bootstrap(built(source), backend, backend.port).to_config()
    with start_envoy(config) as envoy:
        response = get(envoy.url + "/orders", headers={"authorization": "Bearer wrong"})
    assert response.status == 403
    assert response.body == b"access denied\n"


@pytest.mark.parametrize("source", EXAMPLE_FILTERS, ids=lambda path: path.stem)
def test_failed_callout_is_detected_and_answered(
    source: Path, start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream
) -> None:
    nobody_listens = free_port()
    config = auth_bootstrap(built(source), backend, nobody_listens).to_config()
    with start_envoy(config) as envoy:
        response = get(envoy.url + "/orders", headers={"authorization": SECRET})
        assert envoy.running()
    assert response.status == 503
    assert response.body == b"auth service unavailable\n"


def test_callout_to_an_unknown_cluster_names_the_cluster_in_the_log(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream, tmp_path: Path
) -> None:
    source = tmp_path / "unknown_cluster.py"
    source.write_text(
        "import proxywasm\n"
        "class Call(proxywasm.HttpContext):\n"
        "    def on_http_request_headers(self, n: int, end: bool) -> proxywasm.Action:\n"
        "        self.dispatch_http_call('nowhere', [(':method', 'GET'), (':path', '/'),\n"
        "                                            (':authority', 'x')])\n"
        "        return proxywasm.Action.PAUSE\n"
        "proxywasm.set_http_context(Call)\n"
    )
    config = HttpBootstrap(filters=[WasmFilter(built(source))]).to_config()
    with start_envoy(config) as envoy:
        response = get(envoy.url + "/")
        logs = envoy.logs()
    assert response.status == 500
    assert "proxy_http_call failed with BAD_ARGUMENT" in logs
    assert "must be a cluster name the proxy knows" in logs
    assert "unknown_cluster.py\", line 4" in logs


def test_fail_open_callout_callback_error_lets_the_request_through(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream, tmp_path: Path
) -> None:
    source = tmp_path / "lenient_auth.py"
    source.write_text(
        "import proxywasm\n"
        "class Lenient(proxywasm.HttpContext):\n"
        "    fail_open = True\n"
        "    def on_http_request_headers(self, n: int, end: bool) -> proxywasm.Action:\n"
        "        self.dispatch_http_call('auth', [(':method', 'GET'), (':path', '/check'),\n"
        "                                         (':authority', 'auth')])\n"
        "        return proxywasm.Action.PAUSE\n"
        "    def on_http_call_response(self, token: int, h: int, b: int, t: int) -> None:\n"
        "        raise RuntimeError('the auth answer could not be parsed')\n"
        "proxywasm.set_http_context(Lenient)\n"
    )
    config = auth_bootstrap(built(source), backend, backend.port).to_config()
    with start_envoy(config) as envoy:
        response = get(envoy.url + "/orders")
        logs = envoy.logs()
    assert response.status == 200
    assert "Lenient.on_http_call_response" in logs and "failing open" in logs
