/* The built-in module `_proxywasm`: one Python function per env.proxy_* host call.
 *
 * Functions are METH_FASTCALL and convert arguments by hand, since host calls sit on the
 * per-request path. A failing status raises the exception built by the factory the SDK
 * installs (`set_error_factory`); NOT_FOUND (and EMPTY for queues) return None instead.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_abi.h"
#include "pywasm.h"

static PyObject *error_factory = NULL;

/* Raise the SDK's exception for a failed host call; always returns NULL. */
static PyObject *raise_status(proxy_status_t status, const char *function) {
    if (error_factory == NULL) {
        return PyErr_Format(PyExc_RuntimeError, "%s failed with status %d", function, status);
    }
    PyObject *exc = PyObject_CallFunction(error_factory, "is", (int)status, function);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

#define CHECK(status, function)                                                             \
    do {                                                                                    \
        proxy_status_t s_ = (status);                                                       \
        if (s_ != PROXY_OK) return raise_status(s_, function);                              \
    } while (0)

static int check_nargs(Py_ssize_t nargs, Py_ssize_t expected, const char *function) {
    if (nargs == expected) return 0;
    PyErr_Format(PyExc_TypeError, "_proxywasm.%s() takes %zd arguments (%zd given)", function,
                 expected, nargs);
    return -1;
}

static int arg_u32(PyObject *arg, uint32_t *out) {
    unsigned long value = PyLong_AsUnsignedLong(arg);
    if (value == (unsigned long)-1 && PyErr_Occurred()) return -1;
    *out = (uint32_t)value;
    return 0;
}

static int arg_i64(PyObject *arg, int64_t *out) {
    long long value = PyLong_AsLongLong(arg);
    if (value == -1 && PyErr_Occurred()) return -1;
    *out = (int64_t)value;
    return 0;
}

/* Encodings made for str arguments that UTF-8 cannot hold as they are (lone surrogates:
 * header bytes that were not UTF-8, decoded with surrogateescape). Each lives until the host
 * call that made it returns: FASTCALL releases those above the mark it took on entry, so a
 * host call made by Python code run during argument conversion cannot free an outer one's. */
static PyObject **temps = NULL;
static Py_ssize_t temps_count = 0, temps_capacity = 0;

static int keep_temp(PyObject *object) {
    if (temps_count == temps_capacity) {
        Py_ssize_t capacity = temps_capacity ? 2 * temps_capacity : 8;
        PyObject **grown = PyMem_Realloc(temps, sizeof(PyObject *) * (size_t)capacity);
        if (grown == NULL) {
            Py_DECREF(object);
            PyErr_NoMemory();
            return -1;
        }
        temps = grown;
        temps_capacity = capacity;
    }
    temps[temps_count++] = object;
    return 0;
}

static void release_temps(Py_ssize_t mark) {
    while (temps_count > mark) Py_DECREF(temps[--temps_count]);
}

/* Borrow the bytes of an encoding kept until the host call returns (NULL: error set). */
static int borrow_kept(PyObject *encoded, const char **data, Py_ssize_t *size) {
    if (encoded == NULL || keep_temp(encoded) < 0) return -1;
    *data = PyBytes_AS_STRING(encoded);
    *size = PyBytes_GET_SIZE(encoded);
    return 0;
}

/* The slow path of a str argument whose UTF-8 form failed: the original bytes of
 * surrogate-escaped text (any other lone surrogate keeps its UnicodeEncodeError). */
__attribute__((noinline, cold)) static int arg_escaped(PyObject *arg, const char **data,
                                                      Py_ssize_t *size) {
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
    PyErr_Clear();
    return borrow_kept(PyUnicode_AsEncodedString(arg, "utf-8", "surrogateescape"), data, size);
}

/* Borrow the bytes of a str (as UTF-8, surrogate escapes as their bytes) or a bytes object. */
static int arg_data(PyObject *arg, const char **data, Py_ssize_t *size) {
    if (PyUnicode_Check(arg)) {
        if (PyUnicode_IS_COMPACT_ASCII(arg)) { /* its characters are its UTF-8 */
            *data = (const char *)PyUnicode_DATA(arg);
            *size = PyUnicode_GET_LENGTH(arg);
            return 0;
        }
        *data = PyUnicode_AsUTF8AndSize(arg, size);
        return *data == NULL ? arg_escaped(arg, data, size) : 0;
    }
    if (PyBytes_Check(arg)) {
        *data = PyBytes_AS_STRING(arg);
        *size = PyBytes_GET_SIZE(arg);
        return 0;
    }
    if (arg == Py_None) {
        *data = NULL;
        *size = 0;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "expected str or bytes, got %.100s", Py_TYPE(arg)->tp_name);
    return -1;
}

/* Turn a host-allocated buffer into bytes, freeing it. */
static PyObject *take_bytes(char *data, size_t size) {
    PyObject *result = PyBytes_FromStringAndSize(size ? data : "", (Py_ssize_t)size);
    free(data);
    return result;
}

static PyObject *take_str(char *data, size_t size) {
    PyObject *result = PyUnicode_DecodeUTF8(size ? data : "", (Py_ssize_t)size, "surrogateescape");
    free(data);
    return result;
}

/* Serialize a sequence of (name, value) pairs in the ABI's header map format. */
static int serialize_pairs(PyObject *pairs, char **out, size_t *out_size) {
    PyObject *seq = PySequence_Fast(pairs, "headers must be a sequence of (name, value) pairs");
    if (seq == NULL) return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    const char **datas = PyMem_Malloc(sizeof(char *) * 2 * (count ? count : 1));
    Py_ssize_t *sizes = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (count ? count : 1));
    size_t total = 4 + (size_t)count * 8;
    int rc = -1;
    if (datas == NULL || sizes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = items[i];
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "each header must be a (name, value) tuple");
            goto done;
        }
        for (int j = 0; j < 2; j++) {
            if (arg_data(PyTuple_GET_ITEM(pair, j), &datas[2 * i + j], &sizes[2 * i + j]) < 0)
                goto done;
            total += (size_t)sizes[2 * i + j] + 1;
        }
    }
    char *buffer = malloc(total);
    if (buffer == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    uint32_t header = (uint32_t)count;
    memcpy(buffer, &header, 4);
    char *sizes_at = buffer + 4;
    char *data_at = sizes_at + (size_t)count * 8;
    for (Py_ssize_t k = 0; k < 2 * count; k++) {
        uint32_t size = (uint32_t)sizes[k];
        memcpy(sizes_at + 4 * k, &size, 4);
        if (size) memcpy(data_at, datas[k], size);
        data_at[size] = '\0';
        data_at += size + 1;
    }
    *out = buffer;
    *out_size = total;
    rc = 0;
done:
    PyMem_Free(datas);
    PyMem_Free(sizes);
    Py_DECREF(seq);
    return rc;
}

/* Parse a header map from the host into a list of (str, str|bytes) tuples; frees data. */
static PyObject *parse_pairs(char *data, size_t size, int values_as_bytes) {
    uint32_t count = 0;
    if (size >= 4) memcpy(&count, data, 4);
    if ((size_t)count * 8 + 4 > size && count != 0) {
        free(data);
        return PyErr_Format(PyExc_ValueError, "malformed header map from the host");
    }
    PyObject *list = PyList_New(count);
    if (list == NULL) {
        free(data);
        return NULL;
    }
    const char *sizes_at = data + 4;
    const char *data_at = sizes_at + (size_t)count * 8;
    const char *end = data + size;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t key_size, value_size;
        memcpy(&key_size, sizes_at + 8 * i, 4);
        memcpy(&value_size, sizes_at + 8 * i + 4, 4);
        if (data_at + key_size + value_size + 2 > end) {
            Py_DECREF(list);
            free(data);
            return PyErr_Format(PyExc_ValueError, "malformed header map from the host");
        }
        PyObject *key = PyUnicode_DecodeUTF8(data_at, key_size, "surrogateescape");
        data_at += key_size + 1;
        PyObject *value = values_as_bytes
                              ? PyBytes_FromStringAndSize(data_at, value_size)
                              : PyUnicode_DecodeUTF8(data_at, value_size, "surrogateescape");
        data_at += value_size + 1;
        PyObject *pair = (key && value) ? PyTuple_Pack(2, key, value) : NULL;
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (pair == NULL) {
            Py_DECREF(list);
            free(data);
            return NULL;
        }
        PyList_SET_ITEM(list, i, pair);
    }
    free(data);
    return list;
}

/* Join a property path (sequence of str) with NUL separators, as the ABI wants. */
static PyObject *join_path(PyObject *path) {
    PyObject *separator = PyUnicode_FromStringAndSize("\0", 1);
    if (separator == NULL) return NULL;
    PyObject *joined = PyUnicode_Join(separator, path);
    Py_DECREF(separator);
    return joined;
}

/* A host call: its body, then the release of the encodings it kept (see keep_temp). */
#define FASTCALL(name)                                                                      \
    static inline __attribute__((always_inline)) PyObject *body_##name(PyObject *const *args,  \
                                                                       Py_ssize_t nargs);       \
    static PyObject *hc_##name(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {   \
        Py_ssize_t mark = temps_count;                                                      \
        (void)self;                                                                         \
        PyObject *result = body_##name(args, nargs);                                        \
        if (temps_count > mark) release_temps(mark);                                        \
        return result;                                                                      \
    }                                                                                       \
    static PyObject *body_##name(PyObject *const *args, Py_ssize_t nargs)

FASTCALL(set_error_factory) {
    if (check_nargs(nargs, 1, "set_error_factory") < 0) return NULL;
    Py_XSETREF(error_factory, Py_NewRef(args[0]));
    Py_RETURN_NONE;
}

/* The slow path of a log message that UTF-8 cannot hold as it is: bytes that were not UTF-8
 * (surrogate escapes) shown as \xNN, any other lone surrogate as \uNNNN. */
__attribute__((noinline, cold)) static int log_escaped(PyObject *arg, const char **data,
                                                      Py_ssize_t *size) {
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
    PyErr_Clear();
    PyObject *raw = PyUnicode_AsEncodedString(arg, "utf-8", "surrogateescape");
    if (raw == NULL) {
        PyErr_Clear();
        return borrow_kept(PyUnicode_AsEncodedString(arg, "utf-8", "backslashreplace"), data,
                           size);
    }
    PyObject *text = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw),
                                          "backslashreplace");
    Py_DECREF(raw);
    if (text == NULL) return -1;
    PyObject *escaped = PyUnicode_AsUTF8String(text);
    Py_DECREF(text);
    return borrow_kept(escaped, data, size);
}

/* Borrow a log message's bytes; text never fails to log (see log_escaped). */
static int arg_log_text(PyObject *arg, const char **data, Py_ssize_t *size) {
    if (!PyUnicode_Check(arg)) return arg_data(arg, data, size);
    *data = PyUnicode_AsUTF8AndSize(arg, size);
    return *data == NULL ? log_escaped(arg, data, size) : 0;
}

FASTCALL(log) {
    uint32_t level;
    const char *message;
    Py_ssize_t size;
    if (check_nargs(nargs, 2, "log") < 0 || arg_u32(args[0], &level) < 0 ||
        arg_log_text(args[1], &message, &size) < 0)
        return NULL;
    CHECK(proxy_log(level, message, (size_t)size), "proxy_log");
    Py_RETURN_NONE;
}

FASTCALL(get_log_level) {
    uint32_t level = 0;
    if (check_nargs(nargs, 0, "get_log_level") < 0) return NULL;
    CHECK(proxy_get_log_level(&level), "proxy_get_log_level");
    return PyLong_FromUnsignedLong(level);
}

FASTCALL(get_current_time_nanoseconds) {
    uint64_t nanos = 0;
    if (check_nargs(nargs, 0, "get_current_time_nanoseconds") < 0) return NULL;
    CHECK(proxy_get_current_time_nanoseconds(&nanos), "proxy_get_current_time_nanoseconds");
    return PyLong_FromUnsignedLongLong(nanos);
}

/* Host calls that take one u32 and return nothing. */
#define U32_CALL(name, host)                                                                \
    FASTCALL(name) {                                                                        \
        uint32_t value;                                                                     \
        if (check_nargs(nargs, 1, #name) < 0 || arg_u32(args[0], &value) < 0) return NULL; \
        CHECK(host(value), #host);                                                          \
        Py_RETURN_NONE;                                                                     \
    }

U32_CALL(set_tick_period_milliseconds, proxy_set_tick_period_milliseconds)
U32_CALL(set_effective_context, proxy_set_effective_context)
U32_CALL(continue_stream, proxy_continue_stream)
U32_CALL(close_stream, proxy_close_stream)
U32_CALL(grpc_cancel, proxy_grpc_cancel)
U32_CALL(grpc_close, proxy_grpc_close)

/* Not a host call: tells the runtime which callbacks a context inherits (callbacks.c). */
FASTCALL(set_inherited_callbacks) {
    uint32_t context_id, inherited;
    if (check_nargs(nargs, 2, "set_inherited_callbacks") < 0 || arg_u32(args[0], &context_id) < 0 ||
        arg_u32(args[1], &inherited) < 0)
        return NULL;
    pywasm_set_inherited(context_id, inherited);
    Py_RETURN_NONE;
}

FASTCALL(done) {
    if (check_nargs(nargs, 0, "done") < 0) return NULL;
    CHECK(proxy_done(), "proxy_done");
    Py_RETURN_NONE;
}

FASTCALL(get_buffer_bytes) {
    uint32_t type, start, max_size;
    char *data = NULL;
    size_t size = 0;
    if (check_nargs(nargs, 3, "get_buffer_bytes") < 0 || arg_u32(args[0], &type) < 0 ||
        arg_u32(args[1], &start) < 0 || arg_u32(args[2], &max_size) < 0)
        return NULL;
    proxy_status_t status = proxy_get_buffer_bytes(type, start, max_size, &data, &size);
    if (status == PROXY_NOT_FOUND) Py_RETURN_NONE;
    CHECK(status, "proxy_get_buffer_bytes");
    return take_bytes(data, size);
}

FASTCALL(set_buffer_bytes) {
    uint32_t type, start, size;
    const char *data;
    Py_ssize_t data_size;
    if (check_nargs(nargs, 4, "set_buffer_bytes") < 0 || arg_u32(args[0], &type) < 0 ||
        arg_u32(args[1], &start) < 0 || arg_u32(args[2], &size) < 0 ||
        arg_data(args[3], &data, &data_size) < 0)
        return NULL;
    CHECK(proxy_set_buffer_bytes(type, start, size, data, (size_t)data_size),
          "proxy_set_buffer_bytes");
    Py_RETURN_NONE;
}

FASTCALL(get_buffer_status) {
    uint32_t type, flags = 0;
    size_t size = 0;
    if (check_nargs(nargs, 1, "get_buffer_status") < 0 || arg_u32(args[0], &type) < 0)
        return NULL;
    CHECK(proxy_get_buffer_status(type, &size, &flags), "proxy_get_buffer_status");
    return Py_BuildValue("(nI)", (Py_ssize_t)size, flags);
}

FASTCALL(get_header_map_size) {
    uint32_t type;
    size_t size = 0;
    if (check_nargs(nargs, 1, "get_header_map_size") < 0 || arg_u32(args[0], &type) < 0)
        return NULL;
    CHECK(proxy_get_header_map_size(type, &size), "proxy_get_header_map_size");
    return PyLong_FromSize_t(size);
}

static PyObject *get_pairs(PyObject *const *args, Py_ssize_t nargs, int as_bytes) {
    uint32_t type;
    char *data = NULL;
    size_t size = 0;
    if (check_nargs(nargs, 1, "get_header_map_pairs") < 0 || arg_u32(args[0], &type) < 0)
        return NULL;
    CHECK(proxy_get_header_map_pairs(type, &data, &size), "proxy_get_header_map_pairs");
    return parse_pairs(data, size, as_bytes);
}

FASTCALL(get_header_map_pairs) { return get_pairs(args, nargs, 0); }
FASTCALL(get_header_map_pairs_bytes) { return get_pairs(args, nargs, 1); }

FASTCALL(set_header_map_pairs) {
    uint32_t type;
    char *data;
    size_t size;
    if (check_nargs(nargs, 2, "set_header_map_pairs") < 0 || arg_u32(args[0], &type) < 0 ||
        serialize_pairs(args[1], &data, &size) < 0)
        return NULL;
    proxy_status_t status = proxy_set_header_map_pairs(type, data, size);
    free(data);
    CHECK(status, "proxy_set_header_map_pairs");
    Py_RETURN_NONE;
}

static PyObject *get_value(PyObject *const *args, Py_ssize_t nargs, int as_bytes) {
    uint32_t type;
    const char *key;
    Py_ssize_t key_size;
    char *value = NULL;
    size_t value_size = 0;
    if (check_nargs(nargs, 2, "get_header_map_value") < 0 || arg_u32(args[0], &type) < 0 ||
        arg_data(args[1], &key, &key_size) < 0)
        return NULL;
    proxy_status_t status =
        proxy_get_header_map_value(type, key, (size_t)key_size, &value, &value_size);
    if (status == PROXY_NOT_FOUND) Py_RETURN_NONE;
    CHECK(status, "proxy_get_header_map_value");
    return as_bytes ? take_bytes(value, value_size) : take_str(value, value_size);
}

FASTCALL(get_header_map_value) { return get_value(args, nargs, 0); }
FASTCALL(get_header_map_value_bytes) { return get_value(args, nargs, 1); }

/* add/replace share a shape: (map_type, key, value). */
#define MAP_VALUE_CALL(name, host)                                                          \
    FASTCALL(name) {                                                                        \
        uint32_t type;                                                                      \
        const char *key, *value;                                                            \
        Py_ssize_t key_size, value_size;                                                    \
        if (check_nargs(nargs, 3, #name) < 0 || arg_u32(args[0], &type) < 0 ||              \
            arg_data(args[1], &key, &key_size) < 0 ||                                       \
            arg_data(args[2], &value, &value_size) < 0)                                     \
            return NULL;                                                                    \
        CHECK(host(type, key, (size_t)key_size, value, (size_t)value_size), #host);         \
        Py_RETURN_NONE;                                                                     \
    }

MAP_VALUE_CALL(add_header_map_value, proxy_add_header_map_value)
MAP_VALUE_CALL(replace_header_map_value, proxy_replace_header_map_value)

FASTCALL(remove_header_map_value) {
    uint32_t type;
    const char *key;
    Py_ssize_t key_size;
    if (check_nargs(nargs, 2, "remove_header_map_value") < 0 || arg_u32(args[0], &type) < 0 ||
        arg_data(args[1], &key, &key_size) < 0)
        return NULL;
    CHECK(proxy_remove_header_map_value(type, key, (size_t)key_size),
          "proxy_remove_header_map_value");
    Py_RETURN_NONE;
}

/* replace_header_map_value, or remove_header_map_value when the value is None: the SDK's
 * set_http_*_header methods are this function itself (no Python frame of their own). */
FASTCALL(set_header_map_value) {
    if (nargs == 3 && args[2] == Py_None) return body_remove_header_map_value(args, 2);
    return body_replace_header_map_value(args, nargs);
}

/* The header-value functions that the SDK's context methods are (`hostcalls._HOST_TWINS`)
 * also take their arguments by name, as the Python functions they stand for do. */
static const char *const header_parameters[] = {"map_type", "name", "value"};

static PyObject *with_keywords(PyObject *(*call)(PyObject *, PyObject *const *, Py_ssize_t),
                               PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                               Py_ssize_t count, const char *function) {
    if (kwnames == NULL) return call(NULL, args, nargs);
    PyObject *all[3] = {NULL, NULL, NULL};
    if (nargs > count && check_nargs(nargs, count, function) < 0) return NULL;
    for (Py_ssize_t i = 0; i < nargs; i++) all[i] = args[i];
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kwnames); k++) {
        PyObject *keyword = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t i = 0;
        while (i < count && PyUnicode_CompareWithASCIIString(keyword, header_parameters[i]) != 0)
            i++;
        if (i == count || all[i] != NULL)
            return PyErr_Format(PyExc_TypeError, "%s() got an unexpected or repeated argument %R",
                                function, keyword);
        all[i] = args[nargs + k];
    }
    for (Py_ssize_t i = 0; i < count; i++)
        if (all[i] == NULL)
            return PyErr_Format(PyExc_TypeError, "%s() missing argument '%s'", function,
                                header_parameters[i]);
    return call(NULL, all, count);
}

#define KEYWORDS(name, count)                                                               \
    static PyObject *kw_##name(PyObject *self, PyObject *const *args, Py_ssize_t nargs,     \
                               PyObject *kwnames) {                                         \
        (void)self;                                                                         \
        return with_keywords(hc_##name, args, nargs, kwnames, count, #name);                \
    }

KEYWORDS(get_header_map_value, 2)
KEYWORDS(get_header_map_value_bytes, 2)
KEYWORDS(add_header_map_value, 3)
KEYWORDS(set_header_map_value, 3)
KEYWORDS(remove_header_map_value, 2)

/* A context method that is one of the functions above with its map bound, as the class `owner`
 * holds it inside a proxy (`hostcalls._HostMethod`). Read from a class or a context it is that
 * bound function (`MethodType(function, first)`, what the class held before). It is a method
 * descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR), so `self.get_http_request_header(name)` never
 * makes that object: CPython's LOAD_METHOD specializes on it and passes the context first,
 * which the call replaces by the map. As that flag requires, a call whose first argument is
 * not an instance of `owner` (read from the class: `HttpContext.get_http_request_header(name)`)
 * is the bound function's call. */
typedef struct {
    PyObject_HEAD
    PyObject *function; /* one of this module's METH_FASTCALL | METH_KEYWORDS functions */
    PyObject *first;
    PyTypeObject *owner;
    PyTypeObject *seen; /* the last class found to be `owner` or its subclass, or NULL */
    vectorcallfunc vectorcall;
} context_method_t;

static PyObject *context_method_get(PyObject *self, PyObject *instance, PyObject *owner) {
    (void)instance;
    (void)owner;
    context_method_t *method = (context_method_t *)self;
    return PyMethod_New(method->function, method->first);
}

/* With a context first (LOAD_METHOD): the function on (first, the other arguments). */
static PyObject *context_method_call(PyObject *self, PyObject *const *args, size_t nargsf,
                                     PyObject *kwnames) {
    context_method_t *method = (context_method_t *)self;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Py_ssize_t total = nargs + (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
    int on_context = nargs > 0 && (Py_IS_TYPE(args[0], method->seen) ||
                                   PyObject_TypeCheck(args[0], method->owner));
    if (on_context && !Py_IS_TYPE(args[0], method->seen))
        Py_XSETREF(method->seen, (PyTypeObject *)Py_NewRef(Py_TYPE(args[0])));
    if (!on_context || total > 4) {
        /* Read from the class, or too many arguments: as the bound function would do. */
        PyObject *bound = context_method_get(self, NULL, NULL);
        if (bound == NULL) return NULL;
        Py_ssize_t skip = on_context;
        PyObject *result = PyObject_Vectorcall(bound, args + skip, nargs - skip, kwnames);
        Py_DECREF(bound);
        return result;
    }
    PyObject *all[4] = {method->first, NULL, NULL, NULL};
    for (Py_ssize_t i = 1; i < total; i++) all[i] = args[i];
    _PyCFunctionFastWithKeywords call =
        (_PyCFunctionFastWithKeywords)(void (*)(void))PyCFunction_GET_FUNCTION(method->function);
    return call(PyCFunction_GET_SELF(method->function), all, nargs, kwnames);
}

static void context_method_dealloc(PyObject *self) {
    context_method_t *method = (context_method_t *)self;
    Py_XDECREF(method->function);
    Py_XDECREF(method->first);
    Py_XDECREF(method->owner);
    Py_XDECREF(method->seen);
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject context_method_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_proxywasm.context_method",
    .tp_basicsize = sizeof(context_method_t),
    .tp_dealloc = context_method_dealloc,
    .tp_vectorcall_offset = offsetof(context_method_t, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "A context method: a _proxywasm header function with its map bound.",
    .tp_descr_get = context_method_get,
};

FASTCALL(context_method) {
    if (check_nargs(nargs, 3, "context_method") < 0) return NULL;
    if (!PyCFunction_Check(args[0]) ||
        PyCFunction_GET_FLAGS(args[0]) != (METH_FASTCALL | METH_KEYWORDS) || !PyType_Check(args[2]))
        return PyErr_Format(PyExc_TypeError,
                            "context_method() takes one of _proxywasm's header-value "
                            "functions, its first argument and a class, got %R, %R", args[0],
                            args[2]);
    context_method_t *method = PyObject_New(context_method_t, &context_method_type);
    if (method == NULL) return NULL;
    method->function = Py_NewRef(args[0]);
    method->first = Py_NewRef(args[1]);
    method->owner = (PyTypeObject *)Py_NewRef(args[2]);
    method->seen = NULL;
    method->vectorcall = context_method_call;
    return (PyObject *)method;
}

FASTCALL(get_status) {
    uint32_t code = 0;
    char *message = NULL;
    size_t size = 0;
    if (check_nargs(nargs, 0, "get_status") < 0) return NULL;
    CHECK(proxy_get_status(&code, &message, &size), "proxy_get_status");
    PyObject *text = take_bytes(message, size);
    if (text == NULL) return NULL;
    return Py_BuildValue("(IN)", code, text);
}

FASTCALL(send_local_response) {
    uint32_t status_code, grpc_status;
    const char *details, *body;
    Py_ssize_t details_size, body_size;
    char *headers;
    size_t headers_size;
    if (check_nargs(nargs, 5, "send_local_response") < 0 || arg_u32(args[0], &status_code) < 0 ||
        arg_data(args[1], &details, &details_size) < 0 ||
        arg_data(args[2], &body, &body_size) < 0)
        return NULL;
    long grpc = PyLong_AsLong(args[4]);
    if (grpc == -1 && PyErr_Occurred()) return NULL;
    grpc_status = (uint32_t)grpc;
    if (serialize_pairs(args[3], &headers, &headers_size) < 0) return NULL;
    proxy_status_t status =
        proxy_send_local_response(status_code, details, (size_t)details_size, body,
                                  (size_t)body_size, headers, headers_size, (int32_t)grpc_status);
    free(headers);
    CHECK(status, "proxy_send_local_response");
    Py_RETURN_NONE;
}

FASTCALL(http_call) {
    const char *upstream, *body;
    Py_ssize_t upstream_size, body_size;
    uint32_t timeout, token = 0;
    char *headers = NULL, *trailers = NULL;
    size_t headers_size, trailers_size;
    if (check_nargs(nargs, 5, "http_call") < 0 || arg_data(args[0], &upstream, &upstream_size) < 0 ||
        arg_data(args[2], &body, &body_size) < 0 || arg_u32(args[4], &timeout) < 0 ||
        serialize_pairs(args[1], &headers, &headers_size) < 0)
        return NULL;
    if (serialize_pairs(args[3], &trailers, &trailers_size) < 0) {
        free(headers);
        return NULL;
    }
    proxy_status_t status =
        proxy_http_call(upstream, (size_t)upstream_size, headers, headers_size, body,
                        (size_t)body_size, trailers, trailers_size, timeout, &token);
    free(headers);
    free(trailers);
    CHECK(status, "proxy_http_call");
    return PyLong_FromUnsignedLong(token);
}

/* Shared argument parsing of grpc_call and grpc_stream: upstream, service, method, metadata. */
typedef struct {
    const char *upstream, *service, *method;
    Py_ssize_t upstream_size, service_size, method_size;
    char *metadata;
    size_t metadata_size;
} grpc_target;

static int parse_grpc_target(PyObject *const *args, grpc_target *target) {
    if (arg_data(args[0], &target->upstream, &target->upstream_size) < 0 ||
        arg_data(args[1], &target->service, &target->service_size) < 0 ||
        arg_data(args[2], &target->method, &target->method_size) < 0)
        return -1;
    return serialize_pairs(args[3], &target->metadata, &target->metadata_size);
}

FASTCALL(grpc_call) {
    grpc_target t;
    const char *message;
    Py_ssize_t message_size;
    uint32_t timeout, token = 0;
    if (check_nargs(nargs, 6, "grpc_call") < 0 || arg_data(args[4], &message, &message_size) < 0 ||
        arg_u32(args[5], &timeout) < 0 || parse_grpc_target(args, &t) < 0)
        return NULL;
    proxy_status_t status = proxy_grpc_call(
        t.upstream, (size_t)t.upstream_size, t.service, (size_t)t.service_size, t.method,
        (size_t)t.method_size, t.metadata, t.metadata_size, message, (size_t)message_size,
        timeout, &token);
    free(t.metadata);
    CHECK(status, "proxy_grpc_call");
    return PyLong_FromUnsignedLong(token);
}

FASTCALL(grpc_stream) {
    grpc_target t;
    uint32_t token = 0;
    if (check_nargs(nargs, 4, "grpc_stream") < 0 || parse_grpc_target(args, &t) < 0) return NULL;
    proxy_status_t status =
        proxy_grpc_stream(t.upstream, (size_t)t.upstream_size, t.service, (size_t)t.service_size,
                          t.method, (size_t)t.method_size, t.metadata, t.metadata_size, &token);
    free(t.metadata);
    CHECK(status, "proxy_grpc_stream");
    return PyLong_FromUnsignedLong(token);
}

FASTCALL(grpc_send) {
    uint32_t token;
    const char *message;
    Py_ssize_t size;
    if (check_nargs(nargs, 3, "grpc_send") < 0 || arg_u32(args[0], &token) < 0 ||
        arg_data(args[1], &message, &size) < 0)
        return NULL;
    int end_stream = PyObject_IsTrue(args[2]);
    if (end_stream < 0) return NULL;
    CHECK(proxy_grpc_send(token, message, (size_t)size, (uint32_t)end_stream), "proxy_grpc_send");
    Py_RETURN_NONE;
}

FASTCALL(get_shared_data) {
    const char *key;
    Py_ssize_t key_size;
    char *value = NULL;
    size_t value_size = 0;
    uint32_t cas = 0;
    if (check_nargs(nargs, 1, "get_shared_data") < 0 || arg_data(args[0], &key, &key_size) < 0)
        return NULL;
    proxy_status_t status = proxy_get_shared_data(key, (size_t)key_size, &value, &value_size, &cas);
    if (status == PROXY_NOT_FOUND) return Py_BuildValue("(OI)", Py_None, 0u);
    CHECK(status, "proxy_get_shared_data");
    PyObject *data = take_bytes(value, value_size);
    if (data == NULL) return NULL;
    return Py_BuildValue("(NI)", data, cas);
}

FASTCALL(set_shared_data) {
    const char *key, *value;
    Py_ssize_t key_size, value_size;
    uint32_t cas;
    if (check_nargs(nargs, 3, "set_shared_data") < 0 || arg_data(args[0], &key, &key_size) < 0 ||
        arg_data(args[1], &value, &value_size) < 0 || arg_u32(args[2], &cas) < 0)
        return NULL;
    CHECK(proxy_set_shared_data(key, (size_t)key_size, value, (size_t)value_size, cas),
          "proxy_set_shared_data");
    Py_RETURN_NONE;
}

FASTCALL(register_shared_queue) {
    const char *name;
    Py_ssize_t size;
    uint32_t id = 0;
    if (check_nargs(nargs, 1, "register_shared_queue") < 0 || arg_data(args[0], &name, &size) < 0)
        return NULL;
    CHECK(proxy_register_shared_queue(name, (size_t)size, &id), "proxy_register_shared_queue");
    return PyLong_FromUnsignedLong(id);
}

FASTCALL(resolve_shared_queue) {
    const char *vm_id, *name;
    Py_ssize_t vm_id_size, name_size;
    uint32_t id = 0;
    if (check_nargs(nargs, 2, "resolve_shared_queue") < 0 ||
        arg_data(args[0], &vm_id, &vm_id_size) < 0 || arg_data(args[1], &name, &name_size) < 0)
        return NULL;
    proxy_status_t status =
        proxy_resolve_shared_queue(vm_id, (size_t)vm_id_size, name, (size_t)name_size, &id);
    if (status == PROXY_NOT_FOUND) Py_RETURN_NONE;
    CHECK(status, "proxy_resolve_shared_queue");
    return PyLong_FromUnsignedLong(id);
}

FASTCALL(enqueue_shared_queue) {
    uint32_t id;
    const char *value;
    Py_ssize_t size;
    if (check_nargs(nargs, 2, "enqueue_shared_queue") < 0 || arg_u32(args[0], &id) < 0 ||
        arg_data(args[1], &value, &size) < 0)
        return NULL;
    CHECK(proxy_enqueue_shared_queue(id, value, (size_t)size), "proxy_enqueue_shared_queue");
    Py_RETURN_NONE;
}

FASTCALL(dequeue_shared_queue) {
    uint32_t id;
    char *value = NULL;
    size_t size = 0;
    if (check_nargs(nargs, 1, "dequeue_shared_queue") < 0 || arg_u32(args[0], &id) < 0)
        return NULL;
    proxy_status_t status = proxy_dequeue_shared_queue(id, &value, &size);
    if (status == PROXY_EMPTY) Py_RETURN_NONE;
    CHECK(status, "proxy_dequeue_shared_queue");
    return take_bytes(value, size);
}

FASTCALL(define_metric) {
    uint32_t type, id = 0;
    const char *name;
    Py_ssize_t size;
    if (check_nargs(nargs, 2, "define_metric") < 0 || arg_u32(args[0], &type) < 0 ||
        arg_data(args[1], &name, &size) < 0)
        return NULL;
    CHECK(proxy_define_metric(type, name, (size_t)size, &id), "proxy_define_metric");
    return PyLong_FromUnsignedLong(id);
}

FASTCALL(record_metric) {
    uint32_t id;
    int64_t value;
    if (check_nargs(nargs, 2, "record_metric") < 0 || arg_u32(args[0], &id) < 0 ||
        arg_i64(args[1], &value) < 0)
        return NULL;
    CHECK(proxy_record_metric(id, (uint64_t)value), "proxy_record_metric");
    Py_RETURN_NONE;
}

FASTCALL(increment_metric) {
    uint32_t id;
    int64_t delta;
    if (check_nargs(nargs, 2, "increment_metric") < 0 || arg_u32(args[0], &id) < 0 ||
        arg_i64(args[1], &delta) < 0)
        return NULL;
    CHECK(proxy_increment_metric(id, delta), "proxy_increment_metric");
    Py_RETURN_NONE;
}

FASTCALL(get_metric) {
    uint32_t id;
    uint64_t value = 0;
    if (check_nargs(nargs, 1, "get_metric") < 0 || arg_u32(args[0], &id) < 0) return NULL;
    CHECK(proxy_get_metric(id, &value), "proxy_get_metric");
    return PyLong_FromUnsignedLongLong(value);
}

FASTCALL(get_property) {
    if (check_nargs(nargs, 1, "get_property") < 0) return NULL;
    PyObject *path = join_path(args[0]);
    if (path == NULL) return NULL;
    Py_ssize_t path_size;
    const char *path_data;
    if (arg_data(path, &path_data, &path_size) < 0) path_data = NULL;
    char *value = NULL;
    size_t value_size = 0;
    proxy_status_t status = path_data == NULL
                                ? PROXY_OK
                                : proxy_get_property(path_data, (size_t)path_size, &value,
                                                     &value_size);
    Py_DECREF(path);
    if (path_data == NULL) return NULL;
    if (status == PROXY_NOT_FOUND) Py_RETURN_NONE;
    CHECK(status, "proxy_get_property");
    return take_bytes(value, value_size);
}

FASTCALL(set_property) {
    const char *value;
    Py_ssize_t value_size;
    if (check_nargs(nargs, 2, "set_property") < 0 || arg_data(args[1], &value, &value_size) < 0)
        return NULL;
    PyObject *path = join_path(args[0]);
    if (path == NULL) return NULL;
    Py_ssize_t path_size;
    const char *path_data;
    if (arg_data(path, &path_data, &path_size) < 0) path_data = NULL;
    proxy_status_t status = path_data == NULL
                                ? PROXY_OK
                                : proxy_set_property(path_data, (size_t)path_size, value,
                                                     (size_t)value_size);
    Py_DECREF(path);
    if (path_data == NULL) return NULL;
    CHECK(status, "proxy_set_property");
    Py_RETURN_NONE;
}

FASTCALL(call_foreign_function) {
    const char *name, *arguments;
    Py_ssize_t name_size, arguments_size;
    char *results = NULL;
    size_t results_size = 0;
    if (check_nargs(nargs, 2, "call_foreign_function") < 0 ||
        arg_data(args[0], &name, &name_size) < 0 ||
        arg_data(args[1], &arguments, &arguments_size) < 0)
        return NULL;
    proxy_status_t status =
        proxy_call_foreign_function(name, (size_t)name_size, arguments, (size_t)arguments_size,
                                    &results, &results_size);
    if (status == PROXY_NOT_FOUND) Py_RETURN_NONE;
    CHECK(status, "proxy_call_foreign_function");
    if (results == NULL) Py_RETURN_NONE;
    return take_bytes(results, results_size);
}

#define ENTRY(name) {#name, (PyCFunction)(void (*)(void))hc_##name, METH_FASTCALL, NULL}
#define KEYWORD_ENTRY(name)                                                                 \
    {#name, (PyCFunction)(void (*)(void))kw_##name, METH_FASTCALL | METH_KEYWORDS, NULL}

static PyMethodDef hostcall_methods[] = {
    ENTRY(set_error_factory),
    ENTRY(log),
    ENTRY(get_log_level),
    ENTRY(get_current_time_nanoseconds),
    ENTRY(set_tick_period_milliseconds),
    ENTRY(done),
    ENTRY(set_inherited_callbacks),
    ENTRY(set_effective_context),
    ENTRY(get_buffer_bytes),
    ENTRY(set_buffer_bytes),
    ENTRY(get_buffer_status),
    ENTRY(get_header_map_size),
    ENTRY(get_header_map_pairs),
    ENTRY(get_header_map_pairs_bytes),
    ENTRY(set_header_map_pairs),
    KEYWORD_ENTRY(get_header_map_value),
    KEYWORD_ENTRY(get_header_map_value_bytes),
    KEYWORD_ENTRY(add_header_map_value),
    ENTRY(replace_header_map_value),
    KEYWORD_ENTRY(set_header_map_value),
    KEYWORD_ENTRY(remove_header_map_value),
    ENTRY(context_method),
    ENTRY(continue_stream),
    ENTRY(close_stream),
    ENTRY(get_status),
    ENTRY(send_local_response),
    ENTRY(http_call),
    ENTRY(grpc_call),
    ENTRY(grpc_stream),
    ENTRY(grpc_send),
    ENTRY(grpc_cancel),
    ENTRY(grpc_close),
    ENTRY(get_shared_data),
    ENTRY(set_shared_data),
    ENTRY(register_shared_queue),
    ENTRY(resolve_shared_queue),
    ENTRY(enqueue_shared_queue),
    ENTRY(dequeue_shared_queue),
    ENTRY(define_metric),
    ENTRY(record_metric),
    ENTRY(increment_metric),
    ENTRY(get_metric),
    ENTRY(get_property),
    ENTRY(set_property),
    ENTRY(call_foreign_function),
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hostcall_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_proxywasm",
    .m_doc = "Proxy-Wasm ABI 0.2.1 host calls.",
    .m_size = -1,
    .m_methods = hostcall_methods,
};

PyMODINIT_FUNC PyInit__proxywasm(void) {
    if (PyType_Ready(&context_method_type) < 0) return NULL;
    return PyModule_Create(&hostcall_module);
}
