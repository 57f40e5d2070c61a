"""The http_auth example in the emulator, both engines (as tests/e2e/test_callouts.py)."""

from __future__ import annotations

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream, wasmx
from tests.conftest import EXAMPLES
from tests.e2e.servers import SECRET
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "http_auth" / "http_auth.py"


def paused_request(proxywasm_host: HostFactory, credentials: str) -> tuple[Host, HttpStream]:
    """A request to /orders held by the filter while the auth service is asked."""
    host = proxywasm_host(EXAMPLE, clusters=["backend", "auth"])
    assert host.start()
    stream = host.new_http_stream()
    headers = {":method": "GET", ":path": "/orders", ":authority": "example.com",
               "authorization": credentials}
    assert stream.send_request_headers(headers, end_of_stream=True) == Action.PAUSE
    return host, stream


def test_the_auth_service_is_asked_with_the_credentials(proxywasm_host: HostFactory) -> None:
    host, stream = paused_request(proxywasm_host, SECRET)
    [call] = host.http_calls
    assert call.upstream == "auth"
    assert call.headers == [(":method", "GET"), (":path", "/check"), (":authority", "auth"),
                            ("authorization", SECRET)]
    assert call.timeout_ms == 2000
    assert stream.request_paused


def test_authorized_request_reaches_the_backend_with_the_user(
    proxywasm_host: HostFactory,
) -> None:
    host, stream = paused_request(proxywasm_host, SECRET)
    host.respond_http_call(host.http_calls[0], 200, body="alice")
    assert not stream.request_paused
    assert stream.local_response is None
    assert stream.request_headers.get("x-user") == "alice"
    assert stream.send_response_headers({":status": "200"}) == Action.CONTINUE


def test_unauthorized_request_is_denied_locally(proxywasm_host: HostFactory) -> None:
    host, stream = paused_request(proxywasm_host, "Bearer wrong")
    host.respond_http_call(host.http_calls[0], 401, body="who are you?")
    assert stream.response_headers.get(":status") == "403"
    assert stream.response_body == b"access denied\n"
    assert stream.request_headers.get("x-user") is None


def test_call_without_a_response_is_answered_with_503(proxywasm_host: HostFactory) -> None:
    host, stream = paused_request(proxywasm_host, SECRET)
    host.fail_http_call(host.http_calls[0])
    assert stream.response_headers.get(":status") == "503"
    assert stream.response_body == b"auth service unavailable\n"
    assert host.logs(LogLevel.WARN) == ["the auth service failed (no response); denying"]


def test_503_from_an_unreachable_service_is_answered_with_503(
    proxywasm_host: HostFactory,
) -> None:
    """Envoy answers a call to a port where nothing listens with its own 503 (e2e test)."""
    host, stream = paused_request(proxywasm_host, SECRET)
    host.respond_http_call(host.http_calls[0], 503,
                           body="upstream connect error or disconnect/reset before headers")
    assert stream.response_headers.get(":status") == "503"
    assert stream.response_body == b"auth service unavailable\n"
    assert host.logs(LogLevel.WARN) == ["the auth service failed (503); denying"]


# Nginx WasmX (the emulator's WasmX profile): the upstream is host[:port], "auth" is auth:80


def test_wasmx_asks_auth_port_80_when_nginx_resolves_it(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host=wasmx(resolver=["auth"]))
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/orders", "authorization": SECRET})
    [call] = host.http_calls
    assert call.upstream == "auth:80"
    host.respond_http_call(call, 200, body="alice")
    assert not stream.request_paused
    assert stream.request_headers.get("x-user") == "alice"


def test_wasmx_denies_when_auth_does_not_resolve(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/orders", "authorization": SECRET})
    assert host.http_calls == []
    assert stream.response_headers.get(":status") == "503"
    assert stream.response_body == b"auth service unavailable\n\n"
