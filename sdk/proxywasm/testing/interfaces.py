"""What each proxy links into a module: every host function with its exact type and status.

Declared once here, for the compiler (``pywasm_filter.abi`` checks a build's imports against
these tables) and for the emulator's host profiles (the wasm engine links a module as the proxy
would); the SDK proper never reads them. Each table lists every ``env`` and
``wasi_snapshot_preview1`` function the runtime may import:
- Envoy/Istio: proxy-wasm-cpp-host's exports for ABI 0.2.1 (src/exports.cc, src/wasm.cc), which
  implement the whole ABI; of its 45 WASI functions, the 18 a module may import are listed.
- Nginx WasmX: Kong's ngx_wasm_module at commit 3bed278 (src/common/proxy_wasm/
  ngx_proxy_wasm_host.c, src/wasm/wasi/ngx_wasi_preview1_host.c), as found by loading modules.
A function a host does not list is absent there: importing it fails the module's load.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .._targets import HEADER_NAMES_KEEP_CASE, INCREMENT_COUNTERS_ONLY

ENV = "env"
WASI = "wasi_snapshot_preview1"


class Status(enum.Enum):
    """What calling an imported function does in a host."""

    IMPLEMENTED = "implemented"
    STUB = "stub"  # links, but calling it traps the instance


@dataclass(frozen=True)
class Signature:
    """A function type: parameter and result value types ("i32", "i64")."""

    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({' '.join(self.params)}) -> ({' '.join(self.results)})"

    @property
    def wat(self) -> str:
        """The type in the text format, as wasmtime's link errors show it:
        ``(func (param i32) (result i32))``."""
        parts = ["func"]
        if self.params:
            parts.append(f"(param {' '.join(self.params)})")
        if self.results:
            parts.append(f"(result {' '.join(self.results)})")
        return f"({' '.join(parts)})"


@dataclass(frozen=True)
class HostFunction:
    """One function a host links: its signature and whether calling it works."""

    signature: Signature
    status: Status

    @property
    def stub(self) -> bool:
        """Whether the function links but traps the instance when called."""
        return self.status is Status.STUB


@dataclass(frozen=True, eq=False)
class HostInterface:
    """A proxy a module can target: its command-line key, its name and what it links."""

    key: str
    name: str
    functions: dict[tuple[str, str], HostFunction]
    quirks: frozenset[str] = frozenset()

    def lacks(self, module: str, name: str, signature: Signature | None = None) -> str | None:
        """Why importing ``module.name`` (with ``signature``) would fail here, or None."""
        function = self.functions.get((module, name))
        if function is None:
            return f"{self.name} does not provide {name} (the module would not load)"
        if signature is not None and function.signature != signature:
            return (f"{self.name} declares {name} as {function.signature}, the module imports "
                    f"it as {signature} (the module would not load)")
        # A WASI stub (proc_exit) is only reached when the interpreter exits, which traps in a
        # built module on every host anyway.
        if function.status is Status.STUB and module == ENV:
            return f"{self.name} does not implement {name} (calling it traps there)"
        return None


def _table(text: str) -> dict[tuple[str, str], HostFunction]:
    """Parse lines of ``module name params results [stub]`` (``-`` for no types)."""
    table = {}
    for line in filter(None, map(str.strip, text.splitlines())):
        module, name, params, results, *status = line.split()
        table[module, name] = HostFunction(
            Signature(tuple(params.split(",")) if params != "-" else (),
                      tuple(results.split(",")) if results != "-" else ()),
            Status.STUB if status == ["stub"] else Status.IMPLEMENTED)
    return table


_WASI_COMMON = """
wasi_snapshot_preview1 args_get i32,i32 i32
wasi_snapshot_preview1 args_sizes_get i32,i32 i32
wasi_snapshot_preview1 clock_time_get i32,i64,i32 i32
wasi_snapshot_preview1 environ_get i32,i32 i32
wasi_snapshot_preview1 environ_sizes_get i32,i32 i32
wasi_snapshot_preview1 fd_close i32 i32
wasi_snapshot_preview1 fd_fdstat_get i32,i32 i32
wasi_snapshot_preview1 fd_fdstat_set_flags i32,i32 i32
wasi_snapshot_preview1 fd_prestat_get i32,i32 i32
wasi_snapshot_preview1 fd_prestat_dir_name i32,i32,i32 i32
wasi_snapshot_preview1 fd_read i32,i32,i32,i32 i32
wasi_snapshot_preview1 fd_seek i32,i64,i32,i32 i32
wasi_snapshot_preview1 fd_write i32,i32,i32,i32 i32
wasi_snapshot_preview1 path_open i32,i32,i32,i32,i32,i64,i64,i32,i32 i32
wasi_snapshot_preview1 poll_oneoff i32,i32,i32,i32 i32
wasi_snapshot_preview1 random_get i32,i32 i32
wasi_snapshot_preview1 sched_yield - i32
"""

# The ABI 0.2.1 env functions with the signatures both hosts give them.
_ENV_COMMON = """
env proxy_log i32,i32,i32 i32
env proxy_get_current_time_nanoseconds i32 i32
env proxy_set_effective_context i32 i32
env proxy_set_tick_period_milliseconds i32 i32
env proxy_get_buffer_bytes i32,i32,i32,i32,i32 i32
env proxy_set_buffer_bytes i32,i32,i32,i32,i32 i32
env proxy_get_header_map_pairs i32,i32,i32 i32
env proxy_set_header_map_pairs i32,i32,i32 i32
env proxy_get_header_map_value i32,i32,i32,i32,i32 i32
env proxy_add_header_map_value i32,i32,i32,i32,i32 i32
env proxy_replace_header_map_value i32,i32,i32,i32,i32 i32
env proxy_remove_header_map_value i32,i32,i32 i32
env proxy_continue_stream i32 i32
env proxy_send_local_response i32,i32,i32,i32,i32,i32,i32,i32 i32
env proxy_http_call i32,i32,i32,i32,i32,i32,i32,i32,i32,i32 i32
env proxy_get_shared_data i32,i32,i32,i32,i32 i32
env proxy_set_shared_data i32,i32,i32,i32,i32 i32
env proxy_register_shared_queue i32,i32,i32 i32
env proxy_enqueue_shared_queue i32,i32,i32 i32
env proxy_dequeue_shared_queue i32,i32,i32 i32
env proxy_define_metric i32,i32,i32,i32 i32
env proxy_record_metric i32,i64 i32
env proxy_increment_metric i32,i64 i32
env proxy_get_metric i32,i32 i32
env proxy_get_property i32,i32,i32,i32 i32
env proxy_set_property i32,i32,i32,i32 i32
env proxy_call_foreign_function i32,i32,i32,i32,i32,i32 i32
"""

# What Envoy has and WasmX lacks, stubs, or declares otherwise.
_ENV_ENVOY = """
env proxy_get_log_level i32 i32
env proxy_done - i32
env proxy_get_buffer_status i32,i32,i32 i32
env proxy_get_header_map_size i32,i32 i32
env proxy_close_stream i32 i32
env proxy_get_status i32,i32,i32 i32
env proxy_grpc_call i32,i32,i32,i32,i32,i32,i32,i32,i32,i32,i32,i32 i32
env proxy_grpc_stream i32,i32,i32,i32,i32,i32,i32,i32,i32 i32
env proxy_grpc_send i32,i32,i32,i32 i32
env proxy_grpc_cancel i32 i32
env proxy_grpc_close i32 i32
env proxy_resolve_shared_queue i32,i32,i32,i32,i32 i32
wasi_snapshot_preview1 proc_exit i32 -
"""

# WasmX's own declarations of the same names (no proxy_get_buffer_status or
# proxy_get_header_map_size at all), and its extra names outside ABI 0.2.1.
_ENV_WASMX = """
env proxy_get_log_level i32,i32 i32 stub
env proxy_done - i32 stub
env proxy_close_stream i32 i32 stub
env proxy_get_status i32,i32,i32 i32 stub
env proxy_grpc_call i32,i32,i32,i32,i32,i32,i32,i32,i32,i32,i32,i32 i32 stub
env proxy_grpc_stream i32,i32,i32,i32,i32,i32,i32,i32,i32 i32 stub
env proxy_grpc_send i32,i32,i32,i32 i32 stub
env proxy_grpc_cancel i32 i32 stub
env proxy_grpc_close i32 i32 stub
env proxy_resolve_shared_queue i32,i32,i32,i32,i32 i32 stub
wasi_snapshot_preview1 proc_exit i32 - stub
env proxy_context_finalize - i32 stub
env proxy_create_timer i32,i32,i32 i32 stub
env proxy_delete_timer i32 i32 stub
env proxy_get_buffer i32,i32,i32,i32,i32 i32
env proxy_set_buffer i32,i32,i32,i32,i32 i32
env proxy_get_map_values i32,i32,i32,i32,i32 i32 stub
env proxy_set_map_values i32,i32,i32,i32,i32 i32 stub
env proxy_resume_stream i32 i32 stub
env proxy_resume_downstream i32 i32 stub
env proxy_resume_upstream i32 i32 stub
env proxy_resume_http_stream i32 i32 stub
env proxy_continue_request - i32
env proxy_continue_response - i32 stub
env proxy_send_http_response i32,i32,i32,i32,i32,i32,i32,i32 i32
env proxy_dispatch_http_call i32,i32,i32,i32,i32,i32,i32,i32,i32,i32 i32
env proxy_dispatch_grpc_call i32,i32,i32,i32,i32,i32,i32,i32,i32,i32,i32,i32 i32 stub
env proxy_open_grpc_stream i32,i32,i32,i32,i32,i32,i32,i32,i32 i32 stub
env proxy_send_grpc_stream_message i32,i32,i32 i32 stub
env proxy_cancel_grpc_call i32 i32 stub
env proxy_close_grpc_call i32 i32 stub
env proxy_open_shared_kvstore i32,i32,i32,i32 i32 stub
env proxy_get_shared_kvstore_key_values i32,i32,i32,i32,i32,i32 i32 stub
env proxy_set_shared_kvstore_key_values i32,i32,i32,i32,i32,i32 i32 stub
env proxy_add_shared_kvstore_key_values i32,i32,i32,i32,i32,i32 i32 stub
env proxy_remove_shared_kvstore_key i32,i32,i32,i32,i32,i32 i32 stub
env proxy_delete_shared_kvstore i32,i32,i32,i32,i32,i32 i32 stub
env proxy_open_shared_queue i32,i32,i32,i32 i32 stub
env proxy_dequeue_shared_queue_item i32,i32,i32 i32 stub
env proxy_enqueue_shared_queue_item i32,i32,i32 i32 stub
env proxy_delete_shared_queue i32,i32,i32,i32 i32 stub
env proxy_create_metric i32,i32,i32,i32 i32 stub
env proxy_get_metric_value i32,i32 i32 stub
env proxy_set_metric_value i32,i64 i32 stub
env proxy_increment_metric_value i32,i64 i32 stub
env proxy_delete_metric i32 i32 stub
env proxy_call_custom_function i32,i32,i32,i32,i32 i32 stub
env proxy_get_configuration i32,i32 i32
env proxy_clear_route_cache - i32 stub
"""

ENVOY = HostInterface("envoy", "Envoy, Istio", _table(_ENV_COMMON + _ENV_ENVOY + _WASI_COMMON))
WASMX = HostInterface("wasmx", "Nginx WasmX", _table(_ENV_COMMON + _ENV_WASMX + _WASI_COMMON),
             frozenset({HEADER_NAMES_KEEP_CASE, INCREMENT_COUNTERS_ONLY}))
HOSTS: tuple[HostInterface, ...] = (ENVOY, WASMX)
HOSTS_BY_KEY = {host.key: host for host in HOSTS}

# ``_proxywasm`` functions whose name is not their host function's.
_RENAMED = {
    "get_header_map_pairs_bytes": "proxy_get_header_map_pairs",
    "get_header_map_value_bytes": "proxy_get_header_map_value",
}
_ABI_FUNCTIONS = frozenset(name for module, name in ENVOY.functions if module == ENV)


def host_function(c_function: str) -> str | None:
    """The env host function a ``_proxywasm`` function calls, or None (e.g. set_error_factory)."""
    name = _RENAMED.get(c_function, f"proxy_{c_function}")
    return name if name in _ABI_FUNCTIONS else None
