"""Typed metrics in Envoy: counters, gauges and histograms, labels extracted as tags."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from proxywasm import Counter
from pywasm_filter.envoy import HttpBootstrap, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy

# The metrics example's labelled counter, declared as the filter declares it.
REQUESTS = Counter("pyfilter_requests", labels=("method", "status"))


@pytest.fixture
def metrics_config(built: Callable[[Path], Path]) -> dict:
    module = built(EXAMPLES / "metrics" / "metrics.py")
    bootstrap = HttpBootstrap(filters=[WasmFilter(module)], stats_tags=REQUESTS.stats_tags())
    config = bootstrap.to_config()
    config["stats_flush_interval"] = "0.1s"  # histograms reach /stats when stats are flushed
    return config


def test_metrics_are_counted_and_labels_become_tags(
    start_envoy: StartEnvoy, metrics_config: dict
) -> None:
    with start_envoy(metrics_config) as envoy:
        so_far = [get(envoy.url + "/").headers["x-requests-so-far"] for _ in range(3)]
        stats = envoy.stats()
        deadline = time.monotonic() + 5
        prometheus = envoy.stats("format=prometheus")
        while "pyfilter_response_body_bytes_count{} 3" not in prometheus:
            assert time.monotonic() < deadline, "the histogram never showed 3 samples"
            time.sleep(0.1)
            prometheus = envoy.stats("format=prometheus")
    assert so_far == ["1", "2", "3"]
    assert "wasmcustom.pyfilter_requests.method.GET.status.200: 3" in stats
    assert "wasmcustom.pyfilter_in_flight: 0" in stats
    tagged = [line for line in prometheus.splitlines() if "pyfilter_requests" in line
              and not line.startswith("#")]
    assert tagged == ['pyfilter_requests{method="GET",status="200"} 3']
    # each response body has 38 bytes: all three samples fall in Envoy's (25, 50] bucket
    assert 'pyfilter_response_body_bytes_bucket{le="25"} 0' in prometheus
    assert 'pyfilter_response_body_bytes_bucket{le="50"} 3' in prometheus
