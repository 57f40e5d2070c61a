"""Checks every built module before it is written: valid, complete exports, allowed imports."""

from __future__ import annotations

from .abi import ABI_MARKER, CALLBACK_EXPORTS, HOST_FUNCTIONS, WASI_ALLOWED
from .errors import PywasmFilterError
from .wasm import binary


class VerificationError(PywasmFilterError):
    """The built module would not load in every Proxy-Wasm host; a bug in pywasm-filter."""


def verify(module: bytes) -> None:
    """Raise VerificationError unless `module` is a valid, portable Proxy-Wasm 0.2.1 module."""
    binary.validate(module)
    exported = {name for name, _kind, _index in binary.exports(module)}
    missing = [name for name in (ABI_MARKER, "memory", *CALLBACK_EXPORTS) if name not in exported]
    if missing:
        raise VerificationError(f"the module does not export {', '.join(missing)}")
    for module_name, name, _kind in binary.imports(module):
        allowed = (module_name == "env" and name in HOST_FUNCTIONS) or (
            module_name == "wasi_snapshot_preview1" and name in WASI_ALLOWED
        )
        if not allowed:
            raise VerificationError(
                f"the module imports {module_name}.{name}, which some Proxy-Wasm hosts lack"
            )
