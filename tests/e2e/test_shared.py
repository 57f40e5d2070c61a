"""Shared data across worker VMs and shared queues between plugins, in Envoy."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pywasm_filter.envoy import WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import RunEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy

REQUESTS = 120


def test_counter_loses_no_update_across_two_workers(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    module = WasmFilter(built(EXAMPLES / "shared_counter" / "shared_counter.py"))
    with run_envoy(module, concurrency=2) as envoy, ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda index: get(envoy.url + f"/{index}"), range(REQUESTS)))
        logs = envoy.logs()
    hits = sorted(int(response.headers["x-hits"]) for response in responses)
    assert hits == list(range(1, REQUESTS + 1))
    worker_threads = set(re.findall(r"\]\[(\d+)\]\[\w+\]\[wasm\]", logs))
    assert len(worker_threads) >= 2, "the requests should have been served by both workers"


def test_queue_carries_items_from_one_plugin_to_another(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    collector = WasmFilter(built(EXAMPLES / "shared_queue" / "collector.py"), name="collector")
    producer = WasmFilter(built(EXAMPLES / "shared_queue" / "producer.py"), name="producer")
    with run_envoy(producer, collector) as envoy:
        for path in ("/a", "/b", "/c"):
            assert get(envoy.url + path).status == 200
        logs = envoy.wait_for_log("collected #3")
    assert "collected #1: GET /a" in logs
    assert "collected #2: GET /b" in logs
    assert "collected #3: GET /c" in logs
