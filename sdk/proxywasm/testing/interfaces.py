"""What a proxy links into a module: every host function it has, its exact type, and its status.

One table per host, read by the emulator's host profiles (``proxywasm.testing.profiles``) and
by the compiler's import checks, so both judge a module against the same facts. The SDK proper
never imports this (it is host-side knowledge, like the rest of ``proxywasm.testing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ENV = "env"
WASI = "wasi_snapshot_preview1"
_MODULES = {"env": ENV, "wasi": WASI}


@dataclass(frozen=True)
class HostFunction:
    """One function a host links: its module, name, wasm types, and whether it is a stub that
    traps when called."""

    module: str
    name: str
    params: tuple[str, ...]
    results: tuple[str, ...]
    stub: bool = False

    @property
    def wat(self) -> str:
        """The function type as wasmtime prints it: ``(func (param i32) (result i32))``."""
        return func_type(self.params, self.results)


def func_type(params: tuple[str, ...], results: tuple[str, ...]) -> str:
    """A function type in the text format, as wasmtime's link errors show it."""
    parts = ["func"]
    if params:
        parts.append(f"(param {' '.join(params)})")
    if results:
        parts.append(f"(result {' '.join(results)})")
    return f"({' '.join(parts)})"


@dataclass(frozen=True)
class HostInterface:
    """A host's whole interface: ``functions[(module, name)]``; nothing else links."""

    name: str
    interface: str
    functions: Mapping[tuple[str, str], HostFunction]

    def get(self, module: str, name: str) -> HostFunction | None:
        """The function ``module.name`` of this host, or None when the host lacks it."""
        return self.functions.get((module, name))


def _parse(table: str) -> dict[tuple[str, str], HostFunction]:
    """Rows ``module name: params -> results [stub]`` into functions by (module, name)."""
    functions: dict[tuple[str, str], HostFunction] = {}
    for row in table.strip().splitlines():
        head, _, signature = row.partition(":")
        module, name = head.split()
        params, _, rest = signature.partition("->")
        results = rest.split()
        stub = results[-1:] == ["stub"]
        function = HostFunction(_MODULES[module], name, tuple(params.split()),
                                tuple(results[:-1] if stub else results), stub)
        functions[(function.module, name)] = function
    return functions


# Nginx WasmX (Kong ngx_wasm_module at commit 3bed278, Wasmtime), as it links a module: every
# env function with its exact type (a stub links but traps when called), and the only WASI
# functions it provides. proxy_get_buffer_status and proxy_get_header_map_size do not exist.
WASMX = HostInterface("Nginx WasmX", "ngx_proxy_wasm", _parse("""
env proxy_log: i32 i32 i32 -> i32
env proxy_get_log_level: i32 i32 -> i32  stub
env proxy_get_current_time_nanoseconds: i32 -> i32
env proxy_set_effective_context: i32 -> i32
env proxy_context_finalize:  -> i32  stub
env proxy_done:  -> i32  stub
env proxy_create_timer: i32 i32 i32 -> i32  stub
env proxy_delete_timer: i32 -> i32  stub
env proxy_set_tick_period_milliseconds: i32 -> i32
env proxy_get_buffer: i32 i32 i32 i32 i32 -> i32
env proxy_get_buffer_bytes: i32 i32 i32 i32 i32 -> i32
env proxy_set_buffer: i32 i32 i32 i32 i32 -> i32
env proxy_set_buffer_bytes: i32 i32 i32 i32 i32 -> i32
env proxy_get_map_values: i32 i32 i32 i32 i32 -> i32  stub
env proxy_get_header_map_pairs: i32 i32 i32 -> i32
env proxy_get_header_map_value: i32 i32 i32 i32 i32 -> i32
env proxy_set_map_values: i32 i32 i32 i32 i32 -> i32  stub
env proxy_set_header_map_pairs: i32 i32 i32 -> i32
env proxy_add_header_map_value: i32 i32 i32 i32 i32 -> i32
env proxy_replace_header_map_value: i32 i32 i32 i32 i32 -> i32
env proxy_remove_header_map_value: i32 i32 i32 -> i32
env proxy_get_property: i32 i32 i32 i32 -> i32
env proxy_set_property: i32 i32 i32 i32 -> i32
env proxy_resume_stream: i32 -> i32  stub
env proxy_resume_downstream: i32 -> i32  stub
env proxy_resume_upstream: i32 -> i32  stub
env proxy_continue_stream: i32 -> i32
env proxy_close_stream: i32 -> i32  stub
env proxy_resume_http_stream: i32 -> i32  stub
env proxy_continue_request:  -> i32
env proxy_continue_response:  -> i32  stub
env proxy_send_http_response: i32 i32 i32 i32 i32 i32 i32 i32 -> i32
env proxy_send_local_response: i32 i32 i32 i32 i32 i32 i32 i32 -> i32
env proxy_dispatch_http_call: i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 -> i32
env proxy_http_call: i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 -> i32
env proxy_dispatch_grpc_call: i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_grpc_call: i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_open_grpc_stream: i32 i32 i32 i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_grpc_stream: i32 i32 i32 i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_send_grpc_stream_message: i32 i32 i32 -> i32  stub
env proxy_grpc_send: i32 i32 i32 i32 -> i32  stub
env proxy_cancel_grpc_call: i32 -> i32  stub
env proxy_grpc_cancel: i32 -> i32  stub
env proxy_close_grpc_call: i32 -> i32  stub
env proxy_grpc_close: i32 -> i32  stub
env proxy_get_status: i32 i32 i32 -> i32  stub
env proxy_open_shared_kvstore: i32 i32 i32 i32 -> i32  stub
env proxy_get_shared_kvstore_key_values: i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_get_shared_data: i32 i32 i32 i32 i32 -> i32
env proxy_set_shared_kvstore_key_values: i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_set_shared_data: i32 i32 i32 i32 i32 -> i32
env proxy_add_shared_kvstore_key_values: i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_remove_shared_kvstore_key: i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_delete_shared_kvstore: i32 i32 i32 i32 i32 i32 -> i32  stub
env proxy_open_shared_queue: i32 i32 i32 i32 -> i32  stub
env proxy_register_shared_queue: i32 i32 i32 -> i32
env proxy_dequeue_shared_queue_item: i32 i32 i32 -> i32  stub
env proxy_dequeue_shared_queue: i32 i32 i32 -> i32
env proxy_enqueue_shared_queue_item: i32 i32 i32 -> i32  stub
env proxy_enqueue_shared_queue: i32 i32 i32 -> i32
env proxy_delete_shared_queue: i32 i32 i32 i32 -> i32  stub
env proxy_resolve_shared_queue: i32 i32 i32 i32 i32 -> i32  stub
env proxy_create_metric: i32 i32 i32 i32 -> i32  stub
env proxy_define_metric: i32 i32 i32 i32 -> i32
env proxy_get_metric_value: i32 i32 -> i32  stub
env proxy_get_metric: i32 i32 -> i32
env proxy_set_metric_value: i32 i64 -> i32  stub
env proxy_record_metric: i32 i64 -> i32
env proxy_increment_metric_value: i32 i64 -> i32  stub
env proxy_increment_metric: i32 i64 -> i32
env proxy_delete_metric: i32 -> i32  stub
env proxy_call_custom_function: i32 i32 i32 i32 i32 -> i32  stub
env proxy_call_foreign_function: i32 i32 i32 i32 i32 i32 -> i32
env proxy_get_configuration: i32 i32 -> i32
env proxy_clear_route_cache:  -> i32  stub
wasi args_get: i32 i32 -> i32
wasi args_sizes_get: i32 i32 -> i32
wasi clock_time_get: i32 i64 i32 -> i32
wasi environ_get: i32 i32 -> i32
wasi environ_sizes_get: i32 i32 -> i32
wasi fd_close: i32 -> i32
wasi fd_fdstat_get: i32 i32 -> i32
wasi fd_fdstat_set_flags: i32 i32 -> i32
wasi fd_prestat_get: i32 i32 -> i32
wasi fd_prestat_dir_name: i32 i32 i32 -> i32
wasi fd_read: i32 i32 i32 i32 -> i32
wasi fd_seek: i32 i64 i32 i32 -> i32
wasi fd_write: i32 i32 i32 i32 -> i32
wasi path_open: i32 i32 i32 i32 i32 i64 i64 i32 i32 -> i32
wasi proc_exit: i32 ->   stub
wasi random_get: i32 i32 -> i32
wasi sched_yield:  -> i32
wasi poll_oneoff: i32 i32 i32 i32 -> i32
"""))
