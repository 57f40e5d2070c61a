"""The tcp_filter example in the emulator, both engines (as tests/e2e/test_tcp.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxywasm import Action, LogLevel, PeerType
from proxywasm.testing import Host, HostLinkError, TcpConnection, UnsupportedByHostError
from pywasm_filter.abi import ENVOY, WASMX
from pywasm_filter.build import build
from pywasm_filter.linking import HostTargetError
from pywasm_filter.pytest_plugin import Builder
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "tcp_filter" / "tcp_filter.py"


def started(proxywasm_host: HostFactory) -> Host:
    host = proxywasm_host(EXAMPLE)
    assert host.start()
    return host


def echo(connection: TcpConnection, message: bytes) -> bytes:
    """Send ``message`` as the client; the server echoes what reached it; return what the
    client receives."""
    connection.send_downstream_data(message)
    connection.send_upstream_data(connection.data_to_upstream)
    return connection.data_to_downstream


def test_client_data_is_rewritten_on_its_way_upstream(proxywasm_host: HostFactory) -> None:
    connection = started(proxywasm_host).new_tcp_connection()
    assert connection.new_connection_action == Action.CONTINUE
    assert echo(connection, b"hello tcp\n") == b"HELLO TCP\n"


def test_connection_events_and_byte_counts_are_reported(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    connection = host.new_tcp_connection()
    assert echo(connection, b"0123456789") == b"0123456789"
    connection.close_downstream(PeerType.REMOTE)
    connection.send_upstream_data(b"", end_of_stream=True)
    connection.complete()
    context = connection.context_id
    assert host.logs(LogLevel.INFO) == [
        f"connection {context} opened",
        f"connection {context}: client side closed (REMOTE)",
        f"connection {context}: server side closed (UNKNOWN)",
        f"connection {context}: 10 bytes up, 10 bytes down",
    ]


def test_filter_closes_the_connection_on_quit(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    quitting = host.new_tcp_connection()
    assert quitting.send_downstream_data(b"QUIT\n") == Action.PAUSE
    assert quitting.downstream_closed
    assert quitting.data_to_upstream == b""
    assert host.logs(LogLevel.INFO)[-1] == (
        f"connection {quitting.context_id}: client side closed (LOCAL)")
    assert echo(host.new_tcp_connection(), b"still up\n") == b"STILL UP\n"


# Nginx WasmX: the build refuses it for WasmX, WasmX refuses its (Envoy-only) module, and the
# emulator's WasmX profile shows what WasmX would do at the call


def test_wasmx_build_refuses_a_tcp_filter(tmp_path: Path) -> None:
    with pytest.raises(HostTargetError, match=r"tcp_filter\.py:22: Shout\.on_new_connection: TCP "
                       r"\(stream\) filters are not implemented"):
        build(EXAMPLE, tmp_path / "tcp_filter.wasm", hosts=(ENVOY, WASMX))


def test_wasmx_refuses_the_module_built_for_envoy(proxywasm_build: Builder) -> None:
    with pytest.raises(HostLinkError, match="incompatible import type for "
                       "env::proxy_get_log_level"):
        Host.from_wasm(proxywasm_build(EXAMPLE), host="wasmx")


def test_wasmx_opens_no_tcp_connection() -> None:
    host = Host.from_source(EXAMPLE, host="wasmx")
    assert host.start()
    with pytest.raises(UnsupportedByHostError, match=r"proxy_wasm` is not allowed in nginx's "
                       r"stream\{\} block"):
        host.new_tcp_connection()
