"""The shared_counter example in the emulator, both engines (as tests/e2e/test_shared.py):
workers are Hosts of one VM id sharing the proxy's data."""

from __future__ import annotations

import pytest

from proxywasm.testing import FilterError, Host, wasmx
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "shared_counter" / "shared_counter.py"
VM_ID = "shared_counter"


def worker(proxywasm_host: HostFactory, beside: Host | None = None) -> Host:
    """One worker's VM; a second one shares the first one's proxy."""
    host = proxywasm_host(EXAMPLE, vm_id=VM_ID, proxy=beside.proxy if beside else None)
    assert host.start()
    return host


def hits(host: Host) -> str | None:
    """Send one request through ``host`` and return the x-hits the client sees."""
    stream = host.new_http_stream()
    stream.send_request_headers(end_of_stream=True)
    stream.send_response_headers({":status": "200"}, end_of_stream=True)
    stream.complete()
    return stream.response_headers.get("x-hits")


def test_each_request_gets_the_next_count(proxywasm_host: HostFactory) -> None:
    host = worker(proxywasm_host)
    assert host.shared_data == {"hits": b"0"}
    assert [hits(host) for _ in range(3)] == ["1", "2", "3"]
    assert host.shared_data == {"hits": b"3"}


def test_two_workers_count_together(proxywasm_host: HostFactory) -> None:
    first = worker(proxywasm_host)
    assert hits(first) == "1"
    second = worker(proxywasm_host, beside=first)
    assert [hits(second), hits(first), hits(second)] == ["2", "3", "4"]
    assert second.shared_data == first.shared_data == {"hits": b"4"}


def test_increment_lost_to_another_worker_is_retried(proxywasm_host: HostFactory) -> None:
    host = worker(proxywasm_host)
    host.race_shared_data("hits", b"1")
    assert hits(host) == "2"
    assert host.shared_data == {"hits": b"2"}


def test_other_vm_ids_do_not_share_the_count(proxywasm_host: HostFactory) -> None:
    first = worker(proxywasm_host)
    other = proxywasm_host(EXAMPLE, vm_id="elsewhere", proxy=first.proxy)
    assert other.start()
    assert [hits(first), hits(other)] == ["1", "1"]


# Nginx WasmX (the emulator's WasmX profile): shared data needs `shm_kv *` in nginx.conf


def test_wasmx_workers_count_together_in_shm_kv(proxywasm_host: HostFactory) -> None:
    first = proxywasm_host(EXAMPLE, host=wasmx(shm_kv=True))
    assert first.start()
    second = proxywasm_host(EXAMPLE, host=wasmx(shm_kv=True), proxy=first.proxy)
    assert second.start()
    assert [hits(first), hits(second), hits(first)] == ["1", "2", "3"]


def test_wasmx_without_shm_kv_traps_in_on_vm_start(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx")
    with pytest.raises(FilterError, match=r"trapped the module in proxy_on_vm_start: host trap "
                       r"\(internal error\): shared data key 'hits' needs a key/value "
                       r"zone: declare `shm_kv \* 1m;`"):
        host.start()
