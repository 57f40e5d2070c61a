"""Fixtures that run built filters in a real Envoy on 127.0.0.1, and the servers they call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest

from pywasm_filter.envoy import Envoy, HttpBootstrap, Upstream, WasmFilter
from tests.e2e.servers import (
    BackendServer,
    TcpEcho,
    body_echo_backend,
    grpc_server,
    http_backend,
)


@pytest.fixture
def start_envoy(tmp_path: Path) -> Callable[..., AbstractContextManager[Envoy]]:
    """Start Envoy with a whole bootstrap (a dict from ``HttpBootstrap``/``TcpBootstrap``)."""

    @contextmanager
    def start(config: dict[str, Any], concurrency: int = 1) -> Iterator[Envoy]:
        workdir = tmp_path / f"envoy-{len(list(tmp_path.iterdir()))}"
        with Envoy(config, workdir, concurrency=concurrency) as envoy:
            yield envoy

    return start


@pytest.fixture
def run_envoy(
    start_envoy: Callable[..., AbstractContextManager[Envoy]],
) -> Callable[..., AbstractContextManager[Envoy]]:
    """Start Envoy with the given Wasm filters in front of a direct response."""

    def start(*filters: WasmFilter, concurrency: int = 1) -> AbstractContextManager[Envoy]:
        return start_envoy(HttpBootstrap(filters=filters).to_config(), concurrency)

    return start


@pytest.fixture
def backend() -> Iterator[Upstream]:
    """The HTTP backend (auth, profiles, header echo) as the Envoy cluster ``backend``."""
    server = http_backend()
    yield Upstream("backend", server.server_address[1])
    server.shutdown()


@pytest.fixture
def backend_server() -> Iterator[BackendServer]:
    """The HTTP backend itself: its ``paths`` show what reached it (``server_address[1]``)."""
    server = http_backend()
    yield server
    server.shutdown()


@pytest.fixture
def grpc_upstream() -> Iterator[int]:
    """The gRPC server's port."""
    server: grpc.Server
    server, port = grpc_server()
    yield port
    server.stop(grace=None)


@pytest.fixture
def tcp_echo() -> Iterator[Upstream]:
    """The TCP echo server as the Envoy cluster ``echo``."""
    server = TcpEcho()
    yield Upstream("echo", server.port)
    server.close()


@pytest.fixture(scope="module")
def body_echo() -> Iterator[Upstream]:
    """The body echo backend (answers with the request body) as the Envoy cluster
    ``backend``, shared by a module's tests."""
    server = body_echo_backend()
    yield Upstream("backend", server.server_address[1])
    server.shutdown()
