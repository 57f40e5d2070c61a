"""Host calls answer with Envoy's statuses in both engines (seen through the SDK's results)."""

from __future__ import annotations

from datetime import UTC, datetime

from proxywasm import LogLevel
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory


def test_failing_and_empty_host_calls(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "statuses.py", clusters=["auth"],
                          time=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/", "a": "bc"})
    assert host.logs(LogLevel.INFO) == [
        "unknown cluster: BadArgumentError",
        "missing shared data: (None, None)",
        "cas on missing key: None",  # Envoy creates a missing key whatever the CAS
        "empty queue: None",
        "unknown queue: None",
        "counter decrement: BadArgumentError",
        "counter increment by 0: BadArgumentError",
        "typed counter increment by 0: None",
        "counter record adds: 3",
        "histogram read: BadArgumentError",
        "unknown metric: NotFoundError",
        "missing property: None",
        "unknown foreign function: None",
        "unknown context: BadArgumentError",
        "body in headers phase: None",
        "buffer status: NotFoundError",
        f"header map size: {len(':path') + len('/') + len('a') + len('bc')}",  # Envoy's byteSize
        "response code: None",
        "time: '2030-01-02T03:04:05+00:00'",
    ]


def test_body_changes_only_at_its_start_or_end(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "statuses.py")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers()
    stream.send_request_body(b"abcd")
    assert host.logs(LogLevel.INFO)[-2:] == ["write inside the body: BadArgumentError",
                                             "body: b'ABcd!'"]
    assert stream.request_body == b"ABcd!"


def test_response_trailers_reach_the_filter(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "statuses.py")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers(end_of_stream=True)
    stream.send_response_headers()
    stream.send_response_body(b"x", end_of_stream=False)
    stream.send_response_trailers({"grpc-status": "0"})
    assert stream.response_trailers == [("grpc-status", "0"), ("x-trailers", "1")]
