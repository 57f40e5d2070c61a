"""The shared_queue example in the emulator, both engines (as tests/e2e/test_shared.py): the
producer and the collector are two modules in two VMs of one proxy."""

from __future__ import annotations

from proxywasm import Action, LogLevel
from proxywasm.testing import Host
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

COLLECTOR = EXAMPLES / "shared_queue" / "collector.py"
PRODUCER = EXAMPLES / "shared_queue" / "producer.py"


def request(host: Host, path: str) -> Action:
    stream = host.new_http_stream()
    return stream.send_request_headers(
        {":method": "GET", ":path": path, ":authority": "example.com"}, end_of_stream=True)


def test_queue_carries_items_from_one_plugin_to_another(proxywasm_host: HostFactory) -> None:
    collector = proxywasm_host(COLLECTOR, vm_id="collector", plugin_name="collector")
    assert collector.start()
    producer = proxywasm_host(PRODUCER, vm_id="producer", plugin_name="producer",
                              proxy=collector.proxy)
    assert producer.start()
    assert [request(producer, path) for path in ("/a", "/b", "/c")] == [Action.CONTINUE] * 3
    assert collector.logs(LogLevel.INFO) == [
        "collected #1: GET /a", "collected #2: GET /b", "collected #3: GET /c"]
    assert collector.queue("requests") == []
    assert producer.logs() == []


def test_producer_without_a_collector_warns_and_lets_the_request_pass(
    proxywasm_host: HostFactory,
) -> None:
    producer = proxywasm_host(PRODUCER, vm_id="producer")
    assert producer.start()
    assert request(producer, "/a") == Action.CONTINUE
    assert producer.logs(LogLevel.WARN) == [
        "no queue 'requests' in VM 'collector'; is the collector loaded?"]


def test_collector_lets_requests_through_untouched(proxywasm_host: HostFactory) -> None:
    collector = proxywasm_host(COLLECTOR, vm_id="collector")
    assert collector.start()
    stream = collector.new_http_stream()
    assert stream.send_request_headers({":path": "/x", "a": "b"}) == Action.CONTINUE
    assert stream.request_headers == [(":path", "/x"), ("a", "b")]
