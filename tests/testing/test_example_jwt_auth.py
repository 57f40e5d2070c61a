"""The jwt_auth example (PyJWT bundled from the environment) in the emulator, both engines."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "jwt_auth" / "jwt_auth.py"
KEY = "k" * 32
ISSUER = "https://issuer.example"
CONFIGURATION = json.dumps({"keys": {"kid1": KEY, "kid2": "m" * 40}, "issuer": ISSUER})


def token(host: Host, key: str = KEY, kid: str | None = "kid1", **claims: Any) -> str:
    """An HS256 token valid for an hour of the host's clock, with ``claims`` changed."""
    body = {"sub": "alice", "iss": ISSUER,
            "exp": int((host.time + timedelta(hours=1)).timestamp()), **claims}
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(body, key, algorithm="HS256", headers=headers)


def started(proxywasm_host: HostFactory, **options: Any) -> Host:
    host = proxywasm_host(EXAMPLE, plugin_configuration=CONFIGURATION, **options)
    assert host.start()
    return host


def request(host: Host, authorization: str | None) -> HttpStream:
    headers = {":method": "GET", ":path": "/orders", ":authority": "example.com",
               "x-jwt-sub": "mallory"}
    if authorization is not None:
        headers["authorization"] = authorization
    stream = host.new_http_stream()
    stream.send_request_headers(headers, end_of_stream=True)
    return stream


def assert_refused(stream: HttpStream, reason: str) -> None:
    assert stream.local_response is not None
    assert stream.response_headers.get(":status") == "401"
    assert stream.response_body == f"{reason}\n".encode()
    assert stream.response_headers.get("www-authenticate") == (
        f'Bearer error="invalid_token", error_description="{reason}"')


def test_valid_token_goes_on_with_its_subject(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    stream = request(host, f"Bearer {token(host)}")
    assert stream.local_response is None
    assert stream.request_headers.get("x-jwt-sub") == "alice"
    assert stream.send_response_headers({":status": "200"}) == Action.CONTINUE


def test_the_tokens_kid_picks_the_key(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    stream = request(host, f"Bearer {token(host, key='m' * 40, kid='kid2', sub='bob')}")
    assert stream.request_headers.get("x-jwt-sub") == "bob"


def test_request_without_a_token_is_refused(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    stream = request(host, None)
    assert_refused(stream, "missing bearer token")
    assert stream.request_headers.get("x-jwt-sub") is None


@pytest.mark.parametrize(("make", "reason"), [
    (lambda host: token(host, exp=int((host.time - timedelta(seconds=1)).timestamp())),
     "token expired"),
    (lambda host: token(host, nbf=int((host.time + timedelta(minutes=5)).timestamp())),
     "token not yet valid"),
    (lambda host: token(host, key="x" * 32), "bad signature"),
    (lambda host: token(host, kid="kid9"), "unknown key id"),
    (lambda host: token(host, kid=None), "unknown key id"),
    (lambda host: token(host, iss="https://elsewhere.example"), "wrong issuer"),
    (lambda host: jwt.encode({"sub": "alice", "iss": ISSUER}, KEY, algorithm="HS256",
                             headers={"kid": "kid1"}), "missing claim exp"),
    (lambda host: "not.a.token", "malformed token"),
], ids=["expired", "not-yet-valid", "bad-signature", "unknown-kid", "no-kid", "wrong-issuer",
        "no-exp", "malformed"])
def test_invalid_token_is_refused_with_the_reason(
        proxywasm_host: HostFactory, make: Any, reason: str) -> None:
    host = started(proxywasm_host)
    assert_refused(request(host, f"Bearer {make(host)}"), reason)


def test_expiry_follows_the_proxys_clock(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    issued = token(host)
    host.time = host.time + timedelta(hours=2)
    assert_refused(request(host, f"Bearer {issued}"), "token expired")


def test_short_keys_are_refused_at_configuration(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration='{"keys": {"kid1": "secret"}}')
    assert not host.start()
    assert ("rejecting the plugin configuration: give keys of at least 32 bytes (too short: "
            "kid1)") in host.logs(LogLevel.ERROR)


def test_any_authorization_header_without_a_valid_token_is_refused(
        proxywasm_host: HostFactory, proxywasm_engine: str) -> None:
    host = started(proxywasm_host)

    @settings(max_examples=30 if proxywasm_engine == "source" else 5, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=300))
    def check(value: str) -> None:
        stream = request(host, value)
        assert stream.response_headers.get(":status") == "401"
        assert not host.failures

    check()


# Nginx WasmX (the emulator's WasmX profile)


def test_wasmx_accepts_and_refuses_tokens(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, host="wasmx")
    assert request(host, f"Bearer {token(host)}").request_headers.get("x-jwt-sub") == "alice"
    refused = request(host, "Bearer not.a.token")
    assert refused.response_headers.get(":status") == "401"
    assert refused.response_body == b"malformed token\n\n"
