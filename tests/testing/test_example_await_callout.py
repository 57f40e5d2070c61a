"""The await_callout example in the emulator, both engines (as tests/e2e/test_callouts.py)."""

from __future__ import annotations

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream, wasmx
from tests.conftest import EXAMPLES
from tests.e2e.servers import SECRET
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "await_callout" / "await_callout.py"


def paused_request(proxywasm_host: HostFactory, credentials: str) -> tuple[Host, HttpStream]:
    """A request to /orders held by the awaiting coroutine while the auth service is asked."""
    host = proxywasm_host(EXAMPLE, clusters=["backend", "auth"])
    assert host.start()
    stream = host.new_http_stream()
    headers = {":method": "GET", ":path": "/orders", ":authority": "example.com",
               "authorization": credentials}
    assert stream.send_request_headers(headers, end_of_stream=True) == Action.PAUSE
    return host, stream


def test_authorized_request_gets_user_and_plan_from_two_awaited_calls(
    proxywasm_host: HostFactory,
) -> None:
    host, stream = paused_request(proxywasm_host, SECRET)
    [check] = host.http_calls
    assert (check.upstream, check.headers.get(":path"), check.timeout_ms) == ("auth", "/check",
                                                                               2000)
    assert check.headers.get("authorization") == SECRET
    host.respond_http_call(check, 200, body="alice")
    assert stream.request_paused
    [profile] = host.http_calls
    assert profile.headers.get(":path") == "/profile/alice"
    host.respond_http_call(profile, 200, body="gold")
    assert not stream.request_paused
    assert stream.request_headers.get("x-user") == "alice"
    assert stream.request_headers.get("x-plan") == "gold"
    assert stream.local_response is None


def test_unauthorized_request_is_denied_locally(proxywasm_host: HostFactory) -> None:
    host, stream = paused_request(proxywasm_host, "Bearer wrong")
    host.respond_http_call(host.http_calls[0], 401, body="who are you?")
    assert stream.response_headers.get(":status") == "403"
    assert stream.response_body == b"access denied\n"
    assert host.http_calls == []


def test_call_without_a_response_raises_at_the_await_and_is_answered_with_503(
    proxywasm_host: HostFactory,
) -> None:
    host, stream = paused_request(proxywasm_host, SECRET)
    host.fail_http_call(host.http_calls[0])
    assert stream.response_headers.get(":status") == "503"
    assert stream.response_body == b"auth service unavailable\n"
    [warning] = host.logs(LogLevel.WARN)
    assert warning.startswith("the HTTP call to cluster 'auth' got no response")


def test_503_from_an_unreachable_service_is_answered_with_503(
    proxywasm_host: HostFactory,
) -> None:
    """Envoy answers a call to a port where nothing listens with its own 503 (e2e test)."""
    host, stream = paused_request(proxywasm_host, SECRET)
    host.respond_http_call(host.http_calls[0], 503, body="upstream connect error")
    assert stream.response_headers.get(":status") == "503"
    assert stream.response_body == b"auth service unavailable\n"
    assert host.logs(LogLevel.WARN) == []


# Nginx WasmX (the emulator's WasmX profile): the upstream is host[:port], "auth" is auth:80


def test_wasmx_awaits_both_calls_to_auth_port_80(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host=wasmx(resolver=["auth"]))
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/orders", "authorization": SECRET})
    host.respond_http_call(host.http_calls[0], 200, body="alice")
    [profile] = host.http_calls
    assert (profile.upstream, profile.headers.get(":path")) == ("auth:80", "/profile/alice")
    host.respond_http_call(profile, 200, body="gold")
    assert stream.request_headers.get("x-plan") == "gold"


def test_wasmx_denies_when_auth_does_not_resolve(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/orders", "authorization": SECRET})
    assert stream.response_headers.get(":status") == "503"
    assert stream.response_body == b"auth service unavailable\n\n"
