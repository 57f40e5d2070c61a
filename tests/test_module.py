"""A built module is portable: valid, exports every 0.2.1 callback, imports only what its filter
reaches and every target host implements with the same signature."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from pywasm_filter.abi import ABI_MARKER, CALLBACK_EXPORTS, ENVOY, WASI_ALLOWED, WASMX
from pywasm_filter.build import build
from pywasm_filter.verify import VerificationError, host_problems, verify
from pywasm_filter.wasm import binary
from tests.conftest import EXAMPLES

# What http_headers reaches: logs, header reads and writes, a local response, and the SDK's
# machinery (resuming streams, callouts' effective context, buffers for callbacks).
HTTP_HEADERS_IMPORTS = {
    "proxy_log", "proxy_set_effective_context", "proxy_get_buffer_bytes",
    "proxy_replace_header_map_value", "proxy_remove_header_map_value", "proxy_continue_stream",
    "proxy_send_local_response", "proxy_get_header_map_pairs", "proxy_get_header_map_value",
}


def _module(built: Callable[[Path], Path]) -> bytes:
    return built(EXAMPLES / "http_headers" / "http_headers.py").read_bytes()


def test_every_callback_is_exported(built: Callable[[Path], Path]) -> None:
    exported = {name for name, _kind, _index in binary.exports(_module(built))}
    assert set(CALLBACK_EXPORTS) | {"proxy_abi_version_0_2_1", "memory"} <= exported
    assert "pywasm_init" not in exported


def test_imports_are_host_functions_and_allowed_wasi_only(built: Callable[[Path], Path]) -> None:
    imports = binary.imports(_module(built))
    env = {name for module, name, _kind in imports if module == "env"}
    wasi = {name for module, name, _kind in imports if module == "wasi_snapshot_preview1"}
    assert env == HTTP_HEADERS_IMPORTS
    assert wasi <= WASI_ALLOWED
    assert {module for module, _name, _kind in imports} == {"env", "wasi_snapshot_preview1"}


def test_an_envoy_only_build_also_links_what_the_sdk_uses_where_it_can(tmp_path: Path) -> None:
    result = build(EXAMPLES / "http_headers" / "http_headers.py", tmp_path / "envoy.wasm",
                   hosts=(ENVOY,))
    env = {name for module, name, _kind in binary.imports(result.output.read_bytes())
           if module == "env"}
    assert env == HTTP_HEADERS_IMPORTS | {"proxy_close_stream", "proxy_get_log_level"}
    assert host_problems(result.output.read_bytes(), WASMX) == [
        "env.proxy_get_log_level: Nginx WasmX declares proxy_get_log_level as (i32 i32) -> "
        "(i32), the module imports it as (i32) -> (i32) (the module would not load)",
        "env.proxy_close_stream: Nginx WasmX does not implement proxy_close_stream (calling it "
        "traps there)",
    ]


def _module_importing(imports: str) -> bytes:
    exports = "\n".join(f'(func (export "{name}"))' for name in (ABI_MARKER, *CALLBACK_EXPORTS))
    return wasmtime.wat2wasm(f'(module {imports} (memory (export "memory") 1) {exports})')


@pytest.mark.parametrize(("imports", "problem"), [
    ('(import "env" "proxy_get_buffer_status" (func (param i32 i32 i32) (result i32)))',
     "env.proxy_get_buffer_status: Nginx WasmX does not provide proxy_get_buffer_status"),
    ('(import "env" "proxy_get_log_level" (func (param i32) (result i32)))',
     "env.proxy_get_log_level: Nginx WasmX declares proxy_get_log_level as (i32 i32) -> (i32), "
     "the module imports it as (i32) -> (i32)"),
    ('(import "env" "proxy_grpc_cancel" (func (param i32) (result i32)))',
     "env.proxy_grpc_cancel: Nginx WasmX does not implement proxy_grpc_cancel (calling it traps"),
])
def test_verify_refuses_imports_a_target_host_lacks(imports: str, problem: str) -> None:
    module = _module_importing(imports)
    verify(module, (ENVOY,))
    with pytest.raises(VerificationError) as raised:
        verify(module, (ENVOY, WASMX))
    assert problem in str(raised.value)


def test_verify_refuses_a_signature_no_host_declares() -> None:
    module = _module_importing('(import "env" "proxy_log" (func (param i32 i32) (result i32)))')
    with pytest.raises(VerificationError) as raised:
        verify(module, (ENVOY,))
    assert ("env.proxy_log: Envoy, Istio declares proxy_log as (i32 i32 i32) -> (i32), the module "
            "imports it as (i32 i32) -> (i32)") in str(raised.value)
