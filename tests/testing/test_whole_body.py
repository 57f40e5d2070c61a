"""The whole-body helpers in the emulator, both engines: hold until the end, then decide."""

from __future__ import annotations

import hashlib

from proxywasm import Action, LogLevel
from proxywasm.testing import Host
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

CHUNK = b"x" * 600_000


def started(proxywasm_host: HostFactory) -> Host:
    host = proxywasm_host(FILTERS / "whole_body.py")
    assert host.start()
    return host


def test_request_is_held_until_its_body_ends_then_answered(proxywasm_host: HostFactory) -> None:
    stream = started(proxywasm_host).new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/"})
    assert stream.send_request_body(b"abc", end_of_stream=False) == Action.PAUSE
    assert stream.local_response is None
    stream.send_request_body(b"def", end_of_stream=True)
    assert stream.local_response is not None
    assert stream.local_response.headers.get("x-body-size") == "6"
    assert stream.local_response.headers.get("x-body-sha256") == hashlib.sha256(
        b"abcdef").hexdigest()


def test_response_body_is_rewritten_whole(proxywasm_host: HostFactory) -> None:
    stream = started(proxywasm_host).new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    stream.send_response_headers()
    assert stream.send_response_body(b"hello ", end_of_stream=False) == Action.PAUSE
    assert stream.send_response_body(b"world", end_of_stream=True) == Action.CONTINUE
    assert stream.response_body == b"HELLO WORLD"


def test_body_over_the_buffer_limit_is_reported_once(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/"})
    for _ in range(3):
        assert stream.send_request_body(CHUNK, end_of_stream=False) == Action.PAUSE
    (warning,) = host.logs(LogLevel.WARN)
    assert warning.startswith("the request body passed 1200000 bytes before its end, over the "
                              "proxy's buffer limit of 1048576 bytes: Envoy answers 413")
    assert "per_connection_buffer_limit_bytes" in warning
