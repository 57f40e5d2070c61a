"""A TCP filter (envoy.filters.network.wasm) in front of a tcp_proxy to an echo server."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import Envoy, TcpBootstrap, Upstream, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy

pytestmark = pytest.mark.envoy


@pytest.fixture
def tcp_config(built: Callable[[Path], Path], tcp_echo: Upstream) -> dict:
    module = built(EXAMPLES / "tcp_filter" / "tcp_filter.py")
    return TcpBootstrap(filters=[WasmFilter(module)], upstream=tcp_echo).to_config()


def exchange(envoy: Envoy, message: bytes) -> bytes:
    """Send ``message`` through Envoy and read the echo until it is complete or closed."""
    with socket.create_connection(("127.0.0.1", envoy.port), timeout=5) as connection:
        connection.sendall(message)
        received = b""
        while len(received) < len(message):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def wait_for(envoy: Envoy, text: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = envoy.logs()
        if text in logs:
            return logs
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in Envoy's log:\n{envoy.log_tail()}")


def test_client_data_is_rewritten_on_its_way_upstream(
    start_envoy: StartEnvoy, tcp_config: dict
) -> None:
    with start_envoy(tcp_config) as envoy:
        assert exchange(envoy, b"hello tcp\n") == b"HELLO TCP\n"


def test_connection_events_and_byte_counts_are_reported(
    start_envoy: StartEnvoy, tcp_config: dict
) -> None:
    with start_envoy(tcp_config) as envoy:
        exchange(envoy, b"0123456789")
        logs = wait_for(envoy, "10 bytes up, 10 bytes down")
    assert "opened" in logs
    assert "client side closed" in logs
    assert "server side closed" in logs


def test_filter_closes_the_connection_on_quit(start_envoy: StartEnvoy, tcp_config: dict) -> None:
    with start_envoy(tcp_config) as envoy:
        assert exchange(envoy, b"QUIT\n") == b""
        assert exchange(envoy, b"still up\n") == b"STILL UP\n"
