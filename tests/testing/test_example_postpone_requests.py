"""The postpone_requests example in the emulator, both engines (as
tests/e2e/test_example_postpone_requests.py). Not in WasmX: there ``set_effective_context`` does
nothing, so a tick cannot resume a request (docs/wasmx.md)."""

from __future__ import annotations

from datetime import timedelta

from proxywasm import Action, LogLevel
from proxywasm.testing import Host
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "postpone_requests" / "postpone_requests.py"


def started(proxywasm_host: HostFactory) -> Host:
    """The plugin, ticking every second."""
    host = proxywasm_host(EXAMPLE)
    assert host.start()
    assert host.tick_period() == timedelta(seconds=1)
    return host


def test_requests_wait_for_the_next_tick(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    host.advance_time(timedelta(milliseconds=200))
    early = host.new_http_stream()
    assert early.send_request_headers({":path": "/a"}) == Action.PAUSE
    host.advance_time(timedelta(milliseconds=500))
    late = host.new_http_stream()
    late.send_request_headers({":path": "/b"})
    assert host.advance_time(timedelta(milliseconds=299)) == 0
    assert early.request_paused and late.request_paused
    assert host.advance_time(timedelta(milliseconds=1)) == 1
    assert not early.request_paused and not late.request_paused
    assert early.request_headers.get("x-postponed-ms") == "800"
    assert late.request_headers.get("x-postponed-ms") == "300"


def test_the_log_tells_which_request_was_postponed_and_resumed(
    proxywasm_host: HostFactory,
) -> None:
    host = started(proxywasm_host)
    stream = host.new_http_stream()
    stream.send_request_headers()
    host.tick()
    context = stream.context_id
    assert host.logs(LogLevel.INFO) == [f"postpone request with context id {context}",
                                        f"resume request with context id {context}"]


def test_a_request_whose_client_left_is_not_resumed(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    gone = host.new_http_stream()
    gone.send_request_headers()
    gone.complete()
    host.tick()
    assert host.logs(LogLevel.INFO) == [
        f"postpone request with context id {gone.context_id}"]
