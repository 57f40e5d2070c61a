"""Acting on another context (``Context.acting_on``, ``proxy_set_effective_context``) in the
emulator's Envoy and Nginx WasmX profiles, both engines: Envoy switches the context host calls
act on; WasmX ignores the switch, so a root context's ``on_tick`` that touches a request traps or
crashes the worker (ngx_wasm_module 3bed278, docs/wasmx.md)."""

from __future__ import annotations

import pytest

from proxywasm.testing import FilterError, Host, UnsupportedByHostError
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

ACTING_ON = FILTERS / "acting_on.py"
TICK_RESUMES = FILTERS / "tick_resumes.py"


def _held(proxywasm_host: HostFactory, configuration: str, host: str) -> Host:
    """The plugin started in ``host``'s profile (in WasmX as a filter that loads there)."""
    plugin = proxywasm_host(ACTING_ON if host == "envoy" else TICK_RESUMES,
                            plugin_configuration=configuration, host=host)
    assert plugin.start()
    return plugin


def test_on_tick_acts_on_the_request_in_envoy(proxywasm_host: HostFactory) -> None:
    host = _held(proxywasm_host, "read", "envoy")
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/orders"})
    host.tick()
    assert not stream.request_paused
    assert stream.request_headers.get("x-seen") == "/orders"


def test_after_the_block_host_calls_act_on_the_root_again(proxywasm_host: HostFactory) -> None:
    host = _held(proxywasm_host, "resume", "envoy")
    host.new_http_stream().send_request_headers({":path": "/orders"})
    host.tick()
    [call] = host.http_calls
    assert call.context_id == host.plugin.root_context_id


def test_resuming_from_on_tick_crashes_the_wasmx_worker(proxywasm_host: HostFactory) -> None:
    host = _held(proxywasm_host, "resume", "wasmx")
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/orders"})
    with pytest.raises(FilterError, match=r"worker crashed \(SIGSEGV\): proxy_continue_stream "
                                          r"in proxy_on_tick of root context"):
        host.tick()
    assert stream.request_paused
    assert host.worker_exited is not None
    with pytest.raises(UnsupportedByHostError, match="no request is served"):
        host.new_http_stream()


def test_reading_a_request_header_from_on_tick_crashes_the_wasmx_worker(
    proxywasm_host: HostFactory,
) -> None:
    host = _held(proxywasm_host, "read", "wasmx")
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/orders"})
    with pytest.raises(FilterError, match=r"worker crashed .* HTTP_REQUEST_HEADERS map"):
        host.tick()
    assert host.worker_exited is not None


def test_setting_a_request_header_from_on_tick_traps_in_wasmx(
    proxywasm_host: HostFactory,
) -> None:
    host = _held(proxywasm_host, "set", "wasmx")
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/orders"})
    with pytest.raises(FilterError, match="can only set request headers before response is "
                                          "produced"):
        host.tick()
    assert stream.request_paused
    assert host.worker_exited is None
