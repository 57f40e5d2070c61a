"""A built module is portable: valid, exports every 0.2.1 callback, imports only what hosts have."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pywasm_filter.abi import CALLBACK_EXPORTS, HOST_FUNCTIONS, WASI_ALLOWED
from pywasm_filter.wasm import binary
from tests.conftest import EXAMPLES


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
    assert env == HOST_FUNCTIONS
    assert wasi <= WASI_ALLOWED
    assert {module for module, _name, _kind in imports} == {"env", "wasi_snapshot_preview1"}
