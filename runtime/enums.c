/* Cheap class attribute reads on enums (`Action.CONTINUE`) under CPython 3.11.
 *
 * 3.11's `enum.EnumType` defines `__getattr__` (3.12 dropped it: the members are in the class
 * dict anyway), so CPython gives it its generic `__getattr__` hook, which calls
 * `type.__getattribute__` as a method object on every read: about 1.6k wasm instructions for
 * each `Action.CONTINUE` a callback returns. `enum_getattro` does what that hook does, directly:
 * `type.__getattribute__`'s C function, then on AttributeError the metaclass's `__getattr__`.
 * It is installed only while EnumType's `__getattribute__` is type's; assigning `__getattr__`
 * or `__getattribute__` on EnumType later puts CPython's hook back (its slot is recomputed), and
 * subclasses of EnumType keep CPython's hook.
 */
#include "pywasm.h"

static PyObject *getattr_name;

static PyObject *enum_getattro(PyObject *cls, PyObject *name) {
    PyObject *found = PyType_Type.tp_getattro(cls, name);
    if (found != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError)) return found;
    PyObject *hook = _PyType_Lookup(Py_TYPE(cls), getattr_name);
    if (hook == NULL) return NULL;
    PyErr_Clear();
    Py_INCREF(hook);
    descrgetfunc get = Py_TYPE(hook)->tp_descr_get;
    PyObject *bound = get != NULL ? get(hook, cls, (PyObject *)Py_TYPE(cls)) : Py_NewRef(hook);
    Py_DECREF(hook);
    if (bound == NULL) return NULL;
    PyObject *result = PyObject_CallOneArg(bound, name);
    Py_DECREF(bound);
    return result;
}

int pywasm_speed_up_enums(void) {
    PyObject *module = PyImport_ImportModule("enum");
    if (module == NULL) return -1;
    PyObject *enum_type = PyObject_GetAttrString(module, "EnumType");
    Py_DECREF(module);
    if (enum_type == NULL) return -1;
    PyObject *getattribute_name = PyUnicode_InternFromString("__getattribute__");
    getattr_name = PyUnicode_InternFromString("__getattr__");
    if (getattribute_name == NULL || getattr_name == NULL || !PyType_Check(enum_type)) {
        Py_XDECREF(getattribute_name);
        Py_DECREF(enum_type);
        return PyErr_Occurred() ? -1 : 0;
    }
    PyTypeObject *type = (PyTypeObject *)enum_type;
    PyObject *getattribute = _PyType_Lookup(type, getattribute_name);
    if (getattribute != NULL && Py_IS_TYPE(getattribute, &PyWrapperDescr_Type) &&
        ((PyWrapperDescrObject *)getattribute)->d_wrapped == (void *)PyType_Type.tp_getattro &&
        _PyType_Lookup(type, getattr_name) != NULL)
        type->tp_getattro = enum_getattro;
    Py_DECREF(getattribute_name);
    Py_DECREF(enum_type); /* the enum module keeps it */
    return 0;
}
