"""The multiple_dispatches example in the emulator, both engines and WasmX (as
tests/e2e/test_example_multiple_dispatches.py)."""

from __future__ import annotations

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream, wasmx
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "multiple_dispatches" / "multiple_dispatches.py"


def fanned_out(host: Host) -> HttpStream:
    """A request held while its ten calls are in flight."""
    assert host.start()
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": "/"}) == Action.PAUSE
    return stream


def test_ten_calls_are_in_flight_at_once(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE)
    fanned_out(host)
    assert [(call.upstream, call.headers.get(":path")) for call in host.http_calls] == [
        ("httpbin", f"/dispatch/{number}") for number in range(10)]


def test_the_request_resumes_only_when_the_last_call_answered(
    proxywasm_host: HostFactory,
) -> None:
    host = proxywasm_host(EXAMPLE)
    stream = fanned_out(host)
    *first_nine, last = host.http_calls
    for call in reversed(first_nine):
        host.respond_http_call(call, 200)
    assert stream.request_paused
    host.respond_http_call(last, 200)
    assert not stream.request_paused
    assert host.logs(LogLevel.INFO) == [
        "request resumed after 10 dispatched calls, 10 answered 200"]
    assert stream.send_response_headers({":status": "200"}) == Action.CONTINUE
    assert stream.response_headers.get("total-dispatched") == "10"
    assert stream.response_headers.get("dispatches-succeeded") == "10"


def test_failed_and_non_200_calls_are_counted_out_and_the_request_still_passes(
    proxywasm_host: HostFactory,
) -> None:
    host = proxywasm_host(EXAMPLE)
    stream = fanned_out(host)
    calls = host.http_calls
    for call in calls[:3]:
        host.fail_http_call(call)
    host.respond_http_call(calls[3], 500)
    for call in calls[4:]:
        host.respond_http_call(call, 200)
    assert not stream.request_paused
    assert len(host.logs(LogLevel.WARN)) == 3
    assert host.logs(LogLevel.WARN)[0].startswith(
        "the HTTP call to cluster 'httpbin' got no response")
    stream.send_response_headers({":status": "200"})
    assert stream.response_headers.get("dispatches-succeeded") == "6"


# Nginx WasmX (the emulator's WasmX profile): the upstream is host[:port], "httpbin" is :80


def test_wasmx_fans_out_to_httpbin_port_80(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host=wasmx(resolver=["httpbin"]))
    stream = fanned_out(host)
    assert {call.upstream for call in host.http_calls} == {"httpbin:80"}
    for call in host.http_calls:
        host.respond_http_call(call, 200)
    stream.send_response_headers({":status": "200"})
    assert stream.response_headers.get("dispatches-succeeded") == "10"


def test_wasmx_without_a_resolver_entry_counts_every_call_failed(
    proxywasm_host: HostFactory,
) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"})
    assert not stream.request_paused
    stream.send_response_headers({":status": "200"})
    assert stream.response_headers.get("dispatches-succeeded") == "0"
