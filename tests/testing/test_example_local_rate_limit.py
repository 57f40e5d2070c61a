"""The local_rate_limit example in the emulator, both engines (as
tests/e2e/test_example_local_rate_limit.py): workers are Hosts sharing one proxy's data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import LogLevel
from proxywasm.testing import FilterError, Host, HttpStream, wasmx
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "local_rate_limit" / "local_rate_limit.py"
RATE, BURST = 2, 3
PER_KEY = {"rate": RATE, "burst": BURST, "key_header": "x-api-key"}
START = datetime(2026, 1, 1, tzinfo=UTC)
EXAMPLES_PER_ENGINE = {"source": 50, "wasm": 5}


def worker(proxywasm_host: HostFactory, beside: Host | None = None,
           settings: dict[str, object] | None = None, **options: object) -> Host:
    """One worker's VM with ``settings``; a second one shares the first one's proxy."""
    host = proxywasm_host(EXAMPLE, vm_id="rate_limit", time=START,
                          plugin_configuration=json.dumps(settings or PER_KEY),
                          proxy=beside.proxy if beside else None, **options)
    assert host.start()
    return host


def request(host: Host, key: str | None = "alice") -> HttpStream:
    """Send one request (with ``x-api-key: key``) and the backend's 200 if it goes through."""
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"} | ({"x-api-key": key} if key else {}),
                                end_of_stream=True)
    if stream.local_response is None:
        stream.send_response_headers({":status": "200"}, end_of_stream=True)
    return stream


def statuses(host: Host, count: int, key: str | None = "alice") -> list[str | None]:
    return [request(host, key).response_headers.get(":status") for _ in range(count)]


def test_burst_passes_then_429(proxywasm_host: HostFactory) -> None:
    host = worker(proxywasm_host)
    passed = [request(host) for _ in range(3)]
    assert [stream.response_headers.get("x-ratelimit-remaining") for stream in passed] == [
        "2", "1", "0"]
    assert all(stream.response_headers.get("x-ratelimit-limit") == "3" for stream in passed)
    denied = request(host)
    assert denied.response_headers.get(":status") == "429"
    assert denied.response_headers.get("retry-after") == "1"
    assert denied.response_headers.get("x-ratelimit-remaining") == "0"
    assert denied.response_body == b"too many requests\n"


def test_bucket_refills_at_the_rate(proxywasm_host: HostFactory) -> None:
    host = worker(proxywasm_host)
    assert statuses(host, 4) == ["200", "200", "200", "429"]
    host.advance_time(499)
    assert statuses(host, 1) == ["429"]
    host.advance_time(1)
    assert statuses(host, 2) == ["200", "429"]
    host.advance_time(60_000)
    assert statuses(host, 4) == ["200", "200", "200", "429"]


def test_retry_after_rounds_the_wait_up_to_seconds(proxywasm_host: HostFactory) -> None:
    host = worker(proxywasm_host, settings={"rate": 0.25, "burst": 1})
    assert statuses(host, 1) == ["200"]
    assert request(host).response_headers.get("retry-after") == "4"
    host.advance_time(3_500)
    assert request(host).response_headers.get("retry-after") == "1"


def test_each_key_has_its_own_bucket(proxywasm_host: HostFactory) -> None:
    host = worker(proxywasm_host)
    assert statuses(host, 4, "alice") == ["200", "200", "200", "429"]
    assert statuses(host, 4, "bob") == ["200", "200", "200", "429"]
    assert sorted(host.shared_data) == ["rate_limit:alice", "rate_limit:bob"]


def test_requests_without_the_key_share_one_bucket(proxywasm_host: HostFactory) -> None:
    host = worker(proxywasm_host)
    assert statuses(host, 4, None) == ["200", "200", "200", "429"]
    assert list(host.shared_data) == ["rate_limit:"]


def test_without_a_key_header_all_requests_share_one_bucket(
    proxywasm_host: HostFactory,
) -> None:
    host = worker(proxywasm_host, settings={"rate": 1, "burst": 2})
    assert [statuses(host, 1, "alice"), statuses(host, 1, "bob"), statuses(host, 1, None)] == [
        ["200"], ["200"], ["429"]]


def test_two_workers_draw_on_one_bucket(proxywasm_host: HostFactory) -> None:
    first = worker(proxywasm_host)
    second = worker(proxywasm_host, beside=first)
    assert [*statuses(first, 1), *statuses(second, 1), *statuses(first, 1),
            *statuses(second, 1)] == ["200", "200", "200", "429"]


def test_token_taken_by_another_worker_meanwhile_is_read_again(
    proxywasm_host: HostFactory,
) -> None:
    host = worker(proxywasm_host)
    assert statuses(host, 1) == ["200"]
    now_ns = int(START.timestamp()) * 1_000_000_000
    host.race_shared_data("rate_limit:alice", f"0 {now_ns}")
    assert statuses(host, 1) == ["429"]
    assert host.shared_data["rate_limit:alice"] == f"0 {now_ns}".encode()


def test_no_request_pattern_gets_more_than_burst_plus_rate(proxywasm_host: HostFactory,
                                                          proxywasm_engine: str) -> None:
    """Over any gaps between requests, at most burst + rate x elapsed pass, and the first
    burst requests always do."""
    host = worker(proxywasm_host)
    keys = iter(range(1_000_000))

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(gaps_ms=st.lists(st.integers(0, 1500), max_size=25))
    def check(gaps_ms: list[int]) -> None:
        key = f"client{next(keys)}"
        passed = []
        for gap in gaps_ms:
            host.advance_time(gap)
            passed.append(statuses(host, 1, key) == ["200"])
        elapsed_s = sum(gaps_ms[1:]) / 1000
        assert sum(passed) <= BURST + RATE * elapsed_s
        assert all(passed[:BURST])

    check()


@pytest.mark.parametrize(("settings", "error"), [
    ({"rate": 0, "burst": 5}, "rate must be > 0 and burst >= 1"),
    ({"rate": 1}, "burst"),
    ({"rate": "fast", "burst": 5}, "configuration.rate must be a number"),
])
def test_bad_configuration_is_refused(proxywasm_host: HostFactory, settings: dict[str, object],
                                      error: str) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=json.dumps(settings))
    assert not host.start()
    [message] = [line for line in host.logs(LogLevel.ERROR)
                 if line.startswith("rejecting the plugin configuration: ")]
    assert error in message


# Nginx WasmX (the emulator's WasmX profile): shared data needs `shm_kv *` in nginx.conf


def test_wasmx_workers_share_the_bucket_in_shm_kv(proxywasm_host: HostFactory) -> None:
    first = worker(proxywasm_host, host=wasmx(shm_kv=True))
    second = worker(proxywasm_host, beside=first, host=wasmx(shm_kv=True))
    assert [*statuses(first, 2), *statuses(second, 2)] == ["200", "200", "200", "429"]


def test_wasmx_without_shm_kv_fails_the_request(proxywasm_host: HostFactory) -> None:
    host = worker(proxywasm_host, host="wasmx")
    with pytest.raises(FilterError, match=r"shared data key 'rate_limit:alice' needs a "
                       r"key/value zone: declare `shm_kv \* 1m;`"):
        request(host)
