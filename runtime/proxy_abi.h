/* The host side of Proxy-Wasm ABI 0.2.1: every env.proxy_* import, declared once. */
#ifndef PYWASM_PROXY_ABI_H
#define PYWASM_PROXY_ABI_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

typedef int32_t proxy_status_t;

enum {
    PROXY_OK = 0,
    PROXY_NOT_FOUND = 1,
    PROXY_EMPTY = 7,
};

/* Lifecycle and logging */
PROXY_IMPORT(proxy_done) proxy_status_t proxy_done(void);
PROXY_IMPORT(proxy_set_effective_context) proxy_status_t proxy_set_effective_context(uint32_t id);
PROXY_IMPORT(proxy_log) proxy_status_t proxy_log(uint32_t level, const char *msg, size_t size);
PROXY_IMPORT(proxy_get_log_level) proxy_status_t proxy_get_log_level(uint32_t *level);

/* Time */
PROXY_IMPORT(proxy_get_current_time_nanoseconds)
proxy_status_t proxy_get_current_time_nanoseconds(uint64_t *nanos);
PROXY_IMPORT(proxy_set_tick_period_milliseconds)
proxy_status_t proxy_set_tick_period_milliseconds(uint32_t period);

/* Buffers */
PROXY_IMPORT(proxy_get_buffer_bytes)
proxy_status_t proxy_get_buffer_bytes(uint32_t type, size_t start, size_t max_size, char **data,
                                      size_t *size);
PROXY_IMPORT(proxy_set_buffer_bytes)
proxy_status_t proxy_set_buffer_bytes(uint32_t type, size_t start, size_t size, const char *data,
                                      size_t data_size);
PROXY_IMPORT(proxy_get_buffer_status)
proxy_status_t proxy_get_buffer_status(uint32_t type, size_t *size, uint32_t *flags);

/* Header maps */
PROXY_IMPORT(proxy_get_header_map_size)
proxy_status_t proxy_get_header_map_size(uint32_t type, size_t *size);
PROXY_IMPORT(proxy_get_header_map_pairs)
proxy_status_t proxy_get_header_map_pairs(uint32_t type, char **data, size_t *size);
PROXY_IMPORT(proxy_set_header_map_pairs)
proxy_status_t proxy_set_header_map_pairs(uint32_t type, const char *data, size_t size);
PROXY_IMPORT(proxy_get_header_map_value)
proxy_status_t proxy_get_header_map_value(uint32_t type, const char *key, size_t key_size,
                                          char **value, size_t *value_size);
PROXY_IMPORT(proxy_add_header_map_value)
proxy_status_t proxy_add_header_map_value(uint32_t type, const char *key, size_t key_size,
                                          const char *value, size_t value_size);
PROXY_IMPORT(proxy_replace_header_map_value)
proxy_status_t proxy_replace_header_map_value(uint32_t type, const char *key, size_t key_size,
                                              const char *value, size_t value_size);
PROXY_IMPORT(proxy_remove_header_map_value)
proxy_status_t proxy_remove_header_map_value(uint32_t type, const char *key, size_t key_size);

/* Streams and local responses */
PROXY_IMPORT(proxy_continue_stream) proxy_status_t proxy_continue_stream(uint32_t type);
PROXY_IMPORT(proxy_close_stream) proxy_status_t proxy_close_stream(uint32_t type);
PROXY_IMPORT(proxy_get_status)
proxy_status_t proxy_get_status(uint32_t *code, char **message, size_t *message_size);
PROXY_IMPORT(proxy_send_local_response)
proxy_status_t proxy_send_local_response(uint32_t status_code, const char *details,
                                         size_t details_size, const char *body, size_t body_size,
                                         const char *headers, size_t headers_size,
                                         int32_t grpc_status);

/* HTTP and gRPC callouts */
PROXY_IMPORT(proxy_http_call)
proxy_status_t proxy_http_call(const char *upstream, size_t upstream_size, const char *headers,
                               size_t headers_size, const char *body, size_t body_size,
                               const char *trailers, size_t trailers_size, uint32_t timeout_ms,
                               uint32_t *token);
PROXY_IMPORT(proxy_grpc_call)
proxy_status_t proxy_grpc_call(const char *upstream, size_t upstream_size, const char *service,
                               size_t service_size, const char *method, size_t method_size,
                               const char *metadata, size_t metadata_size, const char *message,
                               size_t message_size, uint32_t timeout_ms, uint32_t *token);
PROXY_IMPORT(proxy_grpc_stream)
proxy_status_t proxy_grpc_stream(const char *upstream, size_t upstream_size, const char *service,
                                 size_t service_size, const char *method, size_t method_size,
                                 const char *metadata, size_t metadata_size, uint32_t *token);
PROXY_IMPORT(proxy_grpc_send)
proxy_status_t proxy_grpc_send(uint32_t token, const char *message, size_t message_size,
                               uint32_t end_stream);
PROXY_IMPORT(proxy_grpc_cancel) proxy_status_t proxy_grpc_cancel(uint32_t token);
PROXY_IMPORT(proxy_grpc_close) proxy_status_t proxy_grpc_close(uint32_t token);

/* Shared data and queues */
PROXY_IMPORT(proxy_get_shared_data)
proxy_status_t proxy_get_shared_data(const char *key, size_t key_size, char **value,
                                     size_t *value_size, uint32_t *cas);
PROXY_IMPORT(proxy_set_shared_data)
proxy_status_t proxy_set_shared_data(const char *key, size_t key_size, const char *value,
                                     size_t value_size, uint32_t cas);
PROXY_IMPORT(proxy_register_shared_queue)
proxy_status_t proxy_register_shared_queue(const char *name, size_t name_size, uint32_t *id);
PROXY_IMPORT(proxy_resolve_shared_queue)
proxy_status_t proxy_resolve_shared_queue(const char *vm_id, size_t vm_id_size, const char *name,
                                          size_t name_size, uint32_t *id);
PROXY_IMPORT(proxy_enqueue_shared_queue)
proxy_status_t proxy_enqueue_shared_queue(uint32_t id, const char *value, size_t value_size);
PROXY_IMPORT(proxy_dequeue_shared_queue)
proxy_status_t proxy_dequeue_shared_queue(uint32_t id, char **value, size_t *value_size);

/* Metrics */
PROXY_IMPORT(proxy_define_metric)
proxy_status_t proxy_define_metric(uint32_t type, const char *name, size_t name_size,
                                   uint32_t *id);
PROXY_IMPORT(proxy_record_metric) proxy_status_t proxy_record_metric(uint32_t id, uint64_t value);
PROXY_IMPORT(proxy_increment_metric)
proxy_status_t proxy_increment_metric(uint32_t id, int64_t delta);
PROXY_IMPORT(proxy_get_metric) proxy_status_t proxy_get_metric(uint32_t id, uint64_t *value);

/* Properties and foreign functions */
PROXY_IMPORT(proxy_get_property)
proxy_status_t proxy_get_property(const char *path, size_t path_size, char **value,
                                  size_t *value_size);
PROXY_IMPORT(proxy_set_property)
proxy_status_t proxy_set_property(const char *path, size_t path_size, const char *value,
                                  size_t value_size);
PROXY_IMPORT(proxy_call_foreign_function)
proxy_status_t proxy_call_foreign_function(const char *name, size_t name_size,
                                           const char *arguments, size_t arguments_size,
                                           char **results, size_t *results_size);

#endif
