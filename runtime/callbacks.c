/* Every Proxy-Wasm 0.2.1 callback, exported and routed to `proxywasm._dispatch`.
 *
 * The exports and tables come from `proxywasm/_callbacks.py` (rendered into
 * callback_table.h and callback_exports.h when the runtime is built). The Python functions are
 * looked up once at build time and kept in a table, so a callback costs one vectorcall with
 * small-int arguments. `_dispatch` catches the filter's exceptions; anything that still escapes
 * is printed (to the proxy log) and answered with 0.
 *
 * A callback the context's class inherits from the SDK never enters Python: when
 * `on_context_create` creates an HTTP or TCP context it returns a mask of the callbacks the
 * class inherits (bit i is `_callbacks.INHERITABLE[i]`), kept here per context id, and those
 * callbacks are answered with the SDK's default. A stream callback the class overrides is
 * called on the context object itself (no dispatcher frame) unless the context's last answer
 * held its stream; only an answer other than CONTINUE, or an exception, goes back to
 * `_dispatch.finish_direct`. The paused stream and awaiting coroutine themselves are the
 * SDK's (`_state.Flows`); the flag here only routes.
 *
 * A context of the SDK's plain class (`_contexts.prepare`) is created here as
 * `_contexts.create` would, and deleted here while no callout is awaited and no stream held
 * (`_contexts.forget` would only drop its dictionary entry): most requests never enter Python
 * for their creation and deletion. `proxywasm/testing/router.py` does the same for the emulator.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pywasm.h"

#include <structmember.h>

#include "callback_table.h"

static PyObject *callbacks[CB_COUNT];
/* The interned method names, for the stream callbacks the runtime calls on the context. */
static PyObject *methods[INHERITABLE_COUNT];
static PyObject *http_contexts, *tcp_contexts, *paused_streams, *action_continue, *finish_direct;
/* For creating and deleting plain contexts here (`create_plain`, `delete_context`). */
static PyObject *sdk_state, *awaiting_calls, *inherited_by_class, *no_arguments;
static PyObject *context_id_name, *root_context_id_name;

/* A kind of plain context (`state.plain_http` or `plain_stream`) and what `create_plain` keeps
 * to make one cheaply: where the state object holds the class (its slot, read directly while
 * the state's type is unchanged), and the class's mask as last read from
 * `state.inherited_by_class` (valid while that dictionary's version is the same). */
typedef struct {
    const char *name;
    PyObject *name_object, **contexts;
    Py_ssize_t offset; /* of the slot in the state object; 0: read it by name */
    unsigned int state_version;
    PyObject *cls;
    uint64_t version;
    long mask;
} plain_kind_t;

static plain_kind_t plain_http = {.name = "plain_http", .contexts = &http_contexts};
static plain_kind_t plain_stream = {.name = "plain_stream", .contexts = &tcp_contexts};

/* Find where the state object keeps the class of `kind` (a slot of its class, see _state.py). */
static int bind_plain(plain_kind_t *kind) {
    if ((kind->name_object = PyUnicode_InternFromString(kind->name)) == NULL) return -1;
    PyTypeObject *type = Py_TYPE(sdk_state);
    PyObject *slot = _PyType_Lookup(type, kind->name_object);
    if (slot != NULL && Py_IS_TYPE(slot, &PyMemberDescr_Type) &&
        ((PyMemberDescrObject *)slot)->d_member->type == T_OBJECT_EX &&
        (type->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)) {
        kind->offset = ((PyMemberDescrObject *)slot)->d_member->offset;
        kind->state_version = type->tp_version_tag;
    }
    return 0;
}

static PyObject *bind(PyObject *dispatch, const char *name) {
    return PyObject_GetAttrString(dispatch, name);
}

int pywasm_bind_callbacks(void) {
    PyObject *dispatch = PyImport_ImportModule("proxywasm._dispatch");
    if (dispatch == NULL) return -1;
    int failed = 0;
    for (int i = 0; i < CB_COUNT && !failed; i++)
        failed = (callbacks[i] = bind(dispatch, callback_names[i])) == NULL;
    for (int i = 0; i < INHERITABLE_COUNT && !failed; i++)
        failed = (methods[i] = PyUnicode_InternFromString(method_names[i])) == NULL;
    failed = failed || (http_contexts = bind(dispatch, "_http")) == NULL ||
             (tcp_contexts = bind(dispatch, "_streams")) == NULL ||
             (paused_streams = bind(dispatch, "_paused")) == NULL ||
             (action_continue = bind(dispatch, "_CONTINUE")) == NULL ||
             (finish_direct = bind(dispatch, "finish_direct")) == NULL ||
             (sdk_state = bind(dispatch, "state")) == NULL ||
             (awaiting_calls = bind(dispatch, "_awaiting")) == NULL ||
             (inherited_by_class = bind(sdk_state, "inherited_by_class")) == NULL ||
             (no_arguments = PyTuple_New(0)) == NULL || bind_plain(&plain_http) < 0 ||
             bind_plain(&plain_stream) < 0 ||
             (context_id_name = PyUnicode_InternFromString("context_id")) == NULL ||
             (root_context_id_name = PyUnicode_InternFromString("root_context_id")) == NULL;
    Py_DECREF(dispatch);
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

/* One context's routing entry: the callbacks it inherits, and whether its last stream callback
 * answered other than CONTINUE (then every stream callback goes to the dispatcher, which knows
 * whether the stream is paused or a coroutine awaits). */
typedef struct {
    uint32_t id; /* 0: a free slot (the host never gives a stream context id 0) */
    uint16_t inherited;
    uint8_t held;
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
        entry->held = 0;
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
    PyObject *contexts = method_is_http[index] ? http_contexts : tcp_contexts;
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
        count ? PyObject_VectorcallMethod(methods[index], args, count, NULL) : NULL;
    for (size_t i = 1; i < count; i++) Py_DECREF(args[i]);
    int32_t action = -1;
    if (result == action_continue) {
        /* CONTINUE releases a stream the SDK still records as held (`_dispatch._paused`). */
        int held = PyDict_GET_SIZE(paused_streams) ? PyDict_Contains(paused_streams, id_object) : 0;
        if (held == 0 || (held == 1 && PyDict_DelItem(paused_streams, id_object) == 0)) action = 0;
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

/* A stream callback, while the context's last answer did not hold its stream: CONTINUE (0)
 * straight away when the context inherits it, the context's own method when it overrides it;
 * otherwise the dispatcher. The answer says whether the stream is now held. */
static int32_t stream_callback(int which, int index, size_t nargs, uint32_t id, uint32_t b,
                               uint32_t c) {
    entry_t *entry = find(id);
    if (entry != NULL && !entry->held && (entry->inherited & (1u << index))) return 0;
    int32_t action = entry != NULL && !entry->held ? call_direct(which, index, nargs, id, b, c)
                                                   : dispatch(which, nargs, id, b, c, 0, 0);
    entry = find(id); /* the callback may have added or moved entries */
    if (entry != NULL) entry->held = action != 0;
    return action;
}

/* A callback whose SDK default has no effect but `answer`: that when the context inherits it. */
static int32_t inherited_or_dispatch(int which, int index, size_t nargs, uint32_t id, uint32_t b,
                                     int32_t answer) {
    entry_t *entry = find(id);
    if (entry != NULL && (entry->inherited & (1u << index))) return answer;
    return dispatch(which, nargs, id, b, 0, 0, 0);
}

/* The class of `kind` the state holds now (new reference), or NULL (no error set). */
static PyObject *plain_class(plain_kind_t *kind) {
    PyTypeObject *type = Py_TYPE(sdk_state);
    if (kind->offset != 0 && (type->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) &&
        type->tp_version_tag == kind->state_version) {
        PyObject *cls = *(PyObject **)((char *)sdk_state + kind->offset);
        return cls != NULL ? Py_NewRef(cls) : NULL;
    }
    PyObject *cls = PyObject_GetAttr(sdk_state, kind->name_object);
    if (cls == NULL) PyErr_Clear();
    return cls;
}

/* The mask `state.inherited_by_class` holds for `cls`, or -1 (none; no error set). */
static long class_mask(plain_kind_t *kind, PyObject *cls) {
    uint64_t version = ((PyDictObject *)inherited_by_class)->ma_version_tag;
    if (cls == kind->cls && version == kind->version) return kind->mask;
    PyObject *mask = PyDict_GetItemWithError(inherited_by_class, cls);
    long value = mask != NULL ? PyLong_AsLong(mask) : -1;
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    Py_XSETREF(kind->cls, Py_NewRef(cls));
    kind->version = version;
    kind->mask = value;
    return value;
}

/* Make the context `id` of the SDK's plain class for `kind` (no metaclass, `__new__` or
 * `__init__` of its own) as `_contexts.create` does: `object.__new__`, the two ids, its entry
 * in the kind's contexts. The answer is the class's inherited mask; -1 when there is no such
 * class, it sets attributes its own way, or making it failed (nothing is recorded then, and
 * the dispatcher creates it, reporting failures). */
static long create_plain(plain_kind_t *kind, uint32_t id, uint32_t parent) {
    PyObject *cls = plain_class(kind);
    if (cls == NULL) return -1;
    long inherited = PyType_Check(cls) && ((PyTypeObject *)cls)->tp_setattro ==
                                              PyObject_GenericSetAttr
                         ? class_mask(kind, cls)
                         : -1;
    PyObject *id_object = inherited >= 0 ? context_object(id) : NULL;
    PyObject *parent_object = id_object != NULL ? PyLong_FromUnsignedLong(parent) : NULL;
    PyObject *context = parent_object != NULL
                            ? PyBaseObject_Type.tp_new((PyTypeObject *)cls, no_arguments, NULL)
                            : NULL;
    if (context == NULL || PyObject_GenericSetAttr(context, context_id_name, id_object) < 0 ||
        PyObject_GenericSetAttr(context, root_context_id_name, parent_object) < 0 ||
        PyDict_SetItem(*kind->contexts, id_object, context) < 0)
        inherited = -1;
    PyErr_Clear();
    Py_XDECREF(context);
    Py_XDECREF(parent_object);
    Py_XDECREF(id_object);
    Py_DECREF(cls);
    return inherited;
}

/* A context's creation: a child's answer is the mask of callbacks its class inherits. A child
 * of a plain class is made here, without Python. */
static void create_context(uint32_t id, uint32_t parent) {
    long inherited = -1;
    if (parent != 0) {
        const char *previous = pywasm_enter_callback(callback_names[CB_on_context_create]);
        inherited = create_plain(&plain_http, id, parent);
        if (inherited < 0) inherited = create_plain(&plain_stream, id, parent);
        pywasm_leave_callback(previous);
    }
    if (inherited < 0) inherited = dispatch(CB_on_context_create, 2, id, parent, 0, 0, 0);
    if (parent != 0) pywasm_set_inherited(id, (uint32_t)inherited);
}

/* Drop `key` from `contexts` if it is there: 1 if it was, 0 if not, -1 on an error. */
static int drop(PyObject *contexts, PyObject *key) {
    /* The contexts are never None: that is the answer for "not there". */
    PyObject *context = _PyDict_Pop(contexts, key, Py_None);
    if (context == NULL) return -1;
    int dropped = context != Py_None;
    Py_DECREF(context);
    return dropped;
}

/* A context's deletion. An HTTP/TCP context while no coroutine awaits a callout and no stream
 * is held (then `_contexts.forget` would only drop its dictionary entry) is dropped here. */
static void delete_context(uint32_t id) {
    int plain = find(id) != NULL && PyDict_GET_SIZE(awaiting_calls) == 0 &&
                PyDict_GET_SIZE(paused_streams) == 0;
    if (!plain) {
        dispatch(CB_on_delete, 1, id, 0, 0, 0, 0);
        forget(id);
        return;
    }
    forget(id);
    const char *previous = pywasm_enter_callback(callback_names[CB_on_delete]);
    PyObject *id_object = context_object(id);
    int dropped = id_object != NULL ? drop(http_contexts, id_object) : -1;
    if (dropped == 0) dropped = drop(tcp_contexts, id_object);
    if (dropped < 0 || PyErr_Occurred()) pywasm_print_exception();
    Py_XDECREF(id_object);
    pywasm_leave_callback(previous);
}

#include "callback_exports.h"
