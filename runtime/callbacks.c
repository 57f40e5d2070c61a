/* Every Proxy-Wasm 0.2.1 callback, exported and routed to `proxywasm._dispatch`.
 *
 * The Python functions are looked up once at build time and kept in a table, so a callback
 * costs one vectorcall with small-int arguments. `_dispatch` catches the filter's exceptions;
 * anything that still escapes is printed (to the proxy log) and answered with 0.
 *
 * A callback the context's class inherits from the SDK never enters Python: when
 * `on_context_create` creates an HTTP or TCP context it returns a mask of the callbacks the
 * class inherits (bit i is `_dispatch._INHERITABLE[i]`, see the enum below), kept
 * here per context id, and those callbacks are answered with the SDK's default. A stream
 * callback the class overrides is called on the context object itself (no dispatcher frame)
 * unless the context's stream is paused; only an answer other than CONTINUE, or an exception,
 * goes back to `_dispatch.finish_direct`.
 */
#include <stdint.h>
#include <stdlib.h>

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

/* Bit positions in the inherited-callback mask: the order of `_dispatch._INHERITABLE`. */
enum {
    REQUEST_HEADERS, REQUEST_BODY, REQUEST_TRAILERS,
    RESPONSE_HEADERS, RESPONSE_BODY, RESPONSE_TRAILERS,
    NEW_CONNECTION, DOWNSTREAM_DATA, UPSTREAM_DATA,
    DOWNSTREAM_CLOSE, UPSTREAM_CLOSE, DONE, LOG,
};

/* Stream callbacks the runtime calls on the context object itself (see `call_direct`): the
 * first DIRECT_COUNT names of `_dispatch._INHERITABLE`, the first FIRST_TCP of them HTTP. */
enum { FIRST_TCP = NEW_CONNECTION, DIRECT_COUNT = UPSTREAM_DATA + 1 };
static PyObject *direct_names[DIRECT_COUNT];
static PyObject *http_contexts, *tcp_contexts, *action_continue, *finish_direct, *paused_name;

static PyObject *bind(PyObject *dispatch, const char *name) {
    return PyObject_GetAttrString(dispatch, name);
}

int pywasm_bind_callbacks(void) {
    PyObject *dispatch = PyImport_ImportModule("proxywasm._dispatch");
    if (dispatch == NULL) return -1;
    int failed = 0;
    for (int i = 0; i < CB_COUNT && !failed; i++)
        failed = (callbacks[i] = bind(dispatch, callback_names[i])) == NULL;
    PyObject *names = failed ? NULL : bind(dispatch, "_INHERITABLE");
    failed = names == NULL || !PyTuple_Check(names) || PyTuple_GET_SIZE(names) < DIRECT_COUNT;
    for (int i = 0; i < DIRECT_COUNT && !failed; i++)
        direct_names[i] = Py_NewRef(PyTuple_GET_ITEM(names, i));
    Py_XDECREF(names);
    failed = failed || (http_contexts = bind(dispatch, "_http")) == NULL ||
             (tcp_contexts = bind(dispatch, "_streams")) == NULL ||
             (action_continue = bind(dispatch, "_CONTINUE")) == NULL ||
             (finish_direct = bind(dispatch, "finish_direct")) == NULL ||
             (paused_name = PyUnicode_InternFromString("_paused")) == NULL;
    Py_DECREF(dispatch);
    if (failed && !PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "proxywasm._dispatch._INHERITABLE is too short");
    return failed ? -1 : 0;
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
static int32_t call_python(int which, size_t nargs, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
                        uint32_t e) {
    PyObject *callback = callbacks[which];
    if (callback == NULL) return 0;
    uint32_t values[5] = {a, b, c, d, e};
    PyObject *args[5];
    for (size_t i = 0; i < nargs; i++) {
        args[i] = i == 0 ? context_object(values[0]) : PyLong_FromUnsignedLong(values[i]);
        if (args[i] == NULL) {
            for (size_t j = 0; j < i; j++) Py_DECREF(args[j]);
            pywasm_print_exception();
            return 0;
        }
    }
    PyObject *result = PyObject_Vectorcall(callback, args, nargs, NULL);
    for (size_t i = 0; i < nargs; i++) Py_DECREF(args[i]);
    if (result == NULL) {
        pywasm_print_exception();
        return 0;
    }
    long value = result == Py_None ? 0 : PyLong_AsLong(result);
    Py_DECREF(result);
    if (value == -1 && PyErr_Occurred()) {
        pywasm_print_exception();
        return 0;
    }
    return (int32_t)value;
}

/* `call_python` with the callback's budget and name in place (see limits.c). */
static int32_t dispatch(int which, size_t nargs, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
                        uint32_t e) {
    const char *previous = pywasm_enter_callback(callback_names[which]);
    int32_t result = call_python(which, nargs, a, b, c, d, e);
    pywasm_leave_callback(previous);
    return result;
}

/* One context's entry: the callbacks it inherits, and whether its last stream callback that
 * reached Python paused (then every stream callback goes to Python, which tracks the pause). */
typedef struct {
    uint32_t id; /* 0: a free slot (the host never gives a stream context id 0) */
    uint16_t inherited;
    uint8_t paused;
} entry_t;

/* Open addressing with linear probing, kept at most half full; deletion shifts back. */
static entry_t *entries;
static uint32_t capacity; /* a power of two, or 0 before the first context */
static uint32_t used;

static uint32_t slot_of(uint32_t id) { return (id * 2654435761u) & (capacity - 1); }

static entry_t *find(uint32_t id) {
    if (capacity == 0) return NULL;
    for (uint32_t i = slot_of(id);; i = (i + 1) & (capacity - 1)) {
        if (entries[i].id == id) return &entries[i];
        if (entries[i].id == 0) return NULL;
    }
}

static int grow(void) {
    uint32_t old_capacity = capacity;
    entry_t *old = entries;
    uint32_t new_capacity = old_capacity ? old_capacity * 2 : 64;
    entry_t *fresh = calloc(new_capacity, sizeof(entry_t));
    if (fresh == NULL) return -1;
    entries = fresh;
    capacity = new_capacity;
    for (uint32_t i = 0; i < old_capacity; i++) {
        if (old[i].id == 0) continue;
        uint32_t j = slot_of(old[i].id);
        while (entries[j].id != 0) j = (j + 1) & (capacity - 1);
        entries[j] = old[i];
    }
    free(old);
    return 0;
}

/* Record the callbacks context `id` inherits; without memory it is simply not recorded
 * (every callback then goes to Python, which is always correct). */
void pywasm_set_inherited(uint32_t id, uint32_t inherited) {
    if (id == 0) return;
    entry_t *entry = find(id);
    if (entry == NULL) {
        if ((used + 1) * 2 > capacity && grow() < 0) return;
        uint32_t i = slot_of(id);
        while (entries[i].id != 0) i = (i + 1) & (capacity - 1);
        entry = &entries[i];
        entry->id = id;
        entry->paused = 0;
        used++;
    }
    entry->inherited = (uint16_t)inherited;
}

static void forget(uint32_t id) {
    entry_t *entry = find(id);
    if (entry == NULL) return;
    uint32_t mask = capacity - 1, hole = (uint32_t)(entry - entries);
    for (uint32_t i = (hole + 1) & mask; entries[i].id != 0; i = (i + 1) & mask) {
        uint32_t home = slot_of(entries[i].id);
        /* Move the entry into the hole unless its home lies cyclically in (hole, i]. */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            entries[hole] = entries[i];
            hole = i;
        }
    }
    entries[hole].id = 0;
    used--;
}

/* The pending exception as one object (with its traceback), clearing it. */
static PyObject *take_exception(void) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (value != NULL && traceback != NULL) PyException_SetTraceback(value, traceback);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return value != NULL ? value : Py_NewRef(Py_None);
}

/* Call the overridden stream callback `index` on the context of `id` itself, as the
 * dispatcher's function would: CONTINUE with nothing paused is answered here; any other
 * result or an exception goes to `_dispatch.finish_direct`. Without a context, `which`. */
static int32_t call_method(int which, int index, size_t nargs, uint32_t id, uint32_t b,
                           uint32_t c) {
    PyObject *id_object = context_object(id);
    if (id_object == NULL) {
        pywasm_print_exception();
        return 0;
    }
    PyObject *contexts = index < FIRST_TCP ? http_contexts : tcp_contexts;
    PyObject *context = PyDict_GetItemWithError(contexts, id_object);
    if (context == NULL) {
        Py_DECREF(id_object);
        if (PyErr_Occurred()) pywasm_print_exception();
        return dispatch(which, nargs, id, b, c, 0, 0);
    }
    Py_INCREF(context);
    PyObject *args[3] = {context, NULL, NULL};
    size_t count = 1;
    if (nargs >= 2 && (args[count++] = PyLong_FromUnsignedLong(b)) == NULL) count = 0;
    if (count && nargs == 3) args[count++] = Py_NewRef(c ? Py_True : Py_False);
    PyObject *result =
        count ? PyObject_VectorcallMethod(direct_names[index], args, count, NULL) : NULL;
    for (size_t i = 1; i < count; i++) Py_DECREF(args[i]);
    int32_t action = -1;
    if (result == action_continue) {
        PyObject *paused = PyObject_GetAttr(context, paused_name);
        if (paused != NULL &&
            (paused == Py_None || PyObject_SetAttr(context, paused_name, Py_None) == 0))
            action = 0;
        Py_XDECREF(paused);
    }
    if (action != 0) {
        PyObject *error = result == NULL || result == action_continue ? take_exception()
                                                                      : Py_NewRef(Py_None);
        PyObject *index_object = PyLong_FromLong(index);
        PyObject *answer = NULL;
        if (index_object != NULL) {
            PyObject *finish_args[4] = {id_object, index_object,
                                        result != NULL ? result : Py_None, error};
            answer = PyObject_Vectorcall(finish_direct, finish_args, 4, NULL);
            Py_DECREF(index_object);
        }
        Py_DECREF(error);
        long value = answer == NULL ? -1 : PyLong_AsLong(answer);
        Py_XDECREF(answer);
        if (value == -1 && PyErr_Occurred()) {
            pywasm_print_exception();
            value = 0;
        }
        action = (int32_t)value;
    }
    Py_XDECREF(result);
    Py_DECREF(context);
    Py_DECREF(id_object);
    return action;
}

static int32_t call_direct(int which, int index, size_t nargs, uint32_t id, uint32_t b,
                           uint32_t c) {
    const char *previous = pywasm_enter_callback(callback_names[which]);
    int32_t result = call_method(which, index, nargs, id, b, c);
    pywasm_leave_callback(previous);
    return result;
}

/* A stream callback: CONTINUE (0) straight away when the context inherits it and is not
 * paused; the context's own method when it overrides it and is not paused; otherwise the
 * dispatcher. The answer says whether the stream is now paused. */
static int32_t stream_callback(int which, int index, size_t nargs, uint32_t id, uint32_t b,
                               uint32_t c) {
    entry_t *entry = find(id);
    if (entry != NULL && !entry->paused && (entry->inherited & (1u << index))) return 0;
    int32_t action = entry != NULL && !entry->paused ? call_direct(which, index, nargs, id, b, c)
                                                     : dispatch(which, nargs, id, b, c, 0, 0);
    entry = find(id); /* the callback may have added or moved entries */
    if (entry != NULL) entry->paused = action != 0;
    return action;
}

/* A callback whose SDK default has no effect: `answer` when the context inherits it. */
static int32_t inherited_or_dispatch(int which, uint32_t bit, size_t nargs, uint32_t id,
                                     uint32_t b, int32_t answer) {
    entry_t *entry = find(id);
    if (entry != NULL && (entry->inherited & bit)) return answer;
    return dispatch(which, nargs, id, b, 0, 0, 0);
}

#define EXPORT1(name) \
    PYWASM_EXPORT(proxy_##name) int32_t proxy_##name(uint32_t a) { return dispatch(CB_##name, 1, a, 0, 0, 0, 0); }
#define EXPORT2(name) \
    PYWASM_EXPORT(proxy_##name) int32_t proxy_##name(uint32_t a, uint32_t b) { return dispatch(CB_##name, 2, a, b, 0, 0, 0); }
#define VOID1(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a) { dispatch(CB_##name, 1, a, 0, 0, 0, 0); }
#define VOID2(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a, uint32_t b) { dispatch(CB_##name, 2, a, b, 0, 0, 0); }
#define VOID3(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a, uint32_t b, uint32_t c) { dispatch(CB_##name, 3, a, b, c, 0, 0); }
#define VOID5(name) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e) { dispatch(CB_##name, 5, a, b, c, d, e); }
#define STREAM1(name, index) \
    PYWASM_EXPORT(proxy_##name) int32_t proxy_##name(uint32_t a) { return stream_callback(CB_##name, index, 1, a, 0, 0); }
#define STREAM2(name, index) \
    PYWASM_EXPORT(proxy_##name) int32_t proxy_##name(uint32_t a, uint32_t b) { return stream_callback(CB_##name, index, 2, a, b, 0); }
#define STREAM3(name, index) \
    PYWASM_EXPORT(proxy_##name) int32_t proxy_##name(uint32_t a, uint32_t b, uint32_t c) { return stream_callback(CB_##name, index, 3, a, b, c); }
#define CLOSE2(name, index) \
    PYWASM_EXPORT(proxy_##name) void proxy_##name(uint32_t a, uint32_t b) { inherited_or_dispatch(CB_##name, 1u << index, 2, a, b, 0); }

/* Lifecycle and configuration */
PYWASM_EXPORT(proxy_on_context_create) void proxy_on_context_create(uint32_t id, uint32_t parent) {
    int32_t inherited = dispatch(CB_on_context_create, 2, id, parent, 0, 0, 0);
    if (parent != 0) pywasm_set_inherited(id, (uint32_t)inherited);
}
EXPORT2(on_vm_start)
EXPORT2(on_configure)
VOID1(on_tick)
VOID2(on_queue_ready)
PYWASM_EXPORT(proxy_on_done) int32_t proxy_on_done(uint32_t id) {
    return inherited_or_dispatch(CB_on_done, 1u << DONE, 1, id, 0, 1);
}
PYWASM_EXPORT(proxy_on_log) void proxy_on_log(uint32_t id) {
    inherited_or_dispatch(CB_on_log, 1u << LOG, 1, id, 0, 0);
}
PYWASM_EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t id) {
    dispatch(CB_on_delete, 1, id, 0, 0, 0, 0);
    forget(id);
}
/* TCP */
STREAM1(on_new_connection, NEW_CONNECTION)
STREAM3(on_downstream_data, DOWNSTREAM_DATA)
CLOSE2(on_downstream_connection_close, DOWNSTREAM_CLOSE)
STREAM3(on_upstream_data, UPSTREAM_DATA)
CLOSE2(on_upstream_connection_close, UPSTREAM_CLOSE)
/* HTTP */
STREAM3(on_request_headers, REQUEST_HEADERS)
STREAM3(on_request_body, REQUEST_BODY)
STREAM2(on_request_trailers, REQUEST_TRAILERS)
STREAM3(on_response_headers, RESPONSE_HEADERS)
STREAM3(on_response_body, RESPONSE_BODY)
STREAM2(on_response_trailers, RESPONSE_TRAILERS)
/* Callouts, gRPC and foreign functions */
VOID5(on_http_call_response)
VOID3(on_grpc_receive_initial_metadata)
VOID3(on_grpc_receive)
VOID3(on_grpc_receive_trailing_metadata)
VOID3(on_grpc_close)
VOID3(on_foreign_function)
