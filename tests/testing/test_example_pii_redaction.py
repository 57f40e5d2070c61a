"""The pii_redaction example in the emulator, both engines (as
tests/e2e/test_example_pii_redaction.py): emails, Luhn-valid card numbers and phone numbers
redacted from whole text responses, the length dropped, the counts logged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream, wasmx
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory, split_at

EXAMPLE = EXAMPLES / "pii_redaction" / "pii_redaction.py"
EXAMPLES_PER_ENGINE = {"source": 60, "wasm": 10}
DOCUMENT = (b'{"user": "ana.lopez+billing@mail.example.co.uk", "card": "4111 1111 1111 1111", '
            b'"order": "4111 1111 1111 1112", "phone": "+44 20 7946 0958", '
            b'"desk": "(555) 010-4477", "date": "2026-01-15"}')
REDACTED = (b'{"user": "[email]", "card": "[card]", "order": "4111 1111 1111 1112", '
            b'"phone": "[phone]", "desk": "[phone]", "date": "2026-01-15"}')


def respond(host: Host, chunks: list[bytes], content_type: str | None = "application/json",
            **headers: str) -> HttpStream:
    """A GET answered with ``chunks`` as the response body and the (underscored) headers."""
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "GET", ":path": "/account",
                                 "accept-encoding": "gzip, br"}, end_of_stream=True)
    response = {":status": "200", "content-length": str(sum(map(len, chunks))),
                **{name.replace("_", "-"): value for name, value in headers.items()}}
    if content_type is not None:
        response["content-type"] = content_type
    stream.send_response_headers(response)
    for index, chunk in enumerate(chunks):
        stream.send_response_body(chunk, end_of_stream=index == len(chunks) - 1)
    return stream


@pytest.fixture
def host(proxywasm_host: HostFactory) -> Host:
    started = proxywasm_host(EXAMPLE)
    assert started.start()
    return started


def test_pii_in_a_json_response_is_redacted(host: Host) -> None:
    stream = respond(host, [DOCUMENT[:40], DOCUMENT[40:]])
    assert stream.response_body == REDACTED
    assert stream.response_headers.get("content-length") is None
    assert host.logs(LogLevel.INFO) == ["/account: redacted 1 email, 1 card, 2 phone"]


def test_the_response_is_held_until_it_is_whole(host: Host) -> None:
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    stream.send_response_headers({":status": "200", "content-type": "text/plain"})
    assert stream.send_response_body(b"mail me at ana@exa", end_of_stream=False) == Action.PAUSE
    assert stream.response_body == b""
    assert stream.send_response_body(b"mple.com", end_of_stream=True) == Action.CONTINUE
    assert stream.response_body == b"mail me at [email]"


def test_the_upstream_is_asked_for_an_uncompressed_answer(host: Host) -> None:
    stream = respond(host, [b"ok"])
    assert stream.request_headers.get("accept-encoding") is None


def test_a_response_without_pii_is_unchanged_and_nothing_logged(host: Host) -> None:
    stream = respond(host, [b"order 12345678901234567890 shipped on 2026-01-15"],
                     content_type="text/html")
    assert stream.response_body == b"order 12345678901234567890 shipped on 2026-01-15"
    assert host.logs(LogLevel.INFO) == []


def test_a_binary_response_is_not_searched(host: Host) -> None:
    stream = respond(host, [b"ana@example.com"], content_type="image/png")
    assert stream.response_body == b"ana@example.com"
    assert stream.response_headers.get("content-length") == "15"


def test_a_compressed_response_passes_with_a_warning(host: Host) -> None:
    stream = respond(host, [b"\x1f\x8b..."], content_encoding="gzip")
    assert stream.response_body == b"\x1f\x8b..."
    assert host.logs(LogLevel.WARN) == [
        "/account: a gzip-encoded response cannot be searched; passing it unchanged"]


def test_a_response_without_a_content_type_is_searched(host: Host) -> None:
    assert respond(host, [b"ana@example.com"], content_type=None).response_body == b"[email]"


def test_wasmx_redacts_the_body_it_buffers(proxywasm_host: HostFactory) -> None:
    """Nginx WasmX buffers the response body once the filter returns PAUSE."""
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    assert respond(host, [DOCUMENT]).response_body == REDACTED


@pytest.mark.parametrize(("buffers", "leaked"), [(None, True), (1 << 20, False)])
def test_wasmx_redacts_a_large_response_only_with_buffers_for_all_of_it(
    proxywasm_host: HostFactory, buffers: int | None, leaked: bool,
) -> None:
    """A 40 KiB response in 4 KiB chunks: over WasmX's default 16 KiB of body buffers the
    parts before the last pass unredacted; ``wasm_response_body_buffers 4 1m;`` holds it."""
    profile = wasmx() if buffers is None else wasmx(response_body_buffers=buffers)
    host = proxywasm_host(EXAMPLE, host=profile)
    assert host.start()
    body = b"".join(b"%08d ana@example.com\n" % line for line in range(1800))
    stream = respond(host, [body[start:start + 4096] for start in range(0, len(body), 4096)])
    assert (b"ana@example.com" in stream.response_body) == leaked
    assert stream.response_body.endswith(b"[email]\n")


def luhn_complete(prefix: str) -> str:
    """``prefix`` with the check digit that makes it a valid card number."""
    for digit in "0123456789":
        number = prefix + digit
        total = sum(int(char) * 2 - 9 * (int(char) > 4) if index % 2 else int(char)
                    for index, char in enumerate(reversed(number)))
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable: one check digit always fits")


cards = st.from_regex(r"[3-6][0-9]{11,17}", fullmatch=True).map(luhn_complete)
emails = st.from_regex(r"[a-z][a-z0-9._+-]{0,20}@[a-z][a-z0-9-]{0,10}\.(com|org|io)",
                       fullmatch=True)
filler = st.text(st.characters(blacklist_characters="0123456789@+()-.",
                               blacklist_categories=("Cs",)), max_size=60)


def test_any_pii_in_any_text_is_redacted_in_any_chunks(proxywasm_host: HostFactory,
                                                       proxywasm_engine: str) -> None:
    host = proxywasm_host(EXAMPLE)
    assert host.start()

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(parts=st.lists(st.tuples(filler, st.one_of(cards, emails)), max_size=6),
           tail=filler, cuts=st.lists(st.integers(0, 2000), max_size=6))
    def check(parts: list[tuple[str, str]], tail: str, cuts: list[int]) -> None:
        body = "".join(f"{text} {pii} " for text, pii in parts).encode() + tail.encode()
        expected = "".join(f"{text} [{'email' if '@' in pii else 'card'}] "
                           for text, pii in parts).encode() + tail.encode()
        stream = respond(host, split_at(body, cuts), content_type="text/plain")
        assert stream.response_body == expected
        stream.complete()

    check()


def test_any_bytes_without_digits_or_at_signs_pass_unchanged(proxywasm_host: HostFactory,
                                                             proxywasm_engine: str) -> None:
    host = proxywasm_host(EXAMPLE)
    assert host.start()

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(body=st.binary(max_size=3000).map(lambda raw: raw.translate(None, b"0123456789@")))
    def check(body: bytes) -> None:
        stream = respond(host, [body], content_type="text/plain")
        assert stream.response_body == body
        stream.complete()

    check()
