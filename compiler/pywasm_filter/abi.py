"""Proxy-Wasm ABI 0.2.1 as the build checks it: what a module must export and may import."""

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

# Every env.proxy_* host function of ABI 0.2.1.
HOST_FUNCTIONS: frozenset[str] = frozenset({
    "proxy_log", "proxy_get_log_level", "proxy_get_current_time_nanoseconds",
    "proxy_set_tick_period_milliseconds", "proxy_done", "proxy_set_effective_context",
    "proxy_get_buffer_bytes", "proxy_set_buffer_bytes", "proxy_get_buffer_status",
    "proxy_get_header_map_size", "proxy_get_header_map_pairs", "proxy_set_header_map_pairs",
    "proxy_get_header_map_value", "proxy_add_header_map_value", "proxy_replace_header_map_value",
    "proxy_remove_header_map_value", "proxy_continue_stream", "proxy_close_stream",
    "proxy_get_status", "proxy_send_local_response", "proxy_http_call", "proxy_grpc_call",
    "proxy_grpc_stream", "proxy_grpc_send", "proxy_grpc_cancel", "proxy_grpc_close",
    "proxy_get_shared_data", "proxy_set_shared_data", "proxy_register_shared_queue",
    "proxy_resolve_shared_queue", "proxy_enqueue_shared_queue", "proxy_dequeue_shared_queue",
    "proxy_define_metric", "proxy_record_metric", "proxy_increment_metric", "proxy_get_metric",
    "proxy_get_property", "proxy_set_property", "proxy_call_foreign_function",
})

# The WASI functions Kong WasmX implements; every host we target provides at least these.
WASI_ALLOWED: frozenset[str] = frozenset({
    "args_get", "args_sizes_get", "clock_time_get", "environ_get", "environ_sizes_get",
    "fd_close", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_prestat_dir_name", "fd_prestat_get",
    "fd_read", "fd_seek", "fd_write", "path_open", "poll_oneoff", "proc_exit", "random_get",
    "sched_yield",
})
