/* The benchmark's floor: the same header work as the Python filter, written in C directly
 * against Proxy-Wasm ABI 0.2.1 with no SDK, so its cost is what any filter must pay. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

enum { REQUEST_HEADERS = 0, RESPONSE_HEADERS = 2, LOG_INFO = 2, CONTINUE = 0 };

IMPORT(proxy_log) int32_t proxy_log(uint32_t level, const char *message, size_t size);
IMPORT(proxy_get_header_map_value)
int32_t proxy_get_header_map_value(uint32_t map, const char *key, size_t key_size, char **value,
                                   size_t *value_size);
IMPORT(proxy_replace_header_map_value)
int32_t proxy_replace_header_map_value(uint32_t map, const char *key, size_t key_size,
                                       const char *value, size_t value_size);

static const char STARTED[] = "bench vm started";
static const char PATH[] = ":path";
static const char HEADER[] = "x-bench";
static const char EMPTY_PATH[] = "empty";
static const char SEEN_PATH[] = "path";

/* Whether the last request carried a :path; read in the request, reported in the response. */
static int saw_path;

EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

EXPORT(proxy_on_memory_allocate) void *proxy_on_memory_allocate(size_t size) {
    return malloc(size);
}

EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t root) {}

EXPORT(proxy_on_vm_start) int32_t proxy_on_vm_start(uint32_t id, uint32_t size) {
    proxy_log(LOG_INFO, STARTED, sizeof STARTED - 1);
    return 1;
}

EXPORT(proxy_on_configure) int32_t proxy_on_configure(uint32_t id, uint32_t size) { return 1; }

EXPORT(proxy_on_request_headers)
int32_t proxy_on_request_headers(uint32_t id, uint32_t headers, uint32_t end_of_stream) {
    char *value = NULL;
    size_t size = 0;
    saw_path = proxy_get_header_map_value(REQUEST_HEADERS, PATH, sizeof PATH - 1, &value,
                                          &size) == 0 && size > 0;
    free(value);
    return CONTINUE;
}

EXPORT(proxy_on_response_headers)
int32_t proxy_on_response_headers(uint32_t id, uint32_t headers, uint32_t end_of_stream) {
    const char *value = saw_path ? SEEN_PATH : EMPTY_PATH;
    size_t size = saw_path ? sizeof SEEN_PATH - 1 : sizeof EMPTY_PATH - 1;
    proxy_replace_header_map_value(RESPONSE_HEADERS, HEADER, sizeof HEADER - 1, value, size);
    return CONTINUE;
}

EXPORT(proxy_on_done) int32_t proxy_on_done(uint32_t id) { return 1; }
EXPORT(proxy_on_log) void proxy_on_log(uint32_t id) {}
EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t id) {}
