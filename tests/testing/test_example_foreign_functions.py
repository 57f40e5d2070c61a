"""The foreign_functions example in the emulator, both engines (as tests/e2e/test_host_features.py):
Envoy's zlib foreign functions, log level, header map size, buffer status, reset."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from proxywasm import Action, LogLevel
from proxywasm.testing import ENVOY_FOREIGN_FUNCTIONS, FilterError, Host, HostLinkError
from pywasm_filter.abi import ENVOY, WASMX
from pywasm_filter.build import build
from pywasm_filter.linking import HostTargetError
from pywasm_filter.pytest_plugin import Builder
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "foreign_functions" / "foreign_functions.py"


def started(proxywasm_host: HostFactory) -> Host:
    """The example with Envoy's foreign functions, at Envoy's log level in the e2e tests."""
    host = proxywasm_host(EXAMPLE, foreign_functions=ENVOY_FOREIGN_FUNCTIONS,
                          log_level=LogLevel.DEBUG)
    assert host.start()
    return host


def test_envoys_compress_foreign_function_round_trips(proxywasm_host: HostFactory) -> None:
    payload = "proxy-wasm" * 20
    stream = started(proxywasm_host).new_http_stream()
    request = {":method": "GET", ":path": "/compress", ":authority": "example.com",
               "x-payload": payload}
    assert stream.send_request_headers(request, end_of_stream=True) == Action.PAUSE
    assert stream.response_headers.get(":status") == "200"
    assert stream.response_headers.get("content-type") == "application/zlib"
    assert zlib.decompress(stream.response_body) == payload.encode()
    assert len(stream.response_body) < len(payload)


def test_log_level_and_header_map_size_are_reported(proxywasm_host: HostFactory) -> None:
    stream = started(proxywasm_host).new_http_stream()
    request = {":method": "GET", ":path": "/", ":authority": "example.com", "x-pad": "a" * 100}
    stream.send_request_headers(request, end_of_stream=True)
    stream.send_response_headers({":status": "200"})
    assert stream.response_headers.get("x-log-level") == "DEBUG"
    assert stream.response_headers.get("x-request-header-bytes") == str(
        sum(len(name) + len(value) for name, value in request.items()))
    assert stream.response_headers.get("x-body-buffered") is None


def test_buffer_status_reports_the_buffered_request_body(proxywasm_host: HostFactory) -> None:
    stream = started(proxywasm_host).new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/upload",
                                 ":authority": "example.com"})
    assert stream.send_request_body(b"x" * 1000, end_of_stream=False) == Action.PAUSE
    assert stream.send_request_body(b"x" * 2000, end_of_stream=True) == Action.CONTINUE
    assert stream.request_body == b"x" * 3000
    stream.send_response_headers({":status": "200"})
    assert stream.response_headers.get("x-body-buffered") == "3000"


def test_reset_http_response_resets_the_stream(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "GET", ":path": "/reset",
                                 ":authority": "example.com"}, end_of_stream=True)
    assert stream.send_response_headers({":status": "200"}) == Action.PAUSE
    assert stream.reset
    assert host.logs(LogLevel.INFO) == ["resetting /reset as asked"]
    after = host.new_http_stream()
    after.send_request_headers(end_of_stream=True)
    assert after.send_response_headers({":status": "200"}) == Action.CONTINUE


# Nginx WasmX: the build refuses it for WasmX, WasmX refuses its (Envoy-only) module, and the
# emulator's WasmX profile shows what WasmX would do at the call


def test_wasmx_build_refuses_naming_each_missing_call(tmp_path: Path) -> None:
    with pytest.raises(HostTargetError) as refused:
        build(EXAMPLE, tmp_path / "foreign_functions.wasm", hosts=(ENVOY, WASMX))
    for line in ("foreign_functions.py:26: get_map_size: Nginx WasmX does not provide "
                 "proxy_get_header_map_size (the module would not load)",
                 "foreign_functions.py:42: get_buffer_status: Nginx WasmX does not provide "
                 "proxy_get_buffer_status",
                 "foreign_functions.py:48: reset_http_response: Nginx WasmX does not implement "
                 "proxy_close_stream"):
        assert line in str(refused.value)


def test_wasmx_refuses_the_module_built_for_envoy(proxywasm_build: Builder) -> None:
    with pytest.raises(HostLinkError, match="incompatible import type for "
                       "env::proxy_get_log_level"):
        Host.from_wasm(proxywasm_build(EXAMPLE), host="wasmx")


def test_wasmx_fails_at_the_header_map_size() -> None:
    host = Host.from_source(EXAMPLE, host="wasmx", foreign_functions=ENVOY_FOREIGN_FUNCTIONS)
    assert host.start()
    with pytest.raises(FilterError, match=r'failed importing "env\.proxy_get_header_map_size": '
                       "missing host function"):
        host.new_http_stream().send_request_headers({":path": "/compress", "x-payload": "x"})

