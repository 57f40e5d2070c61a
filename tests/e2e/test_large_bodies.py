"""A filter that waits for the whole request body in Envoy: 10 MiB with the listener's buffer
limit raised, and Envoy's 413 (with the helper's warning in the log) without it."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter
from tests.conftest import FILTERS
from tests.e2e import StartEnvoy

pytestmark = pytest.mark.envoy

BODY = bytes(range(256)) * (10 * 1024 * 1024 // 256)


def post(port: int, body: bytes) -> bytes:
    """POST ``body`` over a socket while reading the answer (Envoy may answer before the body
    is all sent); return the answer's status line and headers."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)

    def send() -> None:
        try:
            connection.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
                               + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        except OSError:
            pass  # Envoy answered early and closed: the answer is what the test checks

    sender = threading.Thread(target=send)
    sender.start()
    answer = b""
    with connection:
        while b"\r\n\r\n" not in answer and (chunk := connection.recv(65536)):
            answer += chunk
    sender.join()
    return answer.partition(b"\r\n\r\n")[0]


def bootstrap(module: Path, backend: Upstream, buffer_limit: int | None) -> dict:
    return HttpBootstrap(filters=[WasmFilter(module)], route_to="backend", clusters=[backend],
                         buffer_limit=buffer_limit).to_config()


def test_ten_mib_body_is_seen_whole_with_the_limit_raised(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream
) -> None:
    config = bootstrap(built(FILTERS / "whole_body.py"), backend, 16 * 1024 * 1024)
    with start_envoy(config) as envoy:
        head = post(envoy.port, BODY)
    assert head.startswith(b"HTTP/1.1 200 OK"), head
    assert f"x-body-size: {len(BODY)}".encode() in head
    assert f"x-body-sha256: {hashlib.sha256(BODY).hexdigest()}".encode() in head


def test_body_over_the_default_limit_gets_413_and_the_log_says_why(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream
) -> None:
    config = bootstrap(built(FILTERS / "whole_body.py"), backend, None)
    with start_envoy(config) as envoy:
        head = post(envoy.port, BODY)
        logs = envoy.logs()
    assert head.startswith(b"HTTP/1.1 413 Payload Too Large"), head
    assert "over the proxy's buffer limit of 1048576 bytes: Envoy answers 413" in logs
    assert "per_connection_buffer_limit_bytes" in logs
