"""Raw header bytes that are not UTF-8, sent over a socket to every HTTP example in Envoy: each
gives its normal answer. One Envoy serves all examples, one listener each (built once)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pywasm_filter.envoy import Envoy, HttpBootstrap, Upstream, WasmFilter, free_port
from tests.conftest import EXAMPLES
from tests.e2e.servers import SECRET, grpc_server, http_backend

pytestmark = pytest.mark.envoy

ODD_HEADERS = b"User-Agent: cu\xffrl\r\nX-Odd: \xfe\xff\x80 \xc3(\r\n"
# Per example: its modules (VM id if several, source), its plugin configuration, extra
# request headers (what its documented request carries) and the status it answers.
EXAMPLE_CASES: dict[str, tuple[list[tuple[str, Path]], str, bytes, int]] = {
    "http_headers": ([("pywasm", EXAMPLES / "http_headers" / "http_headers.py")], "", b"", 200),
    "http_auth": ([("pywasm", EXAMPLES / "http_auth" / "http_auth.py")], "",
                  f"Authorization: {SECRET}\r\n".encode(), 200),
    "await_callout": ([("pywasm", EXAMPLES / "await_callout" / "await_callout.py")], "",
                      f"Authorization: {SECRET}\r\n".encode(), 200),
    "grpc_auth": ([("pywasm", EXAMPLES / "grpc_auth" / "grpc_auth.py")], "",
                  b"X-Token: secret\r\n", 200),
    "grpc_stream": ([("pywasm", EXAMPLES / "grpc_stream" / "grpc_stream.py")], "", b"", 200),
    "metrics": ([("pywasm", EXAMPLES / "metrics" / "metrics.py")], "", b"", 200),
    "shared_counter": ([("pywasm", EXAMPLES / "shared_counter" / "shared_counter.py")], "",
                       b"", 200),
    "shared_queue": ([("collector", EXAMPLES / "shared_queue" / "collector.py"),
                      ("producer", EXAMPLES / "shared_queue" / "producer.py")], "", b"", 200),
    "typed_config": ([("pywasm", EXAMPLES / "typed_config" / "typed_config.py")],
                     json.dumps({"header": "x-tenant", "value": "blue",
                                 "deny_paths": ["/admin"]}), b"", 200),
    "foreign_functions": ([("pywasm", EXAMPLES / "foreign_functions" / "foreign_functions.py")],
                          "", b"", 200),
}


def all_examples_config(built: Callable[[Path], Path], backend: int, grpc: int,
                        ports: dict[str, int]) -> dict[str, Any]:
    """One bootstrap: a listener per example on ``ports[example]``, the clusters they call."""
    clusters = [Upstream("backend", backend), Upstream("auth", backend),
                Upstream("grpc_auth", grpc, http2=True), Upstream("grpc_echo", grpc, http2=True)]
    listeners: list[dict[str, Any]] = []
    for example, (modules, configuration, _, _) in EXAMPLE_CASES.items():
        filters = [WasmFilter(built(source), configuration=configuration,
                              name=name if len(modules) > 1 else example)
                   for name, source in modules]
        config = HttpBootstrap(filters=filters, route_to="backend", clusters=clusters,
                               port=ports[example]).to_config()
        listener = config["static_resources"]["listeners"][0]
        listener["name"] = example
        listeners.append(listener)
    config["static_resources"]["listeners"] = listeners
    return config


@pytest.fixture(scope="module")
def examples_envoy(built: Callable[[Path], Path], tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[tuple[Envoy, dict[str, int]]]:
    """Envoy with every HTTP example behind its own port (example: port), and the servers
    they call."""
    backend = http_backend()
    grpc, grpc_port = grpc_server()
    ports = {example: free_port() for example in EXAMPLE_CASES}
    config = all_examples_config(built, backend.server_address[1], grpc_port, ports)
    envoy = Envoy(config, tmp_path_factory.mktemp("envoy-odd-bytes"))
    try:
        envoy.start(timeout=180)  # ten VMs to compile
        yield envoy, ports
    finally:
        envoy.stop()
        grpc.stop(grace=None)
        backend.shutdown()


def raw_get(port: int, extra: bytes) -> bytes:
    """Send one GET with the odd header bytes over a socket; return the whole answer."""
    request = (b"GET / HTTP/1.1\r\nHost: a\r\n" + ODD_HEADERS + extra
               + b"Connection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("example", list(EXAMPLE_CASES))
def test_example_answers_normally_to_odd_header_bytes(
    example: str, examples_envoy: tuple[Envoy, dict[str, int]]
) -> None:
    *_, extra, status = EXAMPLE_CASES[example]
    answer = raw_get(examples_envoy[1][example], extra)
    assert answer.split(b"\r\n", 1)[0] == f"HTTP/1.1 {status} OK".encode(), answer[:2000]


def test_odd_header_bytes_are_logged_escaped(examples_envoy: tuple[Envoy, dict[str, int]]
                                             ) -> None:
    envoy, ports = examples_envoy
    raw_get(ports["http_headers"], b"")
    logs = envoy.wait_for_log("-> user-agent: cu\\xffrl")
    assert "-> user-agent: cu\\xffrl" in logs
    assert "-> x-odd: \\xfe\\xff\\x80 \\xc3(" in logs
