"""gRPC in Envoy against a real grpcio server: an awaited unary call and a bidi stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy


def grpc_bootstrap(module: Path, backend: Upstream, cluster: str, port: int) -> HttpBootstrap:
    return HttpBootstrap(filters=[WasmFilter(module)], route_to="backend",
                         clusters=[backend, Upstream(cluster, port, http2=True)])


@pytest.fixture
def grpc_auth(built: Callable[[Path], Path], backend: Upstream, grpc_upstream: int) -> dict:
    module = built(EXAMPLES / "grpc_auth" / "grpc_auth.py")
    return grpc_bootstrap(module, backend, "grpc_auth", grpc_upstream).to_config()


def test_grpc_call_allows_a_known_token(start_envoy: StartEnvoy, grpc_auth: dict) -> None:
    with start_envoy(grpc_auth) as envoy:
        response = get(envoy.url + "/", headers={"x-token": "secret"})
    assert response.status == 200
    assert json.loads(response.body)["x-user"] == "alice"


def test_grpc_error_status_is_raised_with_code_and_message(
    start_envoy: StartEnvoy, grpc_auth: dict
) -> None:
    with start_envoy(grpc_auth) as envoy:
        response = get(envoy.url + "/", headers={"x-token": "forged"})
    assert response.status == 403
    assert response.headers["x-grpc-status"] == "7"
    assert response.body.startswith(b"denied: unknown token 'forged'")


def test_grpc_stream_delivers_metadata_messages_trailers_and_close(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream, grpc_upstream: int
) -> None:
    module = built(EXAMPLES / "grpc_stream" / "grpc_stream.py")
    config = grpc_bootstrap(module, backend, "grpc_echo", grpc_upstream).to_config()
    with start_envoy(config) as envoy:
        response = get(envoy.url + "/streamed")
        logs = envoy.logs()
    assert response.status == 200
    seen_upstream = json.loads(response.body)
    assert seen_upstream["x-echo"] == "echo:/streamed | echo:bye"
    assert seen_upstream["x-echo-server"] == "python-grpcio"
    assert "echo stream trailers: x-count=2" in logs
