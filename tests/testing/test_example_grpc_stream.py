"""The grpc_stream example in the emulator, both engines (as tests/e2e/test_grpc.py)."""

from __future__ import annotations

from proxywasm import Action, GrpcStatusCode, LogLevel
from proxywasm.testing import GrpcStream, Host, HttpStream
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
