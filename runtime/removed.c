/* What run-time code reaches in place of the parts a built module leaves out.
 *
 * After the snapshot, the build replaces the bodies of the source parser, the bytecode
 * compiler and every built-in module's init function with calls to these (see
 * compiler/pywasm_filter/wasm/shrink.py), and drops the code only they reached. All Python
 * code was compiled at build time; each stub raises an exception that says what to do.
 */
#include "pywasm.h"

PYWASM_EXPORT(pywasm_removed_compiler) PyObject *pywasm_removed_compiler(void) {
    PyErr_SetString(PyExc_RuntimeError,
                    "compiling Python source at run time is not supported in a built filter "
                    "(exec, eval or compile of a string, collections.namedtuple or @dataclass "
                    "called inside a callback): do it at module level, where it runs at build "
                    "time");
    return NULL;
}

PYWASM_EXPORT(pywasm_removed_module) PyObject *pywasm_removed_module(void) {
    PyErr_SetString(PyExc_ImportError,
                    "this built-in module was not imported when the filter was built: import it "
                    "at module level in your filter so it is bundled");
    return NULL;
}
