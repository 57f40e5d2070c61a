"""The http_headers example, tested in the emulator in both engines."""

from __future__ import annotations

from proxywasm import Action, LogLevel
from proxywasm.testing import Host
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "http_headers" / "http_headers.py"


def started(proxywasm_host: HostFactory) -> Host:
    host = proxywasm_host(EXAMPLE)
    assert host.start()
    return host


def test_response_gets_the_powered_by_header(proxywasm_host: HostFactory) -> None:
    stream = started(proxywasm_host).new_http_stream()
    assert stream.send_request_headers({":path": "/"}, end_of_stream=True) == Action.CONTINUE
    assert stream.send_response_headers({":status": "200"}) == Action.CONTINUE
    assert stream.response_headers == [(":status", "200"), ("x-powered-by", "pywasm-filter")]


def test_hello_is_answered_locally(proxywasm_host: HostFactory) -> None:
    stream = started(proxywasm_host).new_http_stream()
    assert stream.send_request_headers({":path": "/hello"}) == Action.PAUSE
    assert stream.local_response is not None
    assert stream.local_response.status == 200
    assert stream.response_body == b"Hello, World\n"
    assert stream.response_headers.get("hello") == "World"
    assert stream.response_headers.get("powered-by") == "proxy-wasm"


def test_headers_and_completion_are_logged(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/logged", "x-probe": "seen"}, end_of_stream=True)
    stream.send_response_headers({":status": "200"}, end_of_stream=True)
    stream.complete()
    context = stream.context_id
    assert host.logs(LogLevel.INFO) == [
        f"#{context} -> :path: /logged", f"#{context} -> x-probe: seen",
        f"#{context} <- :status: 200", f"#{context} completed.",
    ]


# Nginx WasmX (the emulator's WasmX profile)


def test_wasmx_answers_hello_with_its_newline(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": "/hello"}) == Action.PAUSE
    assert stream.response_body == b"Hello, World\n\n"
    assert stream.response_headers.get("hello") == "World"


def test_wasmx_headers_are_logged_lowercased_with_the_server_name(
    proxywasm_host: HostFactory,
) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/logged", "X-Probe": "seen"}, end_of_stream=True)
    stream.send_response_headers({":status": "200"}, end_of_stream=True)
    assert stream.response_headers.get("x-powered-by") == "pywasm-filter"
    context = stream.context_id
    assert host.logs(LogLevel.INFO) == [
        f"#{context} -> :path: /logged", f"#{context} -> :authority: localhost",
        f"#{context} -> x-probe: seen", f"#{context} <- :status: 200",
    ]
