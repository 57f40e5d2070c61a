/* What keeps a callback able to return: its execution budget, the recursion cap, and
 * stand-ins for the calls that would end the VM.
 *
 * Budget: the build instruments CPython's eval loop (compiler/pywasm_filter/wasm/budget.py) so
 * that every backward jump and every Python function entry decrements `pywasm_budget_left`; at zero it
 * calls `pywasm_budget_exhausted`, which schedules `proxywasm.CallbackTimeout` through CPython's
 * pending calls: the eval loop raises it at that very jump, inside the looping code. The runtime
 * refills the budget whenever the host enters a callback.
 *
 * Recursion: CPython counts recursion, not stack bytes. The snapshotter measures how many counts
 * the WebAssembly stacks hold (wasm/recursion.py) and calls `pywasm_cap_recursion`; from then on
 * `sys.setrecursionlimit` cannot go past that cap.
 *
 * Exits: `os._exit` and `os.abort` raise SystemExit instead of ending the VM, and an uncaught
 * exception is printed without CPython's exit-on-SystemExit. (A fatal CPython error still
 * aborts: CPython prints the Python stack first.)
 */
#include <limits.h>
#include <stdint.h>

#include "pywasm.h"

volatile int32_t pywasm_budget_left = INT32_MAX;
static int32_t budget; /* per callback, from the build's --callback-budget; 0: no limit */
static int timed_out;
static PyObject *timeout_type;
static const char *current_callback;

/* The address the instrumented eval loop decrements (read once by the build). */
PYWASM_EXPORT(pywasm_budget_counter) volatile int32_t *pywasm_budget_counter(void) {
    return &pywasm_budget_left;
}

void pywasm_set_budget(long value) {
    if (value < 0) return;
    budget = value > 0 && value < INT32_MAX ? (int32_t)value : 0;
}

const char *pywasm_enter_callback(const char *name) {
    const char *previous = current_callback;
    current_callback = name;
    pywasm_budget_left = budget ? budget : INT32_MAX;
    timed_out = 0;
    return previous;
}

void pywasm_leave_callback(const char *previous) { current_callback = previous; }

static int raise_timeout(void *unused) {
    (void)unused;
    if (!timed_out) return 0; /* the callback that ran out has returned meanwhile */
    timed_out = 0;
    PyErr_Format(timeout_type,
                 "%s ran past its execution budget of %d loop iterations and calls; a callback "
                 "must return quickly (raise the budget with `pywasm-filter build "
                 "--callback-budget N`)",
                 current_callback, (int)budget);
    return -1;
}

/* Called by the instrumented eval loop when `pywasm_budget_left` reaches zero. */
PYWASM_EXPORT(pywasm_budget_exhausted) void pywasm_budget_exhausted(void) {
    int limited = current_callback != NULL && budget != 0 && timeout_type != NULL;
    pywasm_budget_left = limited ? budget : INT32_MAX; /* again after a whole budget if swallowed */
    if (limited && !timed_out && Py_AddPendingCall(raise_timeout, NULL) == 0) timed_out = 1;
}

/* Print the pending exception like PyErr_Print, but never exit on SystemExit. */
void pywasm_print_exception(void) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (type != NULL) PyErr_Display(type, value, traceback);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    PyErr_Clear();
}

/* Recursion cap */

static int recursion_cap; /* 0: not measured */
static PyObject *setrecursionlimit;

static PyObject *capped_setrecursionlimit(PyObject *self, PyObject *limit) {
    (void)self;
    int value = _PyLong_AsInt(limit);
    if (value == -1 && PyErr_Occurred()) return NULL;
    if (recursion_cap > 0 && value > recursion_cap) {
        if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                             "sys.setrecursionlimit(%d) is lowered to %d: deeper recursion "
                             "would overflow the WebAssembly stack",
                             value, recursion_cap) < 0)
            return NULL;
        PyObject *capped = PyLong_FromLong(recursion_cap);
        if (capped == NULL) return NULL;
        PyObject *result = PyObject_CallOneArg(setrecursionlimit, capped);
        Py_DECREF(capped);
        return result;
    }
    return PyObject_CallOneArg(setrecursionlimit, limit);
}

static PyMethodDef capped_def = {
    "setrecursionlimit", capped_setrecursionlimit, METH_O,
    "Set the recursion limit, at most the depth the WebAssembly stacks hold."};

/* Build time, after the measurement: cap the limit now and for later setrecursionlimit calls. */
PYWASM_EXPORT(pywasm_cap_recursion) void pywasm_cap_recursion(int32_t cap) {
    recursion_cap = cap;
    if (Py_GetRecursionLimit() > cap) Py_SetRecursionLimit(cap);
}

/* Build time: where the current thread's remaining recursion count lives. */
PYWASM_EXPORT(pywasm_recursion_counter) int *pywasm_recursion_counter(void) {
    return &PyThreadState_Get()->recursion_remaining;
}

/* Build time: run `code` with the recursion limit at `limit`; it is expected to overflow a stack
 * (the host then reads the counter). Returns 1 if it finished instead. */
PYWASM_EXPORT(pywasm_probe_recursion)
int32_t pywasm_probe_recursion(const char *code, size_t size, int32_t limit) {
    Py_SetRecursionLimit(limit);
    PyObject *source = PyUnicode_FromStringAndSize(code, (Py_ssize_t)size);
    const char *text = source ? PyUnicode_AsUTF8(source) : NULL;
    PyObject *globals = PyDict_New();
    PyObject *result = NULL;
    if (text != NULL && globals != NULL &&
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0)
        result = PyRun_String(text, Py_file_input, globals, globals);
    if (result == NULL) pywasm_print_exception();
    Py_XDECREF(result);
    Py_XDECREF(globals);
    Py_XDECREF(source);
    return 1;
}

/* Exits */

static PyObject *raise_exit(PyObject *status, const char *what) {
    PyErr_SetObject(PyExc_SystemExit, status);
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    PyObject *note = PyUnicode_FromFormat(
        "%s cannot end the proxy's process: the callback fails instead", what);
    PyObject *added = note ? PyObject_CallMethod(value, "add_note", "O", note) : NULL;
    Py_XDECREF(note);
    Py_XDECREF(added);
    if (added == NULL) PyErr_Clear();
    PyErr_Restore(type, value, traceback);
    return NULL;
}

static PyObject *exit_standin(PyObject *self, PyObject *status) {
    (void)self;
    return raise_exit(status, "os._exit()");
}

static PyObject *abort_standin(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return raise_exit(Py_None, "os.abort()");
}

static PyMethodDef exit_def = {"_exit", exit_standin, METH_O,
                               "Raise SystemExit: a filter cannot end the proxy's process."};
static PyMethodDef abort_def = {"abort", abort_standin, METH_NOARGS,
                                "Raise SystemExit: a filter cannot end the proxy's process."};

static int replace(const char *module_name, PyMethodDef *def) {
    PyObject *module = PyImport_ImportModule(module_name);
    PyObject *function = module ? PyCFunction_New(def, NULL) : NULL;
    int failed = function == NULL || PyObject_SetAttrString(module, def->ml_name, function) < 0;
    Py_XDECREF(function);
    Py_XDECREF(module);
    return failed ? -1 : 0;
}

/* Before the filter is imported: install the stand-ins (os takes them from posix). */
int pywasm_install_guards(void) {
    PyObject *sys = PyImport_ImportModule("sys");
    setrecursionlimit = sys ? PyObject_GetAttrString(sys, "setrecursionlimit") : NULL;
    Py_XDECREF(sys);
    if (setrecursionlimit == NULL || replace("sys", &capped_def) < 0) return -1;
    if (replace("posix", &exit_def) < 0 || replace("posix", &abort_def) < 0) return -1;
    if (PyDict_GetItemString(PyImport_GetModuleDict(), "os") != NULL &&
        (replace("os", &exit_def) < 0 || replace("os", &abort_def) < 0))
        return -1;
    return 0;
}

/* After the filter is imported: find proxywasm.CallbackTimeout. */
int pywasm_bind_limits(void) {
    PyObject *errors = PyImport_ImportModule("proxywasm.errors");
    if (errors == NULL) return -1;
    timeout_type = PyObject_GetAttrString(errors, "CallbackTimeout");
    Py_DECREF(errors);
    return timeout_type == NULL ? -1 : 0;
}
