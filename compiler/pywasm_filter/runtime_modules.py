"""The C extension modules compiled into the runtime, one place for the list.

Filters can import these (and any pure-Python stdlib module built on them); everything else
from the CPython build (test modules, CJK codecs, sockets, profilers) is left out to keep the
module small. `inittab.c.j2` is rendered from this list.

`EXTENSION_MODULES` are always linked: the interpreter's start-up and its most basic modules
use them. An `OPTIONAL_MODULES` entry is linked only when the build's imports reach it (see
`stdlib_closure`), so a header filter carries no regular-expression engine, hash functions,
Unicode database, decimal library or XML parser.
"""

# (module name, init function) pairs beyond the interpreter's own core modules.
EXTENSION_MODULES: tuple[tuple[str, str], ...] = (
    ("posix", "PyInit_posix"),
    ("errno", "PyInit_errno"),
    ("_io", "PyInit__io"),
    ("_codecs", "PyInit__codecs"),
    ("_collections", "PyInit__collections"),
    ("_functools", "PyInit__functools"),
    ("_operator", "PyInit__operator"),
    ("_abc", "PyInit__abc"),
    ("_weakref", "PyInit__weakref"),
    ("_thread", "PyInit__thread"),
    ("_signal", "PyInit__signal"),
    ("_stat", "PyInit__stat"),
    ("_locale", "PyInit__locale"),
    ("atexit", "PyInit_atexit"),
    ("time", "PyInit_time"),
    ("itertools", "PyInit_itertools"),
)

# Linked only into modules whose imports reach them, sorted by name.
OPTIONAL_MODULES: tuple[tuple[str, str], ...] = (
    ("array", "PyInit_array"),
    ("_asyncio", "PyInit__asyncio"),
    ("binascii", "PyInit_binascii"),
    ("_bisect", "PyInit__bisect"),
    ("_blake2", "PyInit__blake2"),
    ("cmath", "PyInit_cmath"),
    ("_contextvars", "PyInit__contextvars"),
    ("_csv", "PyInit__csv"),
    ("_datetime", "PyInit__datetime"),
    ("_decimal", "PyInit__decimal"),
    ("_elementtree", "PyInit__elementtree"),
    ("faulthandler", "PyInit_faulthandler"),
    ("_heapq", "PyInit__heapq"),
    ("_json", "PyInit__json"),
    ("math", "PyInit_math"),
    ("_md5", "PyInit__md5"),
    ("_opcode", "PyInit__opcode"),
    ("_pickle", "PyInit__pickle"),
    ("pyexpat", "PyInit_pyexpat"),
    ("_queue", "PyInit__queue"),
    ("_random", "PyInit__random"),
    ("_sha1", "PyInit__sha1"),
    ("_sha256", "PyInit__sha256"),
    ("_sha3", "PyInit__sha3"),
    ("_sha512", "PyInit__sha512"),
    ("_sre", "PyInit__sre"),
    ("_statistics", "PyInit__statistics"),
    ("_struct", "PyInit__struct"),
    ("_tracemalloc", "PyInit__tracemalloc"),
    ("_typing", "PyInit__typing"),
    ("unicodedata", "PyInit_unicodedata"),
    ("_zoneinfo", "PyInit__zoneinfo"),
)

# Modules that live inside the interpreter core; the table must name them too.
CORE_MODULES: tuple[tuple[str, str | None], ...] = (
    ("marshal", "PyMarshal_Init"),
    ("_imp", "PyInit__imp"),
    ("_ast", "PyInit__ast"),
    ("_tokenize", "PyInit__tokenize"),
    ("builtins", None),
    ("sys", None),
    ("gc", "PyInit_gc"),
    ("_warnings", "_PyWarnings_Init"),
    ("_string", "PyInit__string"),
)

# The SDK's own built-in module, registered by the runtime before start-up.
SDK_MODULE = "_proxywasm"


def builtin_module_names() -> frozenset[str]:
    """Names a filter can import without a .py file: the runtime's C modules."""
    modules = (*EXTENSION_MODULES, *OPTIONAL_MODULES, *CORE_MODULES)
    return frozenset([*(name for name, _ in modules), SDK_MODULE])


def optional_names() -> frozenset[str]:
    """Names of the C modules linked only when a build's imports reach them."""
    return frozenset(name for name, _ in OPTIONAL_MODULES)


def inittab(optional: frozenset[str]) -> list[tuple[str, str | None]]:
    """The built-in module table for a runtime that links the ``optional`` modules too."""
    chosen = [entry for entry in OPTIONAL_MODULES if entry[0] in optional]
    return [*EXTENSION_MODULES, *chosen, *CORE_MODULES]


_NO_PROCESSES = ("a filter runs inside one proxy worker, with no processes or threads: use "
                 "timers (set_tick_period) and callouts (self.http_call) instead")
_NO_SOCKETS = ("a filter cannot open connections itself: call other services through the proxy "
               "with self.http_call(...) or self.grpc_call(...) (a cluster the proxy knows)")
# What works instead of a standard-library C module the runtime lacks, by that C module.
INSTEAD: dict[str, str] = {
    "_socket": _NO_SOCKETS,
    "select": _NO_SOCKETS,
    "_ssl": "the proxy does TLS: call HTTPS services through a cluster with self.http_call(...)",
    "_ctypes": "there are no C libraries to load inside the proxy: write it in Python, or call "
               "one of the proxy's foreign functions (hostcalls.call_foreign_function)",
    "_sqlite3": "there is no filesystem in the proxy: keep data in Python objects, or share it "
                "between workers with get_shared_data/set_shared_data",
    "zlib": "call Envoy's compress/uncompress foreign functions (see examples/foreign_functions)",
    "_multiprocessing": _NO_PROCESSES,
    "_posixsubprocess": _NO_PROCESSES,
}
_OTHERWISE = "use another module; the runtime's C modules are listed in docs/guide.md"


def lacking(module: str, c_module: str) -> tuple[str, str]:
    """(message, fix) for a standard-library ``module`` that needs the C module ``c_module``,
    which the runtime does not include."""
    if module == c_module:
        message = (f"'{module}' is a C module of the standard library that the pywasm-filter "
                   "runtime does not include")
    else:
        message = (f"'{module}' is a standard library module, but it needs the C module "
                   f"'{c_module}', which the pywasm-filter runtime does not include")
    return message, INSTEAD.get(c_module, _OTHERWISE)
