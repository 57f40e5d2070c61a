"""Header bytes that are not UTF-8, read as str and written anywhere, in both engines."""

from __future__ import annotations

from proxywasm import Action, LogLevel
from proxywasm.testing import Host
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

ODD = b"ab\xff\xfecd"


def odd_host(proxywasm_host: HostFactory) -> Host:
    host = proxywasm_host(FILTERS / "odd_bytes.py", clusters=["backend", "grpc"])
    assert host.start()
    return host


def test_request_header_bytes_round_trip_to_the_upstream(proxywasm_host: HostFactory) -> None:
    stream = odd_host(proxywasm_host).new_http_stream()
    assert stream.send_request_headers({":path": "/", "x-odd": ODD}) == Action.CONTINUE
    assert stream.request_headers.get_bytes("x-odd") == ODD
    assert stream.request_headers.get_bytes("x-copy") == ODD
    assert stream.request_headers.get_bytes("x-added") == ODD


def test_log_print_and_logging_show_the_bytes_escaped(proxywasm_host: HostFactory) -> None:
    host = odd_host(proxywasm_host)
    host.new_http_stream().send_request_headers({":path": "/", "x-odd": ODD})
    messages = [record.message for record in host.log_records]
    assert "x-odd: ab\\xff\\xfecd" in messages
    assert "printed: ab\\xff\\xfecd" in messages
    assert "odd: logged: ab\\xff\\xfecd" in messages


def test_response_headers_and_trailers_round_trip(proxywasm_host: HostFactory) -> None:
    stream = odd_host(proxywasm_host).new_http_stream()
    stream.send_request_headers({":path": "/", "x-odd": ODD})
    stream.send_request_body(b"", end_of_stream=False)
    stream.send_request_trailers({"x-odd": ODD})
    stream.send_response_headers([(":status", "200"), (b"x-odd", b"\xc3(")])
    stream.send_response_body(b"", end_of_stream=False)
    stream.send_response_trailers({"x-t": "1"})
    assert stream.request_trailers.get_bytes("x-copy") == ODD
    assert stream.response_headers.get_bytes("x-copy") == ODD
    assert stream.response_headers.get_bytes("x-upstream-copy") == b"\xc3("
    assert stream.response_trailers.get_bytes("x-copy") == ODD


def test_local_response_headers_carry_the_bytes(proxywasm_host: HostFactory) -> None:
    stream = odd_host(proxywasm_host).new_http_stream()
    assert stream.send_request_headers({":path": "/local", "x-odd": ODD}) == Action.PAUSE
    assert stream.local_response is not None
    assert stream.local_response.headers.get_bytes("x-copy") == ODD
    assert (b"x-copy", ODD) in stream.response_headers.to_bytes()


def test_http_call_headers_and_answer_round_trip(proxywasm_host: HostFactory) -> None:
    host = odd_host(proxywasm_host)
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": "/call", "x-odd": ODD}) == Action.PAUSE
    (call,) = host.http_calls
    assert call.headers.get_bytes("x-copy") == ODD
    host.respond_http_call(call, headers={"x-odd": b"\x80answer"})
    assert stream.request_headers.get_bytes("x-answer") == b"\x80answer"
    assert "call answered: \\x80answer" in [record.message for record in host.log_records]


def test_grpc_metadata_carries_the_bytes(proxywasm_host: HostFactory) -> None:
    host = odd_host(proxywasm_host)
    host.new_http_stream().send_request_headers({":path": "/grpc", "x-odd": ODD})
    (call,) = host.grpc_calls
    assert call.initial_metadata.get_bytes("x-copy") == ODD


def test_a_lone_surrogate_that_stands_for_no_byte_fails_as_in_the_proxy(
    proxywasm_host: HostFactory,
) -> None:
    host = proxywasm_host(FILTERS / "odd_bytes.py", raise_filter_errors=False)
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/lone"})
    assert stream.local_response is not None and stream.local_response.status == 500
    assert "surrogates not allowed" in "\n".join(host.logs(LogLevel.ERROR))
