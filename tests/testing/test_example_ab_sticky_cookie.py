"""The ab_sticky_cookie example in the emulator, both engines (as
tests/e2e/test_example_ab_sticky_cookie.py)."""

from __future__ import annotations

import binascii
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import LogLevel
from proxywasm.testing import Host, HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "ab_sticky_cookie" / "ab_sticky_cookie.py"
SETTINGS = {"variants": {"a": 1, "b": 1}, "client_id_header": "x-user-id", "max_age": 60}
EXAMPLES_PER_ENGINE = {"source": 100, "wasm": 10}
cookie_pairs = st.lists(st.tuples(st.sampled_from(["ab_variant", "theme", "ab", "session"]),
                                  st.text(alphabet="abc=_-", max_size=4)), max_size=4)


def started(proxywasm_host: HostFactory, settings: dict[str, object] | None = None) -> Host:
    host = proxywasm_host(EXAMPLE, plugin_configuration=json.dumps(settings or SETTINGS))
    assert host.start()
    return host


def request(host: Host, headers: list[tuple[str, str]] | None = None) -> HttpStream:
    """One request with ``headers`` and the backend's 200 (which sets a cookie of its own)."""
    stream = host.new_http_stream()
    stream.send_request_headers([(":path", "/"), *(headers or [])], end_of_stream=True)
    stream.send_response_headers({":status": "200", "set-cookie": "session=1"},
                                 end_of_stream=True)
    return stream


def user_in(variant: str) -> str:
    """A client id that the weights {a: 1, b: 1} put in ``variant`` (crc32 even: a)."""
    return next(user for user in (f"user{n}" for n in range(100))
                if "ab"[binascii.crc32(user.encode()) % 2] == variant)


def test_new_client_gets_a_variant_and_its_cookie(proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host), [("x-user-id", user_in("b"))])
    assert stream.request_headers.get("x-variant") == "b"
    assert stream.response_headers.get_all("set-cookie") == [
        "session=1", "ab_variant=b; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"]


def test_one_client_id_always_gets_the_same_variant(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    for variant in "ab":
        streams = [request(host, [("x-user-id", user_in(variant))]) for _ in range(3)]
        assert {stream.request_headers.get("x-variant") for stream in streams} == {variant}


def test_cookie_keeps_the_variant_and_is_not_set_again(proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host),
                     [("cookie", "theme=dark; ab_variant=b"), ("x-user-id", user_in("a"))])
    assert stream.request_headers.get("x-variant") == "b"
    assert stream.response_headers.get_all("set-cookie") == ["session=1"]


def test_cookie_in_a_second_cookie_header_is_found(proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host),
                     [("cookie", "theme=dark"), ("cookie", "ab_variant=a")])
    assert stream.request_headers.get("x-variant") == "a"
    assert stream.response_headers.get_all("set-cookie") == ["session=1"]


@pytest.mark.parametrize("cookie", ["ab_variant=c", "ab_variant=", "ab_variant=a%00"])
def test_unknown_variant_in_the_cookie_is_reassigned(proxywasm_host: HostFactory,
                                                      cookie: str) -> None:
    stream = request(started(proxywasm_host),
                     [("cookie", cookie), ("x-user-id", user_in("b"))])
    assert stream.request_headers.get("x-variant") == "b"
    assert "ab_variant=b; Path=/; Max-Age=60; HttpOnly; SameSite=Lax" in (
        stream.response_headers.get_all("set-cookie"))


def test_variant_header_from_the_client_is_replaced(proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host),
                     [("x-variant", "b"), ("cookie", "ab_variant=a")])
    assert stream.request_headers.get_all("x-variant") == ["a"]


def test_clients_without_an_id_are_spread_by_the_weights(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, {"variants": {"a": 3, "b": 1}})
    seen = Counter(request(host).request_headers.get("x-variant") for _ in range(400))
    assert set(seen) == {"a", "b"}
    assert 200 < seen["a"] < 400  # 300 expected; the odds of leaving this range are ~1e-12


def test_weight_zero_takes_no_new_clients_but_keeps_its_own(
    proxywasm_host: HostFactory,
) -> None:
    host = started(proxywasm_host, {"variants": {"old": 0, "new": 1}})
    assert {request(host).request_headers.get("x-variant") for _ in range(20)} == {"new"}
    kept = request(host, [("cookie", "ab_variant=old")])
    assert kept.request_headers.get("x-variant") == "old"


@pytest.mark.parametrize(("settings", "error"), [
    ({"variants": {"a": 0}}, "weights must be >= 0 and one above 0"),
    ({"variants": {"a": -1, "b": 2}}, "weights must be >= 0 and one above 0"),
    ({"variants": {"a b": 1}}, "'a b' is not a cookie-safe name"),
    ({"variants": {"a": 1}, "cookie": "ab;x"}, "'ab;x' is not a cookie-safe name"),
    ({}, "variants"),
])
def test_bad_configuration_is_refused(proxywasm_host: HostFactory, settings: dict[str, object],
                                      error: str) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=json.dumps(settings))
    assert not host.start()
    [message] = [line for line in host.logs(LogLevel.ERROR)
                 if line.startswith("rejecting the plugin configuration: ")]
    assert error in message


def test_any_cookie_header_gives_a_configured_variant(proxywasm_host: HostFactory,
                                                    proxywasm_engine: str) -> None:
    """The first ab_variant cookie is kept when it names a variant; else one is assigned."""
    host = started(proxywasm_host)

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(pairs=cookie_pairs)
    def check(pairs: list[tuple[str, str]]) -> None:
        cookie = "; ".join(f"{name}={value}" for name, value in pairs)
        stream = request(host, [("cookie", cookie)] if pairs else [])
        variant = stream.request_headers.get("x-variant")
        sent = next((value for name, value in pairs if name == "ab_variant"), None)
        kept = sent in ("a", "b")
        assert variant == sent if kept else variant in ("a", "b")
        assert stream.response_headers.get_all("set-cookie")[1:] == ([] if kept else [
            f"ab_variant={variant}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"])

    check()


# Nginx WasmX (the emulator's WasmX profile): the same, with the client's header casing


def test_wasmx_finds_the_cookie_whatever_the_header_case(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx", plugin_configuration=json.dumps(SETTINGS))
    assert host.start()
    stream = request(host, [("Cookie", "ab_variant=b"), ("X-User-Id", user_in("a"))])
    assert stream.request_headers.get("x-variant") == "b"
    fresh = request(host, [("X-User-Id", user_in("a"))])
    assert fresh.request_headers.get("x-variant") == "a"
