"""Proxy-Wasm ABI 0.2.1 as the build checks it: what a module exports, and each host's imports.

The hosts' tables (every ``env`` and WASI function with its exact signature and status there)
are declared once, in ``proxywasm.testing.interfaces``, which the emulator's host profiles read
too; this module names them for the compiler.
"""

from __future__ import annotations

from proxywasm.testing.interfaces import (
    ENV,
    ENVOY,
    HOSTS,
    HOSTS_BY_KEY,
    WASI,
    WASMX,
    HostFunction,
    Signature,
    Status,
)
from proxywasm.testing.interfaces import HostInterface as Host

__all__ = [
    "ABI_MARKER", "CALLBACK_EXPORTS", "ENV", "ENVOY", "HOSTS", "HOSTS_BY_KEY", "HOST_FUNCTIONS",
    "WASI", "WASI_ALLOWED", "WASMX", "Host", "HostFunction", "Signature", "Status", "parse_hosts",
]

ABI_MARKER = "proxy_abi_version_0_2_1"

# Every callback of ABI 0.2.1: some hosts (Nginx WasmX) call them without checking they exist.
CALLBACK_EXPORTS: tuple[str, ...] = (
    "proxy_on_memory_allocate",
    "proxy_on_context_create",
    "proxy_on_vm_start",
    "proxy_on_configure",
    "proxy_on_tick",
    "proxy_on_queue_ready",
    "proxy_on_done",
    "proxy_on_log",
    "proxy_on_delete",
    "proxy_on_new_connection",
    "proxy_on_downstream_data",
    "proxy_on_downstream_connection_close",
    "proxy_on_upstream_data",
    "proxy_on_upstream_connection_close",
    "proxy_on_request_headers",
    "proxy_on_request_body",
    "proxy_on_request_trailers",
    "proxy_on_response_headers",
    "proxy_on_response_body",
    "proxy_on_response_trailers",
    "proxy_on_http_call_response",
    "proxy_on_grpc_receive_initial_metadata",
    "proxy_on_grpc_receive",
    "proxy_on_grpc_receive_trailing_metadata",
    "proxy_on_grpc_close",
    "proxy_on_foreign_function",
)

# Every env.proxy_* host function of ABI 0.2.1 (what the runtime may import).
HOST_FUNCTIONS: frozenset[str] = frozenset(
    name for module, name in ENVOY.functions if module == ENV)
# The WASI functions the runtime may import: those every target host implements.
WASI_ALLOWED: frozenset[str] = frozenset(
    name for module, name in WASMX.functions if module == WASI)


def parse_hosts(text: str) -> tuple[Host, ...]:
    """The hosts named in ``text`` ("envoy,wasmx"); ValueError names the known keys."""
    keys = [key.strip().lower() for key in text.split(",") if key.strip()]
    unknown = [key for key in keys if key not in HOSTS_BY_KEY]
    if unknown or not keys:
        raise ValueError(f"unknown host {', '.join(unknown) or repr(text)}: name one or more of "
                         f"{', '.join(HOSTS_BY_KEY)}, separated by commas")
    return tuple(host for host in HOSTS if host.key in keys)
