"""The metrics example in the emulator, both engines (as tests/e2e/test_metrics.py)."""

from __future__ import annotations

from proxywasm.testing import Host, HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "metrics" / "metrics.py"
BODY = b"x" * 38  # the size of the body the e2e test's Envoy sends


def started(proxywasm_host: HostFactory) -> Host:
    host = proxywasm_host(EXAMPLE)
    assert host.start()
    return host


def served(host: Host, method: str = "GET", status: str = "200") -> HttpStream:
    """One request answered with ``status`` and BODY in two chunks, then completed."""
    stream = host.new_http_stream()
    stream.send_request_headers({":method": method, ":path": "/", ":authority": "example.com"},
                                end_of_stream=True)
    stream.send_response_headers({":status": status})
    stream.send_response_body(BODY[:20], end_of_stream=False)
    stream.send_response_body(BODY[20:], end_of_stream=True)
    stream.complete()
    return stream


def test_metrics_are_counted_with_labels_in_the_name(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    so_far = [served(host).response_headers.get("x-requests-so-far") for _ in range(3)]
    assert so_far == ["1", "2", "3"]
    assert host.metrics == {"pyfilter_requests.method.GET.status.200": 3,
                            "pyfilter_in_flight": 0}
    assert host.histograms == {"pyfilter_response_body_bytes": [38, 38, 38]}


def test_each_label_combination_is_its_own_counter(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    served(host)
    served(host, "POST", "404")
    assert served(host, "POST", "404").response_headers.get("x-requests-so-far") == "2"
    assert host.metrics["pyfilter_requests.method.GET.status.200"] == 1
    assert host.metrics["pyfilter_requests.method.POST.status.404"] == 2


def test_gauge_counts_requests_in_flight(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    first, second = host.new_http_stream(), host.new_http_stream()
    first.send_request_headers(end_of_stream=True)
    second.send_request_headers(end_of_stream=True)
    assert host.metrics["pyfilter_in_flight"] == 2
    first.complete()
    assert host.metrics["pyfilter_in_flight"] == 1


# Nginx WasmX (the emulator's WasmX profile): it increments counters only, so the SDK moves
# the gauge by reading and recording it


def test_wasmx_counts_and_tracks_requests_in_flight(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx")
    assert host.start()
    in_flight = host.new_http_stream()
    in_flight.send_request_headers(end_of_stream=True)
    assert host.metrics["pyfilter_in_flight"] == 1
    assert [served(host).response_headers.get("x-requests-so-far") for _ in range(2)] == [
        "1", "2"]
    assert host.metrics == {"pyfilter_requests.method.GET.status.200": 2,
                            "pyfilter_in_flight": 1}
    assert host.histograms == {"pyfilter_response_body_bytes": [38, 38]}
