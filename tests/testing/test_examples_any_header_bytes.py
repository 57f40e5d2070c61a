"""Every HTTP example takes any header bytes (Hypothesis): no filter error arises from them,
and each extra request and response header reaches the other side byte for byte.

The source engine runs a full sample; the wasm engine (the real runtime's conversions) a
smaller one, as its streams cost more.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import LogLevel
from proxywasm.testing import ENVOY_FOREIGN_FUNCTIONS, Host
from proxywasm.testing.streams import HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

HTTP_EXAMPLES: Mapping[str, tuple[Path, dict[str, Any]]] = {
    "ab_sticky_cookie": (EXAMPLES / "ab_sticky_cookie" / "ab_sticky_cookie.py",
                         {"plugin_configuration": '{"variants": {"a": 1, "b": 1}}'}),
    "await_callout": (EXAMPLES / "await_callout" / "await_callout.py",
                      {"clusters": ["backend", "auth"]}),
    "foreign_functions": (EXAMPLES / "foreign_functions" / "foreign_functions.py",
                          {"foreign_functions": ENVOY_FOREIGN_FUNCTIONS,
                           "log_level": LogLevel.DEBUG}),
    "grpc_auth": (EXAMPLES / "grpc_auth" / "grpc_auth.py",
                  {"clusters": ["backend", "grpc_auth"]}),
    "grpc_stream": (EXAMPLES / "grpc_stream" / "grpc_stream.py",
                    {"clusters": ["backend", "grpc_echo"]}),
    "hmac_signing": (EXAMPLES / "hmac_signing" / "hmac_signing.py",
                     {"plugin_configuration": '{"key": "k"}'}),
    "http_auth": (EXAMPLES / "http_auth" / "http_auth.py", {"clusters": ["backend", "auth"]}),
    "http_body": (EXAMPLES / "http_body" / "http_body.py", {}),
    "http_body_chunk": (EXAMPLES / "http_body_chunk" / "http_body_chunk.py", {}),
    "http_headers": (EXAMPLES / "http_headers" / "http_headers.py", {}),
    "http_routing": (EXAMPLES / "http_routing" / "http_routing.py",
                     {"plugin_configuration": '{"canary_percent": 50}'}),
    "json_validation": (EXAMPLES / "json_validation" / "json_validation.py", {}),
    "local_rate_limit": (EXAMPLES / "local_rate_limit" / "local_rate_limit.py",
                         {"plugin_configuration": '{"rate": 1, "burst": 1000000}'}),
    "metrics": (EXAMPLES / "metrics" / "metrics.py", {}),
    "multiple_dispatches": (EXAMPLES / "multiple_dispatches" / "multiple_dispatches.py", {}),
    "pii_redaction": (EXAMPLES / "pii_redaction" / "pii_redaction.py", {}),
    "properties": (EXAMPLES / "properties" / "properties.py", {}),
    "shared_counter": (EXAMPLES / "shared_counter" / "shared_counter.py", {"vm_id": "counter"}),
    "shared_queue_collector": (EXAMPLES / "shared_queue" / "collector.py",
                               {"vm_id": "collector"}),
    "shared_queue_producer": (EXAMPLES / "shared_queue" / "producer.py", {"vm_id": "producer"}),
    "typed_config": (EXAMPLES / "typed_config" / "typed_config.py",
                     {"plugin_configuration": '{"header": "x-tenant", "value": "blue"}'}),
}
EXAMPLES_PER_ENGINE = {"source": 25, "wasm": 4}
REQUEST = [(":method", "GET"), (":path", "/"), (":authority", "example.com"),
           (":scheme", "http"), ("authorization", "Bearer token")]

# What Envoy hands a filter: no NUL, CR or LF, and no surrounding spaces or tabs.
header_values = st.binary(max_size=3000).map(
    lambda value: value.translate(None, b"\0\r\n").strip(b" \t"))
extra_headers = st.lists(
    st.tuples(st.from_regex(rb"x-odd-[a-z0-9]{1,12}", fullmatch=True), header_values),
    min_size=1, max_size=6, unique_by=lambda pair: pair[0])


def is_open(stream: HttpStream) -> bool:
    """Whether more of the exchange can be sent (no local reply, reset or completion)."""
    return not (stream.local_response is not None or stream.reset or stream.completed)


def answer_calls(host: Host, headers: list[tuple[bytes, bytes]]) -> None:
    """Answer every pending HTTP and gRPC call, the HTTP ones with ``headers`` added."""
    for call in host.http_calls:
        host.respond_http_call(call, 200, [(":status", "200"), *headers], b"ok")
    for grpc_call in host.grpc_calls:
        host.respond_grpc_call(grpc_call, b"")


def exchange(host: Host, request: list[tuple[bytes, bytes]],
             response: list[tuple[bytes, bytes]]) -> HttpStream:
    """One request and response through the filter, answering its callouts on the way."""
    stream = host.new_http_stream()
    stream.send_request_headers([*REQUEST, *request])
    answer_calls(host, response)
    if is_open(stream):
        stream.send_request_body(b"body", end_of_stream=True)
        answer_calls(host, response)
    if is_open(stream):
        stream.send_response_headers([(":status", "200"), *response])
    if is_open(stream):
        stream.send_response_body(b"answer", end_of_stream=True)
    stream.complete()
    return stream


@pytest.mark.parametrize("example", sorted(HTTP_EXAMPLES))
def test_example_takes_any_header_bytes(example: str, proxywasm_engine: str,
                                        proxywasm_host: HostFactory) -> None:
    path, options = HTTP_EXAMPLES[example]
    host = proxywasm_host(path, **options)
    assert host.start()

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(request=extra_headers, response=extra_headers)
    def check(request: list[tuple[bytes, bytes]], response: list[tuple[bytes, bytes]]) -> None:
        stream = exchange(host, request, response)
        if stream.local_response is None:
            assert [stream.request_headers.get_bytes(name) for name, _ in request] == [
                value for _, value in request]
            assert [stream.response_headers.get_bytes(name) for name, _ in response] == [
                value for _, value in response]

    check()
