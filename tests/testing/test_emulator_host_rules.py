"""Envoy's rules the emulator follows, in both engines: when header maps can be read, what a
failed HTTP call reports, how a local reply reaches a gRPC client, Envoy's zlib functions."""

from __future__ import annotations

import pytest

from proxywasm import Action, LogLevel, Status
from proxywasm.testing import Host, HostStatusError, HttpStream, envoy_compress, envoy_uncompress
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

GRPC_REQUEST = {":method": "POST", ":path": "/grpc-unavailable", ":authority": "example.com",
                "content-type": "application/grpc"}


def request(proxywasm_host: HostFactory, headers: dict[str, str]) -> tuple[Host, HttpStream]:
    host = proxywasm_host(FILTERS / "host_rules.py")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers(headers)
    return host, stream


def test_request_headers_are_gone_once_the_filter_lets_them_pass(
    proxywasm_host: HostFactory,
) -> None:
    host, stream = request(proxywasm_host, {":path": "/passed"})
    stream.send_request_body(b"data", end_of_stream=True)
    stream.send_response_headers({":status": "200"})
    stream.send_response_body(b"ok", end_of_stream=True)
    stream.complete()
    assert host.logs(LogLevel.INFO) == [
        "request header in body: BadArgumentError",
        "request header in response: BadArgumentError",
        "response header in body: BadArgumentError",
        "request header in log: '/passed'",
        "response header in log: '200'",
    ]


def test_held_request_headers_stay_readable(proxywasm_host: HostFactory) -> None:
    host, stream = request(proxywasm_host, {":path": "/hold"})
    stream.send_request_body(b"data", end_of_stream=True)
    assert host.logs(LogLevel.INFO) == ["request header in body: '/hold'"]


def test_failed_call_has_no_response_and_reports_a_reset(proxywasm_host: HostFactory) -> None:
    host, stream = request(proxywasm_host, {":path": "/call"})
    host.fail_http_call(host.http_calls[0])
    assert host.logs(LogLevel.INFO) == [
        "call headers: BadArgumentError",
        "call body: None",
        "call status: (11, 'reset')",
        "request header after resume: BadArgumentError",
    ]
    assert not stream.request_paused


def test_answered_call_has_its_response(proxywasm_host: HostFactory) -> None:
    host, _ = request(proxywasm_host, {":path": "/call"})
    host.respond_http_call(host.http_calls[0], 503, body="unavailable")
    assert host.logs(LogLevel.INFO)[:2] == ["call headers: [(':status', '503')]",
                                            "call body: b'unavailable'"]


def test_grpc_client_gets_status_and_message_in_a_trailers_only_reply(
    proxywasm_host: HostFactory,
) -> None:
    _, stream = request(proxywasm_host, GRPC_REQUEST)
    assert stream.actions == [("request_headers", Action.PAUSE)]
    assert stream.response_headers == [
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "14"),
        ("grpc-message", "down%0A100%25 %C3%A9"),
    ]
    assert stream.response_body == b""
    assert stream.local_response is not None and stream.local_response.grpc_status == 14


def test_http_status_of_a_local_reply_maps_to_a_grpc_status(proxywasm_host: HostFactory) -> None:
    _, stream = request(proxywasm_host, {**GRPC_REQUEST, ":path": "/http-403"})
    assert stream.response_headers == [
        (":status", "200"), ("x-why", "policy"), ("content-type", "application/grpc"),
        ("grpc-status", "7"), ("grpc-message", "no"),
    ]


def test_plain_http_client_gets_the_local_reply_body(proxywasm_host: HostFactory) -> None:
    _, stream = request(proxywasm_host, {":path": "/http-403"})
    assert stream.response_headers == [
        (":status", "403"), ("x-why", "policy"), ("content-length", "2"),
        ("content-type", "text/plain"),
    ]
    assert stream.response_body == b"no"


def test_envoy_zlib_functions_round_trip_and_reject_garbage() -> None:
    assert envoy_uncompress(envoy_compress(b"proxy-wasm" * 3)) == b"proxy-wasm" * 3
    with pytest.raises(HostStatusError) as failed:
        envoy_uncompress(b"not zlib")
    assert failed.value.status == Status.SERIALIZATION_FAILURE
