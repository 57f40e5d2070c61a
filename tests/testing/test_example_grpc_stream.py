"""The grpc_stream example in the emulator, both engines (as tests/e2e/test_grpc.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxywasm import Action, GrpcStatusCode, LogLevel
from proxywasm.testing import FilterError, GrpcStream, Host, HostLinkError, HttpStream
from pywasm_filter.abi import ENVOY, WASMX
from pywasm_filter.build import build
from pywasm_filter.linking import HostTargetError
from pywasm_filter.pytest_plugin import Builder
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "grpc_stream" / "grpc_stream.py"


def streaming(proxywasm_host: HostFactory) -> tuple[Host, HttpStream, GrpcStream]:
    """A request to /streamed held while the echo stream runs."""
    host = proxywasm_host(EXAMPLE, clusters=["backend", "grpc_echo"])
    assert host.start()
    stream = host.new_http_stream()
    request = {":method": "GET", ":path": "/streamed", ":authority": "example.com"}
    assert stream.send_request_headers(request, end_of_stream=True) == Action.PAUSE
    [echo] = host.grpc_streams
    return host, stream, echo


def echo_server(host: Host, echo: GrpcStream) -> None:
    """Answer as the e2e tests' grpcio echo server does: metadata, one echo per message."""
    host.send_grpc_stream_initial_metadata(echo.token, {"x-echo-server": "python-grpcio"})
    for message in echo.sent:
        host.send_grpc_stream_message(echo.token, b"echo:" + message)
    host.send_grpc_stream_trailing_metadata(echo.token, {"x-count": str(len(echo.sent))})


def test_stream_gets_the_path_then_bye_and_is_half_closed(proxywasm_host: HostFactory) -> None:
    _, _, echo = streaming(proxywasm_host)
    assert (echo.upstream, echo.service, echo.method) == ("grpc_echo", "echo.Echo", "Chat")
    assert echo.initial_metadata == [("x-from", "wasm")]
    assert echo.sent == [b"/streamed", b"bye"]
    assert echo.end_stream_sent


def test_stream_delivers_metadata_messages_trailers_and_close(proxywasm_host: HostFactory) -> None:
    host, stream, echo = streaming(proxywasm_host)
    echo_server(host, echo)
    assert stream.request_paused
    host.close_grpc_stream(echo.token, GrpcStatusCode.OK)
    assert not stream.request_paused
    assert stream.request_headers.get("x-echo") == "echo:/streamed | echo:bye"
    assert stream.request_headers.get("x-echo-server") == "python-grpcio"
    assert host.logs(LogLevel.INFO) == ["echo stream trailers: x-count=2"]


def test_failed_stream_is_answered_with_502(proxywasm_host: HostFactory) -> None:
    host, stream, echo = streaming(proxywasm_host)
    host.close_grpc_stream(echo.token, GrpcStatusCode.UNAVAILABLE, "no healthy upstream")
    assert stream.response_headers.get(":status") == "502"
    assert stream.response_body == b"echo failed: 14 no healthy upstream\n"


# Nginx WasmX: the build refuses it for WasmX, WasmX refuses its (Envoy-only) module, and the
# emulator's WasmX profile shows what WasmX would do at the call


def test_wasmx_build_refuses_naming_the_stream_calls(tmp_path: Path) -> None:
    with pytest.raises(HostTargetError, match=r"grpc_stream\.py:25: open_grpc_stream: Nginx WasmX "
                       r"does not implement proxy_grpc_stream") as refused:
        build(EXAMPLE, tmp_path / "grpc_stream.wasm", hosts=(ENVOY, WASMX))
    assert "grpc_stream.py:30: GrpcStream.on_grpc_stream_initial_metadata: gRPC calls are " \
        "not implemented" in str(refused.value)


def test_wasmx_refuses_the_module_built_for_envoy(proxywasm_build: Builder) -> None:
    with pytest.raises(HostLinkError, match="incompatible import type for "
                       "env::proxy_get_log_level"):
        Host.from_wasm(proxywasm_build(EXAMPLE), host="wasmx")


def test_wasmx_traps_at_opening_the_stream() -> None:
    host = Host.from_source(EXAMPLE, host="wasmx")
    assert host.start()
    with pytest.raises(FilterError, match=r"host trap \(function not yet implemented\): "
                       "proxy_grpc_stream"):
        host.new_http_stream().send_request_headers({":path": "/streamed"})
