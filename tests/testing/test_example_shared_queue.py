"""The shared_queue example in the emulator, both engines (as tests/e2e/test_shared.py): the
producer and the collector are two modules in two VMs of one proxy."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxywasm import Action, LogLevel
from proxywasm.testing import FilterError, Host, HostLinkError, wasmx
from pywasm_filter.abi import ENVOY, WASMX
from pywasm_filter.build import build
from pywasm_filter.linking import HostTargetError
from pywasm_filter.pytest_plugin import Builder
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


# Nginx WasmX: the build refuses it for WasmX, WasmX refuses its (Envoy-only) module, and the
# emulator's WasmX profile shows what WasmX would do at the call


def test_wasmx_build_refuses_the_producers_resolve(tmp_path: Path) -> None:
    with pytest.raises(HostTargetError, match=r"producer\.py:20: resolve_shared_queue: Nginx WasmX "
                       r"does not implement proxy_resolve_shared_queue"):
        build(PRODUCER, tmp_path / "producer.wasm", hosts=(ENVOY, WASMX))


def test_wasmx_build_refuses_the_collectors_on_queue_ready(tmp_path: Path) -> None:
    with pytest.raises(HostTargetError, match=r"collector\.py:25: Collector\.on_queue_ready: "
                       "on_queue_ready is not implemented"):
        build(COLLECTOR, tmp_path / "collector.wasm", hosts=(ENVOY, WASMX))


def test_wasmx_refuses_the_module_built_for_envoy(proxywasm_build: Builder) -> None:
    with pytest.raises(HostLinkError, match="incompatible import type for "
                       "env::proxy_get_log_level"):
        Host.from_wasm(proxywasm_build(PRODUCER), host="wasmx")


def test_wasmx_traps_at_the_producers_resolve() -> None:
    host = Host.from_source(PRODUCER, host="wasmx")
    assert host.start()
    with pytest.raises(FilterError, match=r"host trap \(function not yet implemented\): "
                       "proxy_resolve_shared_queue"):
        request(host, "/a")


def test_wasmx_never_wakes_the_collector() -> None:
    host = Host.from_source(COLLECTOR, host=wasmx(shm_queues=["requests"]), vm_id="collector")
    assert host.start()
    host.enqueue("requests", b"GET /a")
    assert host.queue("requests") == [b"GET /a"]
    assert host.logs(LogLevel.INFO) == []
