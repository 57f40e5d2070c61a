"""TCP connections in the emulator, in both engines."""

from __future__ import annotations

from proxywasm import Action, LogLevel
from proxywasm.testing import TcpConnection
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory


def connect(proxywasm_host: HostFactory) -> tuple[TcpConnection, list[str]]:
    host = proxywasm_host(FILTERS / "emulated_tcp.py")
    assert host.start()
    return host.new_tcp_connection(), host.logs(LogLevel.INFO)


def test_client_bytes_are_rewritten_for_the_server(proxywasm_host: HostFactory) -> None:
    connection, _ = connect(proxywasm_host)
    assert connection.new_connection_action == Action.CONTINUE
    assert connection.send_downstream_data(b"hello ") == Action.CONTINUE
    connection.send_downstream_data(b"there")
    assert connection.data_to_upstream == b"HELLO THERE"


def test_server_bytes_are_held_until_the_end(proxywasm_host: HostFactory) -> None:
    connection, _ = connect(proxywasm_host)
    assert connection.send_upstream_data(b"part 1, ") == Action.PAUSE
    assert connection.data_to_downstream == b""
    assert connection.send_upstream_data(b"part 2", end_of_stream=True) == Action.CONTINUE
    assert connection.data_to_downstream == b"part 1, part 2"


def test_filter_closes_the_client_on_quit(proxywasm_host: HostFactory) -> None:
    connection, _ = connect(proxywasm_host)
    connection.send_downstream_data(b"QUIT\n")
    assert connection.downstream_closed
    assert connection.data_to_upstream == b""


def test_deferred_done_finishes_when_the_filter_calls_done(
        proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "emulated_tcp.py")
    host.start()
    connection = host.new_tcp_connection()
    connection.close_downstream()
    connection.complete()
    assert not connection.completed
    connection.close_upstream()
    assert connection.completed
    assert host.logs(LogLevel.INFO) == [
        "connected", "client closed (REMOTE)", "done later", "server closed; finishing",
        "logged",
    ]
