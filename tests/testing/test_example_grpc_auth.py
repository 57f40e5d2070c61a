"""The grpc_auth example in the emulator, both engines (as tests/e2e/test_grpc.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxywasm import Action, GrpcStatusCode
from proxywasm.testing import FilterError, Host, HostLinkError, HttpStream
from pywasm_filter.abi import ENVOY, WASMX
from pywasm_filter.build import build
from pywasm_filter.linking import HostTargetError
from pywasm_filter.pytest_plugin import Builder
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "grpc_auth" / "grpc_auth.py"
GRPC_CLIENT = {":method": "POST", ":path": "/auth.Auth/Check", ":authority": "example.com",
               "content-type": "application/grpc", "te": "trailers"}


def checking(proxywasm_host: HostFactory, token: str,
             headers: dict[str, str] | None = None) -> tuple[Host, HttpStream]:
    """A request held while its token is checked with auth.Auth/Check."""
    host = proxywasm_host(EXAMPLE, clusters=["backend", "grpc_auth"])
    assert host.start()
    stream = host.new_http_stream()
    request = {**(headers or {":method": "GET", ":path": "/", ":authority": "example.com"}),
               "x-token": token}
    assert stream.send_request_headers(request, end_of_stream=True) == Action.PAUSE
    return host, stream


def test_token_is_sent_as_the_check_message(proxywasm_host: HostFactory) -> None:
    host, _ = checking(proxywasm_host, "secret")
    [call] = host.grpc_calls
    assert (call.upstream, call.service, call.method) == ("grpc_auth", "auth.Auth", "Check")
    assert call.message == b"secret"


def test_grpc_call_allows_a_known_token(proxywasm_host: HostFactory) -> None:
    host, stream = checking(proxywasm_host, "secret")
    host.respond_grpc_call(host.grpc_calls[0], b"alice")
    assert not stream.request_paused
    assert stream.request_headers.get("x-user") == "alice"
    assert stream.local_response is None


def test_grpc_error_status_is_answered_with_403_naming_it(proxywasm_host: HostFactory) -> None:
    host, stream = checking(proxywasm_host, "forged")
    host.respond_grpc_call(host.grpc_calls[0], status=GrpcStatusCode.PERMISSION_DENIED,
                           status_message="unknown token 'forged'")
    assert stream.response_headers.get(":status") == "403"
    assert stream.response_headers.get("x-grpc-status") == "7"
    assert stream.response_body == b"denied: unknown token 'forged'\n"


def test_grpc_client_is_allowed_through(proxywasm_host: HostFactory) -> None:
    host, stream = checking(proxywasm_host, "secret", GRPC_CLIENT)
    host.respond_grpc_call(host.grpc_calls[0], b"alice")
    assert stream.request_headers.get("x-user") == "alice"
    assert not stream.request_paused


def test_grpc_client_gets_permission_denied_with_the_message(proxywasm_host: HostFactory) -> None:
    host, stream = checking(proxywasm_host, "forged", GRPC_CLIENT)
    host.respond_grpc_call(host.grpc_calls[0], status=GrpcStatusCode.PERMISSION_DENIED,
                           status_message="unknown token 'forged'")
    assert stream.response_headers.get(":status") == "200"
    assert stream.response_headers.get("content-type") == "application/grpc"
    assert stream.response_headers.get("grpc-status") == str(GrpcStatusCode.PERMISSION_DENIED)
    assert stream.response_headers.get("grpc-message") == "denied: unknown token 'forged'"
    assert stream.response_body == b""


# Nginx WasmX: the build refuses it for WasmX, WasmX refuses its (Envoy-only) module, and the
# emulator's WasmX profile shows what WasmX would do at the call


def test_wasmx_build_refuses_naming_the_grpc_call(tmp_path: Path) -> None:
    with pytest.raises(HostTargetError, match=r"grpc_auth\.py:26: grpc_call: Nginx WasmX does not "
                       r"implement proxy_grpc_call \(calling it traps there\)"):
        build(EXAMPLE, tmp_path / "grpc_auth.wasm", hosts=(ENVOY, WASMX))


def test_wasmx_refuses_the_module_built_for_envoy(proxywasm_build: Builder) -> None:
    with pytest.raises(HostLinkError, match="incompatible import type for "
                       "env::proxy_get_log_level"):
        Host.from_wasm(proxywasm_build(EXAMPLE), host="wasmx")


def test_wasmx_traps_at_the_grpc_call() -> None:
    host = Host.from_source(EXAMPLE, host="wasmx")
    assert host.start()
    with pytest.raises(FilterError, match=r"host trap \(function not yet implemented\): "
                       "proxy_grpc_call"):
        host.new_http_stream().send_request_headers({":path": "/", "x-token": "secret"})
