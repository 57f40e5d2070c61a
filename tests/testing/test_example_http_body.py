"""The http_body example in the emulator, both engines (as tests/e2e/test_example_http_body.py):
append, prepend or replace the request or response body, whole, without a stale length."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import Action
from proxywasm.testing import Host, HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory, split_at

EXAMPLE = EXAMPLES / "http_body" / "http_body.py"
EXAMPLES_PER_ENGINE = {"source": 40, "wasm": 8}


def request(host: Host, **headers: str) -> HttpStream:
    """A POST with a content-length and the given (underscored) headers, headers sent."""
    stream = host.new_http_stream()
    sent = {":method": "POST", ":path": "/", ":authority": "example.com",
            "content-length": "14", **{name.replace("_", "-"): value
                                       for name, value in headers.items()}}
    assert stream.send_request_headers(sent) == Action.CONTINUE
    return stream


@pytest.fixture
def host(proxywasm_host: HostFactory) -> Host:
    started = proxywasm_host(EXAMPLE)
    assert started.start()
    return started


@pytest.mark.parametrize(("operation", "expected"), [
    ("append", b"[initial body][this is appended body]"),
    ("prepend", b"[this is prepended body][initial body]"),
    ("replace", b"[this is replaced body]"),
])
def test_request_body_is_changed_whole(host: Host, operation: str, expected: bytes) -> None:
    stream = request(host, buffer_operation=operation)
    assert stream.request_headers.get("content-length") is None
    assert stream.send_request_body(b"[initial ", end_of_stream=False) == Action.PAUSE
    assert stream.request_body == b""
    assert stream.send_request_body(b"body]", end_of_stream=True) == Action.CONTINUE
    assert stream.request_body == expected
    assert host.logs()[-1] == f"{operation} on the request body: 14 bytes before"


def test_the_text_comes_from_buffer_replace_with(host: Host) -> None:
    stream = request(host, buffer_operation="replace", buffer_replace_with='{"id": 7}')
    stream.send_request_body(b"[initial body]")
    assert stream.request_body == b'{"id": 7}'


def test_response_body_is_changed_and_its_length_dropped(host: Host) -> None:
    stream = request(host, buffer_operation="append", buffer_replace_at="response",
                     buffer_replace_with="!")
    assert stream.request_headers.get("content-length") == "14"
    stream.send_request_body(b"[initial body]")
    assert stream.request_body == b"[initial body]"
    stream.send_response_headers({":status": "200", "content-length": "5"})
    assert stream.response_headers.get("content-length") is None
    assert stream.send_response_body(b"hel", end_of_stream=False) == Action.PAUSE
    assert stream.send_response_body(b"lo", end_of_stream=True) == Action.CONTINUE
    assert stream.response_body == b"hello!"


def test_without_an_operation_both_bodies_pass_unchanged(host: Host) -> None:
    stream = request(host)
    assert stream.request_headers.get("content-length") == "14"
    assert stream.send_request_body(b"[initial", end_of_stream=False) == Action.CONTINUE
    stream.send_request_body(b" body]")
    stream.send_response_headers({":status": "200", "content-length": "2"})
    assert stream.send_response_body(b"ok") == Action.CONTINUE
    assert (stream.request_body, stream.response_body) == (b"[initial body]", b"ok")
    assert stream.response_headers.get("content-length") == "2"


@pytest.mark.parametrize("headers", [{"buffer_operation": "delete"},
                                     {"buffer_operation": "append",
                                      "buffer_replace_at": "trailers"}])
def test_an_unknown_operation_or_side_is_answered_400(host: Host,
                                                      headers: dict[str, str]) -> None:
    stream = host.new_http_stream()
    sent = {":method": "POST", ":path": "/", **{name.replace("_", "-"): value
                                                for name, value in headers.items()}}
    assert stream.send_request_headers(sent) == Action.PAUSE
    assert stream.local_response is not None
    assert stream.local_response.status == 400
    assert stream.response_body.startswith(b"buffer-operation must be one of append, prepend, "
                                           b"replace")


def test_wasmx_changes_the_request_body_it_delivers_whole(proxywasm_host: HostFactory) -> None:
    """Nginx WasmX reads the whole request body first and calls on_request_body once."""
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    stream = request(host, buffer_operation="prepend")
    assert stream.send_request_body(b"[initial body]", end_of_stream=True) == Action.CONTINUE
    assert stream.request_body == b"[this is prepended body][initial body]"


def test_wasmx_changes_only_the_last_part_of_a_response_over_its_body_buffers(
    proxywasm_host: HostFactory,
) -> None:
    """Over WasmX's 16 KiB of response body buffers the filter cannot hold the body whole."""
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    stream = request(host, buffer_operation="replace", buffer_replace_at="response")
    stream.send_request_body(b"[initial body]")
    stream.send_response_headers()
    for _ in range(5):
        stream.send_response_body(b"x" * 4096, end_of_stream=False)
    stream.send_response_body(b"last", end_of_stream=True)
    assert stream.response_body == b"x" * 20480 + b"[this is replaced body]"
    assert len(stream.host_errors) == 2


# What Envoy hands a filter as a header value: no NUL, CR or LF, no surrounding blanks.
header_values = st.binary(max_size=200).map(
    lambda value: value.translate(None, b"\0\r\n").strip(b" \t"))


def test_any_body_in_any_chunks_is_changed_as_one(proxywasm_host: HostFactory,
                                                  proxywasm_engine: str) -> None:
    host = proxywasm_host(EXAMPLE)
    assert host.start()

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(body=st.binary(max_size=3000), text=header_values,
           operation=st.sampled_from(["append", "prepend", "replace"]),
           side=st.sampled_from(["request", "response"]),
           cuts=st.lists(st.integers(0, 3000), max_size=8))
    def check(body: bytes, text: bytes, operation: str, side: str, cuts: list[int]) -> None:
        stream = host.new_http_stream()
        stream.send_request_headers([(":method", "POST"), (":path", "/"),
                                     ("buffer-operation", operation),
                                     ("buffer-replace-at", side), ("buffer-replace-with", text)])
        chunks = split_at(body, cuts)
        if side == "response":
            stream.send_request_body(b"", end_of_stream=True)
            stream.send_response_headers()
        send = stream.send_request_body if side == "request" else stream.send_response_body
        for index, chunk in enumerate(chunks):
            send(chunk, end_of_stream=index == len(chunks) - 1)
        changed = {"append": body + text, "prepend": text + body, "replace": text}[operation]
        assert (stream.request_body if side == "request" else stream.response_body) == changed
        stream.complete()

    check()
