"""The dispatch_call_on_tick example in the emulator, both engines and WasmX (as
tests/e2e/test_example_dispatch_call_on_tick.py)."""

from __future__ import annotations

from datetime import timedelta

from proxywasm import LogLevel
from proxywasm.testing import wasmx
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "dispatch_call_on_tick" / "dispatch_call_on_tick.py"


def test_every_tick_dispatches_a_call_and_logs_its_answer(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE)
    assert host.start()
    assert host.tick_period() == timedelta(milliseconds=100)
    assert host.advance_time(timedelta(milliseconds=300)) == 3
    first, second, third = host.http_calls
    assert [(call.upstream, call.headers.get(":path")) for call in (first, second, third)] == [
        ("web_service", "/tick/1"), ("web_service", "/tick/2"), ("web_service", "/tick/3")]
    host.respond_http_call(second, 200, headers={"server": "test"}, body="ok",
                           trailers={"x-checksum": "1"})
    host.respond_http_call(first, 404)
    assert host.logs(LogLevel.INFO) == [
        "calling web_service every 0.1 s",
        "call 2: 200 with 2 headers and 2 bytes",
        "call 2 trailer x-checksum: 1",
        "call 1: 404 with 1 headers and 0 bytes",
    ]


def test_a_call_without_response_is_logged_as_a_warning(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE)
    assert host.start()
    host.tick()
    host.fail_http_call(host.http_calls[0])
    [warning] = host.logs(LogLevel.WARN)
    assert warning.startswith("call 1: the HTTP call to cluster 'web_service' got no response")


# Nginx WasmX (the emulator's WasmX profile): the upstream is host[:port]


def test_wasmx_calls_web_service_port_80_on_every_tick(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host=wasmx(resolver=["web_service"]))
    assert host.start()
    assert host.advance_time(timedelta(milliseconds=200)) == 2
    assert [call.upstream for call in host.http_calls] == ["web_service:80"] * 2
    host.respond_http_call(host.http_calls[0], 200, body="ok")
    assert host.logs(LogLevel.INFO)[-1] == "call 1: 200 with 1 headers and 2 bytes"
