"""The hmac_signing example in the emulator, both engines (as
tests/e2e/test_example_hmac_signing.py): the signature over method, path, timestamp and body,
with the key from the configuration; 401 for a bad, missing or stale one."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "hmac_signing" / "hmac_signing.py"
KEY = "s3cret"
CONFIG = f'{{"key": "{KEY}", "max_age_seconds": 60}}'
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
EXAMPLES_PER_ENGINE = {"source": 40, "wasm": 8}


def sign(method: str, path: str, timestamp: str, body: bytes, key: str = KEY) -> str:
    """What a client sends as x-signature (written here independently of the filter)."""
    digest = hmac.new(key.encode(), f"{method}\n{path}\n{timestamp}\n".encode() + body,
                      hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed(host: Host, body: bytes, *, path: str = "/orders", age: int = 0,
           signature: str | None = None, chunks: int = 2) -> HttpStream:
    """A POST of ``body`` signed for ``path`` (or with ``signature``), ``age`` seconds old."""
    timestamp = str(int(NOW.timestamp()) - age)
    stream = host.new_http_stream()
    headers = {":method": "POST", ":path": path, "content-length": str(len(body)),
               "x-timestamp": timestamp,
               "x-signature": signature or sign("POST", path, timestamp, body)}
    if stream.send_request_headers(headers, end_of_stream=not body) == Action.PAUSE:
        return stream
    size = -(-len(body) // chunks) if body else 1
    for start in range(0, len(body), size):
        stream.send_request_body(body[start:start + size],
                                 end_of_stream=start + size >= len(body))
    return stream


def denied(stream: HttpStream) -> str:
    """The reason of a 401 answer."""
    assert stream.local_response is not None
    assert stream.local_response.status == 401
    assert stream.response_headers.get("www-authenticate") == "HMAC-SHA256"
    return stream.response_body.decode().rstrip("\n")


@pytest.fixture
def host(proxywasm_host: HostFactory) -> Host:
    started = proxywasm_host(EXAMPLE, plugin_configuration=CONFIG, time=NOW)
    assert started.start()
    return started


def test_a_signed_body_goes_on_once_it_is_whole(host: Host) -> None:
    stream = host.new_http_stream()
    timestamp = str(int(NOW.timestamp()))
    stream.send_request_headers({":method": "PUT", ":path": "/a?b=c", "content-length": "6",
                                 "x-timestamp": timestamp,
                                 "x-signature": sign("PUT", "/a?b=c", timestamp, b"abcdef")})
    assert stream.send_request_body(b"abc", end_of_stream=False) == Action.PAUSE
    assert stream.request_body == b""
    assert stream.send_request_body(b"def", end_of_stream=True) == Action.CONTINUE
    assert stream.request_body == b"abcdef"
    assert stream.local_response is None


def test_a_signed_request_without_a_body_goes_on_from_its_headers(host: Host) -> None:
    stream = signed(host, b"")
    assert stream.local_response is None
    assert stream.actions == [("request_headers", Action.CONTINUE)]


def test_a_changed_body_is_denied(host: Host) -> None:
    timestamp = str(int(NOW.timestamp()))
    stream = signed(host, b'{"amount": 1000}',
                    signature=sign("POST", "/orders", timestamp, b'{"amount": 10}'))
    assert denied(stream) == "the signature does not match the request"
    assert stream.request_body == b""


def test_a_signature_for_another_path_is_denied(host: Host) -> None:
    timestamp = str(int(NOW.timestamp()))
    stream = signed(host, b"x", path="/admin", signature=sign("POST", "/orders", timestamp, b"x"))
    assert denied(stream) == "the signature does not match the request"


def test_a_signature_with_another_key_is_denied(host: Host) -> None:
    timestamp = str(int(NOW.timestamp()))
    stream = signed(host, b"x", signature=sign("POST", "/orders", timestamp, b"x", key="guess"))
    assert denied(stream) == "the signature does not match the request"
    assert host.logs(LogLevel.INFO)[-1] == "401: the signature does not match the request"


def test_a_body_added_to_a_request_signed_without_one_is_denied(host: Host) -> None:
    """Signed with no body and no content-length, then a body arrives (chunked)."""
    timestamp = str(int(NOW.timestamp()))
    stream = host.new_http_stream()
    assert stream.send_request_headers({":method": "POST", ":path": "/orders",
                                        "x-timestamp": timestamp,
                                        "x-signature": sign("POST", "/orders", timestamp, b"")},
                                       ) == Action.CONTINUE
    stream.send_request_body(b"smuggled", end_of_stream=True)
    assert denied(stream) == "the signature does not match the request"


@pytest.mark.parametrize(("age", "reason"), [
    (61, "the timestamp is 61 s off the proxy's clock (at most 60 s)"),
    (-120, "the timestamp is -120 s off the proxy's clock (at most 60 s)"),
])
def test_a_stale_or_future_timestamp_is_denied(host: Host, age: int, reason: str) -> None:
    assert denied(signed(host, b"x", age=age)) == reason


def test_a_timestamp_within_the_window_is_accepted(host: Host) -> None:
    assert signed(host, b"x", age=60).local_response is None


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "x-signature: sha256=<hex> is required"),
    ({"x-signature": "md5=00"}, "x-signature: sha256=<hex> is required"),
    ({"x-signature": "sha256=00"}, "x-timestamp: <Unix seconds> is required"),
    ({"x-signature": "sha256=00", "x-timestamp": "yesterday"},
     "x-timestamp: <Unix seconds> is required"),
])
def test_missing_or_malformed_headers_are_denied_at_once(host: Host, headers: dict[str, str],
                                                         reason: str) -> None:
    stream = host.new_http_stream()
    assert stream.send_request_headers({":method": "GET", ":path": "/", **headers},
                                       end_of_stream=True) == Action.PAUSE
    assert denied(stream) == reason


def test_the_proxy_clock_moving_on_makes_a_signature_stale(host: Host) -> None:
    host.advance_time(timedelta(minutes=2))
    assert denied(signed(host, b"x")).startswith("the timestamp is 120 s off")


@pytest.mark.parametrize(("config", "error"), [
    ("", 'the configuration must be a JSON object with a non-empty "key", '
         'e.g. {"key": "shared secret"}'),
    ('{"key": "k", "max_age": 5}',
     "unknown configuration keys ['max_age']: use key, max_age_seconds, timestamp_header"),
    ('{"key": "k", "max_age_seconds": 0}', '"max_age_seconds" must be a positive integer '
                                           'such as 300'),
])
def test_a_bad_configuration_is_refused_saying_why(proxywasm_host: HostFactory, config: str,
                                                   error: str) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=config)
    assert not host.start()
    assert host.logs(LogLevel.ERROR)[0] == f"rejecting the plugin configuration: {error}"


def test_wasmx_checks_the_body_it_delivers_whole(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=CONFIG, time=NOW, host="wasmx")
    assert host.start()
    assert signed(host, b"payload", chunks=1).local_response is None
    assert denied(signed(host, b"payload", chunks=1,
                         signature="sha256=" + "0" * 64)).endswith("does not match the request")


def test_any_body_passes_signed_and_fails_with_any_other_signature(
    proxywasm_host: HostFactory, proxywasm_engine: str,
) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=CONFIG, time=NOW)
    assert host.start()

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(body=st.binary(max_size=2000), chunks=st.integers(1, 5),
           forged=st.from_regex(r"sha256=[0-9a-f]{64}", fullmatch=True))
    def check(body: bytes, chunks: int, forged: str) -> None:
        timestamp = str(int(NOW.timestamp()))
        good = signed(host, body, chunks=chunks)
        assert good.local_response is None
        assert good.request_body == body
        if forged != sign("POST", "/orders", timestamp, body):
            assert denied(signed(host, body, chunks=chunks, signature=forged))
        good.complete()

    check()
