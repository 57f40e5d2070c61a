/* Declarations shared by the runtime's C files. */
#ifndef PYWASM_H
#define PYWASM_H

#include <Python.h>

#define PYWASM_EXPORT(name) __attribute__((export_name(#name), used))

/* Creates the `_proxywasm` built-in module (hostcalls.c). */
PyMODINIT_FUNC PyInit__proxywasm(void);

/* Looks up the SDK's callback functions once, after the filter is imported (callbacks.c). */
int pywasm_bind_callbacks(void);

/* Reads of enum members (`Action.CONTINUE`) without CPython 3.11's generic `__getattr__` hook
 * (enums.c). */
int pywasm_speed_up_enums(void);

/* Records the callbacks context `id` inherits from the SDK, answered without Python (callbacks.c). */
void pywasm_set_inherited(uint32_t id, uint32_t inherited);

/* Run-time limits (limits.c): stand-ins installed before the filter is imported, the
 * CallbackTimeout type found after it, the per-callback budget, and the callback being run
 * (enter returns the previous one, for leave). */
int pywasm_install_guards(void);
int pywasm_bind_limits(void);
void pywasm_set_budget(long value);
const char *pywasm_enter_callback(const char *name);
void pywasm_leave_callback(const char *previous);
/* PyErr_Print without its exit on SystemExit (limits.c). */
void pywasm_print_exception(void);

/* Points every stubbed WASI function back at its stub (wasi_stubs.c). */
void pywasm_reset_wasi_overrides(void);

#endif
