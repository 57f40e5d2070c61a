"""The postpone_requests example in the emulator, both engines (as
tests/e2e/test_example_postpone_requests.py). Not in WasmX: there ``proxy_set_effective_context``
does nothing, so a tick cannot change or resume a request (docs/wasmx.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from proxywasm import Action, LogLevel
from proxywasm.testing import FilterError, Host, HostLinkError
from pywasm_filter import compat, linking
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


def test_wasmx_cannot_run_it(proxywasm_build: Callable[[Path], Path]) -> None:
    [gap] = [gap for gap in compat.gaps(EXAMPLE) if gap.host == compat.WASMX]
    assert (gap.line, gap.used, gap.blocking) == (40, "acting_on", True)
    with pytest.raises(HostLinkError, match="incompatible host interface"):
        Host.from_wasm(proxywasm_build(EXAMPLE), host="wasmx")


def test_in_wasmx_the_tick_traps_and_the_request_waits() -> None:
    """What the same host calls do there (the source engine runs the filter as if WasmX had
    loaded it): the effective context stays the plugin's, so the tick's header change traps."""
    host = Host.from_source(EXAMPLE, link=linking.SourceLink(EXAMPLE), host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": "/a"}) == Action.PAUSE
    with pytest.raises(FilterError, match="can only set request headers before response is "
                                          "produced"):
        host.tick()
    assert stream.request_paused
    assert stream.request_headers.get("x-postponed-ms") is None
