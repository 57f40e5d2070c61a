"""The http_body_chunk example in the emulator, both engines (as
tests/e2e/test_example_http_body_chunk.py): each chunk passes on as soon as it is scanned,
and a pattern denies the request with 403 even when it is split across chunks."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory, split_at

EXAMPLE = EXAMPLES / "http_body_chunk" / "http_body_chunk.py"
EXAMPLES_PER_ENGINE = {"source": 60, "wasm": 10}
PATTERNS = "DROP TABLE\nforbidden\n"


def posting(host: Host) -> HttpStream:
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/upload"})
    return stream


@pytest.fixture
def host(proxywasm_host: HostFactory) -> Host:
    started = proxywasm_host(EXAMPLE, plugin_configuration=PATTERNS)
    assert started.start()
    return started


def test_each_clean_chunk_is_passed_on_at_once(host: Host) -> None:
    stream = posting(host)
    assert stream.send_request_body(b"first part, ", end_of_stream=False) == Action.CONTINUE
    assert stream.request_body == b"first part, "
    assert stream.send_request_body(b"second part", end_of_stream=True) == Action.CONTINUE
    assert stream.request_body == b"first part, second part"
    assert stream.local_response is None


def test_a_pattern_in_one_chunk_is_denied_with_403(host: Host) -> None:
    stream = posting(host)
    stream.send_request_body(b"a harmless start\n", end_of_stream=False)
    assert stream.send_request_body(b"then DROP TABLE users", end_of_stream=False) == \
        Action.PAUSE
    assert stream.local_response is not None
    assert stream.local_response.status == 403
    assert stream.response_body == b"request body denied\n"
    assert stream.request_body == b"a harmless start\n"
    assert host.logs(LogLevel.WARN) == ["denied: the request body has b'DROP TABLE' at byte 22"]


def test_a_pattern_split_across_two_chunks_is_found(host: Host) -> None:
    stream = posting(host)
    assert stream.send_request_body(b"this is forb", end_of_stream=False) == Action.CONTINUE
    assert stream.send_request_body(b"idden text", end_of_stream=True) == Action.PAUSE
    assert stream.local_response is not None
    assert stream.local_response.status == 403
    assert host.logs(LogLevel.WARN) == ["denied: the request body has b'forbidden' at byte 8"]


def test_a_pattern_over_many_one_byte_chunks_is_found(host: Host) -> None:
    stream = posting(host)
    actions = [stream.send_request_body(bytes([byte]), end_of_stream=False)
               for byte in b"xDROP TABLE"]
    assert actions == [Action.CONTINUE] * 10 + [Action.PAUSE]
    assert stream.request_body == b"xDROP TABL"


def test_the_default_pattern_is_forbidden(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE)
    assert host.start()
    assert host.logs() == ["denying request bodies that contain 1 pattern(s)"]
    stream = posting(host)
    assert stream.send_request_body(b"forbidden") == Action.PAUSE


def test_wasmx_scans_the_whole_body_it_delivers_at_once(proxywasm_host: HostFactory) -> None:
    """Nginx WasmX reads the whole request body, then calls on_request_body once."""
    host = proxywasm_host(EXAMPLE, plugin_configuration=PATTERNS, host="wasmx")
    assert host.start()
    stream = posting(host)
    assert stream.send_request_body(b"x" * 5000 + b"forbidden") == Action.PAUSE
    assert stream.response_body == b"request body denied\n\n"


def test_any_split_of_any_body_is_denied_exactly_when_it_has_a_pattern(
    proxywasm_host: HostFactory, proxywasm_engine: str,
) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=PATTERNS)
    assert host.start()

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(before=st.binary(max_size=400), after=st.binary(max_size=400),
           pattern=st.sampled_from([b"", b"DROP TABLE", b"forbidden"]),
           cuts=st.lists(st.integers(0, 820), max_size=12))
    def check(before: bytes, after: bytes, pattern: bytes, cuts: list[int]) -> None:
        body = before + pattern + after
        stream = posting(host)
        chunks = split_at(body, cuts)
        for index, chunk in enumerate(chunks):
            stream.send_request_body(chunk, end_of_stream=index == len(chunks) - 1)
            if stream.local_response is not None:
                break
        denied = b"DROP TABLE" in body or b"forbidden" in body
        assert (stream.local_response is not None) == denied
        if not denied:
            assert stream.request_body == body
        stream.complete()

    check()
