"""The emulator's Nginx WasmX profile: it links, traps and behaves as the real WasmX measured.

Linking is tested on small hand-written modules (the wasm engine); behaviours on the probe
filter in both engines, and on an Envoy-only filter in the source engine (its module does not
load in WasmX: the last test).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from wasmtime import wat2wasm

from proxywasm import Action, LogLevel
from proxywasm.testing import (
    ENVOY,
    FilterError,
    Host,
    HostLinkError,
    UnsupportedByHostError,
    wasmx,
)
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

PROBE = FILTERS / "wasmx_probe.py"
ENVOY_ONLY = FILTERS / "wasmx_envoy_only.py"
_I32 = "i32"
_STEPS = ("proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_headers",
          "proxy_on_response_body")


def _module(tmp_path: Path, imports: str, vm_start: str = "",
            exports: tuple[str, ...] = _STEPS) -> Path:
    """A minimal Proxy-Wasm module: ``imports``, and on_vm_start running ``vm_start``."""
    callbacks = "\n".join(
        f'(func (export "{name}") (param i32 i32 i32) (result i32) (i32.const 0))'
        for name in exports)
    text = f"""(module
      {imports}
      (memory (export "memory") 1)
      (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
      (func (export "proxy_on_context_create") (param i32 i32))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) {vm_start} (i32.const 1))
      (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
      {callbacks})"""
    path = tmp_path / "probe.wasm"
    path.write_bytes(wat2wasm(text))
    return path


def _import(module: str, name: str, params: int, results: int = 1) -> str:
    return (f'(import "{module}" "{name}" (func ${name} (param {" ".join([_I32] * params)})'
            f' (result {" ".join([_I32] * results)})))' if params else
            f'(import "{module}" "{name}" (func ${name} (result i32)))')


_LOG = _import("env", "proxy_log", 3)


# Linking (wasm engine)


def test_an_import_wasmx_lacks_refuses_the_module(tmp_path: Path) -> None:
    module = _module(tmp_path, _LOG + _import("env", "proxy_get_buffer_status", 3))
    with pytest.raises(HostLinkError) as refused:
        Host.from_wasm(module, host="wasmx")
    assert 'failed importing "env.proxy_get_buffer_status": missing host function' in str(
        refused.value)
    assert ('failed linking "probe" module with "ngx_proxy_wasm" host interface: '
            "incompatible host interface") in str(refused.value)


def test_an_import_of_another_type_refuses_the_module(tmp_path: Path) -> None:
    module = _module(tmp_path, _LOG + _import("env", "proxy_get_log_level", 1))
    with pytest.raises(HostLinkError, match=(
            r"incompatible import type for env::proxy_get_log_level: expected type "
            r"\(func \(param i32\) \(result i32\)\), found type "
            r"\(func \(param i32 i32\) \(result i32\)\)")):
        Host.from_wasm(module, host="wasmx")


def test_a_wasi_function_wasmx_lacks_refuses_the_module(tmp_path: Path) -> None:
    module = _module(tmp_path, _LOG + _import("wasi_snapshot_preview1", "fd_pwrite", 5))
    with pytest.raises(HostLinkError, match=r'"wasi_snapshot_preview1\.fd_pwrite": missing'):
        Host.from_wasm(module, host="wasmx")


def test_envoy_loads_what_wasmx_refuses(tmp_path: Path) -> None:
    module = _module(tmp_path, _LOG + _import("env", "proxy_get_buffer_status", 3))
    with Host.from_wasm(module) as host:
        assert host.profile == ENVOY
        assert host.start()


def test_a_wasmx_stub_links_and_traps_when_called(tmp_path: Path) -> None:
    module = _module(tmp_path, _LOG + _import("env", "proxy_grpc_call", 12),
                     "(drop (call $proxy_grpc_call" + " (i32.const 0)" * 12 + "))")
    host = Host.from_wasm(module, host="wasmx")
    with pytest.raises(FilterError, match=r"Nginx WasmX trapped the module in proxy_on_vm_start: "
                       r"host trap \(function not yet implemented\): proxy_grpc_call"):
        host.start()


def test_wasi_proc_exit_is_a_stub_in_wasmx(tmp_path: Path) -> None:
    module = _module(tmp_path, _LOG + '(import "wasi_snapshot_preview1" "proc_exit" '
                     "(func $proc_exit (param i32)))", "(call $proc_exit (i32.const 0))")
    host = Host.from_wasm(module, host="wasmx")
    with pytest.raises(FilterError, match=r"not yet implemented\): proc_exit"):
        host.start()


def test_a_missing_http_callback_crashes_the_wasmx_worker(tmp_path: Path) -> None:
    module = _module(tmp_path, _LOG, exports=_STEPS[:3])
    host = Host.from_wasm(module, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers()
    stream.send_response_headers()
    with pytest.raises(FilterError, match=r"worker crashed \(SIGSEGV\): the module does not "
                       "export proxy_on_response_body"):
        stream.send_response_body(b"body")


# Behaviours (both engines)


def _probe(proxywasm_host: HostFactory, **options: object) -> Host:
    options.setdefault("host", "wasmx")
    host = proxywasm_host(PROBE, **options)
    assert host.start()
    return host


def test_envoy_is_the_default_profile(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(PROBE)
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/", ":authority": "example.com", "X-Probe": "on"})
    assert stream.request_headers.to_dict()["x-probe"] == "on"
    assert stream.request_headers.get("x-authority") == "example.com"


def test_request_header_names_keep_the_clients_case(proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    stream.send_request_headers({":path": "/", "X-Probe": "on"})
    assert ("X-Probe", "on") in stream.request_headers
    assert stream.request_headers.get("x-probe-copy") == "on"


def test_authority_is_the_server_name(proxywasm_host: HostFactory) -> None:
    host = _probe(proxywasm_host, host=wasmx(server_name="gateway"))
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/", ":authority": "example.com"})
    assert stream.request_headers.get("x-authority") == "gateway"
    assert stream.request_headers.get("host") == "example.com"


def test_a_newline_ends_local_response_bodies(proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    assert stream.send_request_headers({":path": "/local"}) == Action.PAUSE
    assert stream.response_body == b"denied\n"
    assert stream.response_headers.get("content-length") == "7"


def test_properties_are_strings(proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    stream.send_request_headers({":path": "/"})
    stream.send_response_headers({":status": "201"})
    assert stream.response_headers.get("x-code") == b"201".hex()


@pytest.mark.parametrize(("host", "root_id", "vm_id"), [("envoy", "probe", "vm"),
                                                       ("wasmx", "0", "absent")])
def test_plugin_root_id_and_vm_id(proxywasm_host: HostFactory, host: str, root_id: str,
                                  vm_id: str) -> None:
    stream = _probe(proxywasm_host, host=host, root_id="probe", vm_id="vm").new_http_stream()
    stream.send_request_headers({":path": "/plugin"})
    assert stream.request_headers.get("x-plugin_root_id") == root_id
    assert stream.request_headers.get("x-plugin_vm_id") == vm_id


def test_incrementing_a_gauge_traps(proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    with pytest.raises(FilterError, match=r"host trap \(internal error\): could not increment "
                       r'metric id "\d+": metric not a counter'):
        stream.send_request_headers({":path": "/gauge"})


def test_incrementing_a_counter_works(proxywasm_host: HostFactory) -> None:
    host = _probe(proxywasm_host)
    host.new_http_stream().send_request_headers({":path": "/counter"})
    assert host.metrics["hits"] == 1


def test_a_counter_takes_any_delta(proxywasm_host: HostFactory) -> None:
    host = _probe(proxywasm_host)
    host.new_http_stream().send_request_headers({":path": "/counter", "x-delta": "3"})
    host.new_http_stream().send_request_headers({":path": "/counter", "x-delta": "-1"})
    assert host.metrics["hits"] == 2


def test_recording_a_counter_traps(proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    with pytest.raises(FilterError, match=r"host trap \(internal error\): could not record "
                       r'value in metric id "\d+": metric is a counter'):
        stream.send_request_headers({":path": "/record-counter"})


def test_a_tick_period_is_set_by_a_root_context_only(proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    with pytest.raises(FilterError, match="can only set tick_period in root context"):
        stream.send_request_headers({":path": "/tick"})


def test_a_tick_period_is_set_once(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(PROBE, host="wasmx", plugin_configuration="tick twice")
    with pytest.raises(FilterError, match="tick_period already set"):
        host.start()


def test_a_cluster_name_callout_goes_to_port_80_and_fails_unresolved(
        proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    stream.send_request_headers({":path": "/callout", "x-upstream": "auth"})
    assert stream.local_response is not None
    assert stream.local_response.status == 503


def test_a_resolved_name_callout_is_made_to_port_80(proxywasm_host: HostFactory) -> None:
    host = _probe(proxywasm_host, host=wasmx(resolver=["auth"]))
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/callout", "x-upstream": "auth"})
    assert [call.upstream for call in host.http_calls] == ["auth:80"]
    host.respond_http_call(host.http_calls[0])
    assert not stream.request_paused


def test_a_host_port_callout_is_made_as_given(proxywasm_host: HostFactory) -> None:
    host = _probe(proxywasm_host)
    host.new_http_stream().send_request_headers({":path": "/callout",
                                                 "x-upstream": "127.0.0.1:9000"})
    assert [call.upstream for call in host.http_calls] == ["127.0.0.1:9000"]


def test_a_callout_from_the_response_traps(proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    stream.send_request_headers({":path": "/late-callout"})
    with pytest.raises(FilterError, match="can only send HTTP dispatch during "):
        stream.send_response_headers({":status": "200"})


def test_shared_data_traps_without_shm_kv(proxywasm_host: HostFactory) -> None:
    stream = _probe(proxywasm_host).new_http_stream()
    with pytest.raises(FilterError, match=r"shm_kv \* 1m;"):
        stream.send_request_headers({":path": "/shared"})


def test_shared_data_works_with_shm_kv(proxywasm_host: HostFactory) -> None:
    host = _probe(proxywasm_host, host=wasmx(shm_kv=True))
    host.new_http_stream().send_request_headers({":path": "/shared"})
    assert host.shared_data == {"seen": b"yes"}


def test_a_zone_key_needs_that_shm_kv_zone(proxywasm_host: HostFactory) -> None:
    host = _probe(proxywasm_host, host=wasmx(shm_kv=["cache"]))
    host.new_http_stream().send_request_headers({":path": "/shared", "x-key": "cache/seen"})
    assert host.shared_data == {"cache/seen": b"yes"}
    with pytest.raises(FilterError, match=r"key 'seen' needs a key/value zone: declare "
                       r"`shm_kv \* 1m;`"):
        host.new_http_stream().send_request_headers({":path": "/shared"})


def test_a_queue_traps_without_its_shm_queue(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(PROBE, host="wasmx", plugin_configuration="queue")
    with pytest.raises(FilterError, match="shm_queue jobs 1m;"):
        host.start()


def test_a_queue_works_with_its_shm_queue(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(PROBE, host=wasmx(shm_queues=["jobs"]), plugin_configuration="queue")
    assert host.start()
    host.enqueue("jobs", b"one")
    assert host.queue("jobs") == [b"one"]


def test_a_failed_on_configure_ends_the_worker(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(PROBE, host="wasmx", plugin_configuration="fail")
    assert not host.start()
    assert host.worker_exited is not None
    with pytest.raises(UnsupportedByHostError, match="on_configure failed: the Nginx WasmX "
                       "worker exited"):
        host.new_http_stream()


def test_tcp_filters_are_refused(proxywasm_host: HostFactory) -> None:
    host = _probe(proxywasm_host)
    with pytest.raises(UnsupportedByHostError, match=r"not allowed in nginx's stream\{\}"):
        host.new_tcp_connection()


def test_trailers_callbacks_are_never_called() -> None:
    host = Host.from_source(ENVOY_ONLY, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"})
    assert stream.send_request_trailers({"x-sum": "1"}) == Action.CONTINUE
    assert stream.request_trailers.get("x-sum") == "1"
    assert "request trailers seen" not in host.logs(LogLevel.INFO)


def test_a_grpc_call_traps() -> None:
    host = Host.from_source(ENVOY_ONLY, host="wasmx")
    assert host.start()
    with pytest.raises(FilterError, match=r"host trap \(function not yet implemented\): "
                       "proxy_grpc_call"):
        host.new_http_stream().send_request_headers({":path": "/grpc"})
    with pytest.raises(UnsupportedByHostError, match="never calls the gRPC callbacks"):
        host.respond_grpc_call(1)


def test_an_unknown_foreign_function_traps() -> None:
    host = Host.from_source(ENVOY_ONLY, host="wasmx")
    assert host.start()
    host.register_foreign_function("compress", lambda data: data)
    with pytest.raises(FilterError, match="unknown foreign function 'compress'"):
        host.new_http_stream().send_request_headers({":path": "/foreign"})


def test_a_function_wasmx_lacks_traps_in_the_source_engine() -> None:
    host = Host.from_source(FILTERS / "wasmx_missing.py", host="wasmx")
    with pytest.raises(FilterError, match=r'failed importing "env\.proxy_get_buffer_status": '
                       "missing host function"):
        host.start()


def test_the_profile_name_is_checked() -> None:
    with pytest.raises(ValueError, match="unknown host 'nginx'"):
        Host.from_source(PROBE, host="nginx")


def test_a_module_built_for_envoy_only_does_not_load_in_wasmx(
        proxywasm_build: Callable[[Path], Path]) -> None:
    with pytest.raises(HostLinkError, match="incompatible import type for "
                       "env::proxy_get_log_level"):
        Host.from_wasm(proxywasm_build(ENVOY_ONLY), host="wasmx")


def test_the_build_checks_imports_against_the_emulators_table() -> None:
    from pywasm_filter import abi

    assert abi.WASMX is wasmx().interface


def test_a_paused_response_body_is_buffered_and_delivered_whole(
    proxywasm_host: HostFactory,
) -> None:
    """WasmX buffers the response once the filter returns PAUSE, then calls it with it all."""
    host = proxywasm_host(FILTERS / "whole_body.py", host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    stream.send_response_headers()
    assert [stream.send_response_body(chunk, end_of_stream=False)
            for chunk in (b"ab", b"cd", b"ef")] == [Action.PAUSE] * 3
    assert stream.actions[-1] == ("response_body", Action.PAUSE)
    assert len(stream.actions) == 3  # request and response headers, the first chunk
    assert stream.send_response_body(b"gh", end_of_stream=True) == Action.CONTINUE
    assert stream.response_body == b"ABCDEFGH"


def test_a_response_over_the_body_buffers_passes_in_parts_a_pause_cannot_hold(
    proxywasm_host: HostFactory,
) -> None:
    """Full buffers reach the filter without end_of_stream; WasmX ignores a second PAUSE."""
    host = proxywasm_host(FILTERS / "whole_body.py", host=wasmx(response_body_buffers=4))
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    stream.send_response_headers()
    for chunk in (b"ab", b"cd", b"ef"):
        stream.send_response_body(chunk, end_of_stream=False)
    assert stream.response_body == b"abcdef"
    assert stream.host_errors == ['invalid "on_response_body" return action (PAUSE): response '
                                  "body buffering already requested"] * 2
    stream.send_response_body(b"gh", end_of_stream=True)
    assert stream.response_body == b"abcdefGH"


def test_the_request_body_reaches_the_filter_whole_and_once(proxywasm_host: HostFactory) -> None:
    """nginx reads the whole request body before calling on_request_body, with end_of_stream."""
    host = proxywasm_host(FILTERS / "whole_body.py", host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/"})
    assert stream.send_request_body(b"abc", end_of_stream=False) == Action.PAUSE
    stream.send_request_body(b"def", end_of_stream=True)
    assert [phase for phase, _ in stream.actions] == ["request_headers", "request_body"]
    assert stream.local_response is not None
    assert stream.local_response.headers.get("x-body-size") == "6"


def test_headers_never_say_end_of_stream_and_an_empty_body_gets_no_callback(
    proxywasm_host: HostFactory,
) -> None:
    host = proxywasm_host(FILTERS / "whole_body.py", host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/"}, end_of_stream=True)
    assert stream.send_request_body(b"", end_of_stream=True) == Action.CONTINUE
    assert [phase for phase, _ in stream.actions] == ["request_headers"]
    assert stream.local_response is None
