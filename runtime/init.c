/* Module integration: the ABI marker, the allocator export, and build-time start-up.
 *
 * `pywasm_init` runs once, at build time inside the snapshotter: it starts CPython with the
 * bundle's search path, imports the filter through `proxywasm._bootstrap`, and binds the
 * callbacks. The memory it leaves behind becomes the module's data, so at run time no
 * interpreter start-up and no filesystem are needed.
 *
 * The init argument is text, one `key=value` per line: `path=` lines give sys.path (in
 * order), a `pycache=` line sys.pycache_prefix (where precompiled bytecode is), `budget=` the
 * per-callback execution budget (limits.c); the whole text is also handed to
 * `_bootstrap.initialize`.
 */
#define PY_SSIZE_T_CLEAN
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pywasm.h"

PYWASM_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

PYWASM_EXPORT(proxy_on_memory_allocate) void *proxy_on_memory_allocate(size_t size) {
    return malloc(size);
}

/* Replaces `_initialize` once the snapshot is taken: C constructors must not run twice. */
PYWASM_EXPORT(__pywasm_snapshot_noop) void pywasm_snapshot_noop(void) {}

/* Fill config->module_search_paths from the `path=` lines of the init argument and
 * config->pycache_prefix from its `pycache=` line. */
static PyStatus set_search_path(PyConfig *config, const char *spec, size_t size) {
    config->module_search_paths_set = 1;
    const char *line = spec, *end = spec + size;
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL) eol = end;
        size_t key = (size_t)(eol - line) > 5 && memcmp(line, "path=", 5) == 0      ? 5
                     : (size_t)(eol - line) > 8 && memcmp(line, "pycache=", 8) == 0 ? 8
                                                                                   : 0;
        if (key != 0) {
            char *utf8 = strndup(line + key, (size_t)(eol - line) - key);
            wchar_t *entry = utf8 ? Py_DecodeLocale(utf8, NULL) : NULL;
            free(utf8);
            if (entry == NULL) return PyStatus_NoMemory();
            PyStatus status = key == 5
                ? PyWideStringList_Append(&config->module_search_paths, entry)
                : PyConfig_SetString(config, &config->pycache_prefix, entry);
            PyMem_RawFree(entry);
            if (PyStatus_Exception(status)) return status;
        }
        line = eol + 1;
    }
    return PyStatus_Ok();
}

static int start_interpreter(const char *spec, size_t size) {
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.utf8_mode = 1;
    PyStatus status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status)) goto fail;

    if (PyImport_AppendInittab("_proxywasm", PyInit__proxywasm) < 0) return -1;

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.install_signal_handlers = 0;
    config.pathconfig_warnings = 0;
    config.user_site_directory = 0;
    config.buffered_stdio = 0;
    status = PyConfig_SetString(&config, &config.program_name, L"pywasm-filter");
    if (!PyStatus_Exception(status)) status = set_search_path(&config, spec, size);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) goto fail;
    return 0;
fail:
    fprintf(stderr, "pywasm-filter: CPython failed to start: %s\n",
            status.err_msg ? status.err_msg : "unknown error");
    return -1;
}

/* The number on the `key` line of the init argument, or `fallback`. */
static long spec_number(const char *spec, size_t size, const char *key, long fallback) {
    size_t length = strlen(key);
    for (const char *line = spec, *end = spec + size; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL) eol = end;
        if ((size_t)(eol - line) > length && memcmp(line, key, length) == 0)
            return strtol(line + length, NULL, 10);
        line = eol + 1;
    }
    return fallback;
}

static int import_filter(const char *spec, size_t size) {
    pywasm_set_budget(spec_number(spec, size, "budget=", -1));
    if (pywasm_install_guards() < 0) return -1;
    PyObject *bootstrap = PyImport_ImportModule("proxywasm._bootstrap");
    if (bootstrap == NULL) return -1;
    PyObject *result = PyObject_CallMethod(bootstrap, "initialize", "s#", spec, (Py_ssize_t)size);
    Py_DECREF(bootstrap);
    if (result == NULL) return -1;
    Py_DECREF(result);
    if (pywasm_bind_callbacks() < 0 || pywasm_speed_up_enums() < 0) return -1;
    return pywasm_bind_limits();
}

/* Zero the heap's free memory so the snapshot stores no garbage (freed memory keeps its old
 * bytes, e.g. the parser's arenas from compiling the filter). Every free chunk, down to the
 * smallest, is claimed with malloc, cleared and released again; claims that would grow the
 * memory are given back. The claims are chained through their own first word. */
static void zero_free_heap(void) {
    void *claims = NULL;
    size_t pages = __builtin_wasm_memory_size(0);
    for (size_t size = (size_t)1 << 20; size >= sizeof(void *);) {
        void **claim = malloc(size);
        if (claim == NULL || __builtin_wasm_memory_size(0) != pages) {
            free(claim);
            pages = __builtin_wasm_memory_size(0);
            size >>= 1;
            continue;
        }
        memset(claim, 0, size);
        *claim = claims;
        claims = claim;
    }
    while (claims != NULL) {
        void *next = *(void **)claims;
        free(claims);
        claims = next;
    }
}

PYWASM_EXPORT(pywasm_init) int32_t pywasm_init(const char *spec, size_t size) {
    int rc = start_interpreter(spec, size);
    if (rc == 0 && import_filter(spec, size) < 0) {
        PyErr_Print();
        rc = -1;
    }
    fflush(stdout);
    fflush(stderr);
    pywasm_reset_wasi_overrides();
    if (rc == 0) zero_free_heap();
    return rc == 0 ? 0 : 1;
}
