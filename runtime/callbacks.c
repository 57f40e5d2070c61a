/* Every Proxy-Wasm 0.2.1 callback, exported and routed to `proxywasm._dispatch`.
 *
 * The Python functions are looked up once at build time and kept in a table, so a callback
 * costs one vectorcall with small-int arguments. `_dispatch` catches the filter's exceptions;
 * anything that still escapes is printed (to the proxy log) and answered with 0.
 */
#include <stdint.h>

#include "pywasm.h"

#define CALLBACKS(X)                          \
    X(on_context_create)                      \
    X(on_vm_start)                            \
    X(on_configure)                           \
    X(on_tick)                                \
    X(on_queue_ready)                         \
    X(on_done)                                \
    X(on_log)                                 \
    X(on_delete)                              \
    X(on_new_connection)                      \
    X(on_downstream_data)                     \
    X(on_downstream_connection_close)         \
    X(on_upstream_data)                       \
    X(on_upstream_connection_close)           \
    X(on_request_headers)                     \
    X(on_request_body)                        \
    X(on_request_trailers)                    \
    X(on_response_headers)                    \
    X(on_response_body)                       \
    X(on_response_trailers)                   \
    X(on_http_call_response)                  \
    X(on_grpc_receive_initial_metadata)       \
    X(on_grpc_receive)                        \
    X(on_grpc_receive_trailing_metadata)      \
    X(on_grpc_close)                          \
    X(on_foreign_function)

#define AS_ENUM(name) CB_##name,
enum { CALLBACKS(AS_ENUM) CB_COUNT };

#define AS_NAME(name) #name,
static const char *const callback_names[CB_COUNT] = {CALLBACKS(AS_NAME)};

static PyObject *callbacks[CB_COUNT];

int pywasm_bind_callbacks(void) {
    PyObject *dispatch = PyImport_ImportModule("proxywasm._dispatch");
    if (dispatch == NULL) return -1;
    for (int i = 0; i < CB_COUNT; i++) {
        callbacks[i] = PyObject_GetAttrString(dispatch, callback_names[i]);
        if (callbacks[i] == NULL) {
            Py_DECREF(dispatch);
            return -1;
        }
    }
    Py_DECREF(dispatch);
    return 0;
}

/* The context id of the last callback, as a Python int: a request's callbacks (create,
 * headers, body, done, log, delete) all pass the same id, so it is converted once. */
static uint32_t last_context_id;
static PyObject *last_context_object;

static PyObject *context_object(uint32_t id) {
    if (last_context_object == NULL || id != last_context_id) {
        PyObject *object = PyLong_FromUnsignedLong(id);
        if (object == NULL) return NULL;
        Py_XSETREF(last_context_object, object);
        last_context_id = id;
    }
    return Py_NewRef(last_context_object);
}

/* Call one SDK callback with `nargs` unsigned arguments and return its result as an int. */
static int32_t dispatch(int which, size_t nargs, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
                        uint32_t e) {
    PyObject *callback = callbacks[which];
    if (callback == NULL) return 0;
    uint32_t values[5] = {a, b, c, d, e};
    PyObject *args[5];
    for (size_t i = 0; i < nargs; i++) {
        args[i] = i == 0 ? context_object(values[0]) : PyLong_FromUnsignedLong(values[i]);
        if (args[i] == NULL) {
            for (size_t j = 0; j < i; j++) Py_DECREF(args[j]);
            PyErr_Print();
            return 0;
        }
    }
    PyObject *result = PyObject_Vectorcall(callback, args, nargs, NULL);
    for (size_t i = 0; i < nargs; i++) Py_DECREF(args[i]);
    if (result == NULL) {
        PyErr_Print();
        return 0;
    }
    long value = result == Py_None ? 0 : PyLong_AsLong(result);
    Py_DECREF(result);
    if (value == -1 && PyErr_Occurred()) {
        PyErr_Print();
        return 0;
    }
    return (int32_t)value;
}

#define EXPORT1(name) \
    PYWASM_EXPORT(proxy_##name) int32_t proxy_##name(uint32_t a) { return dispatch(CB_##name, 1, a, 0, 0, 0, 0); }
#define EXPORT2(name) \
    PYWASM_EXPORT(proxy_##name) int32_t proxy_##name(uint32_t a, uint32_t b) { return dispatch(CB_##name, 2, a, b, 0, 0, 0); }
#define EXPORT3(name) \
    PYWASM_EXPORT(proxy_##name) int32_t proxy_##name(uint32_t a, uint32_t b, uint32_t c) { return dispatch(CB_##name, 3, a, b, c, 0, 0); }
#define VOID1(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a) { dispatch(CB_##name, 1, a, 0, 0, 0, 0); }
#define VOID2(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a, uint32_t b) { dispatch(CB_##name, 2, a, b, 0, 0, 0); }
#define VOID3(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a, uint32_t b, uint32_t c) { dispatch(CB_##name, 3, a, b, c, 0, 0); }
#define VOID4(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { dispatch(CB_##name, 4, a, b, c, d, 0); }
#define VOID5(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e) { dispatch(CB_##name, 5, a, b, c, d, e); }

/* Lifecycle and configuration */
VOID2(on_context_create)
EXPORT2(on_vm_start)
EXPORT2(on_configure)
VOID1(on_tick)
VOID2(on_queue_ready)
EXPORT1(on_done)
VOID1(on_log)
VOID1(on_delete)
/* TCP */
EXPORT1(on_new_connection)
EXPORT3(on_downstream_data)
VOID2(on_downstream_connection_close)
EXPORT3(on_upstream_data)
VOID2(on_upstream_connection_close)
/* HTTP */
EXPORT3(on_request_headers)
EXPORT3(on_request_body)
EXPORT2(on_request_trailers)
EXPORT3(on_response_headers)
EXPORT3(on_response_body)
EXPORT2(on_response_trailers)
/* Callouts, gRPC and foreign functions */
VOID5(on_http_call_response)
VOID3(on_grpc_receive_initial_metadata)
VOID3(on_grpc_receive)
VOID3(on_grpc_receive_trailing_metadata)
VOID3(on_grpc_close)
VOID3(on_foreign_function)
