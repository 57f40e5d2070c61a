"""Binaryen (`wasm-opt`'s library, from PyPI `icpp-binaryen`) run on a module through its C API.

Used twice: `-O2` on the runtime base once per runtime build (cached), and after the snapshot
to drop the functions that only build-time code reached (dead-code elimination). That second run
also turns the host functions a build does not link into functions of the module (see
``stub_imports``): Binaryen refers to functions by name, so it renumbers every call for us.
Rewriting the built module, rather than compiling a binding per set of host functions, keeps
one cached runtime base for every filter (a new link and ``-O2`` would cost about 20 s per set)
and costs nothing extra: it rides on the pass the build already runs.
"""

from __future__ import annotations

import ctypes
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import ToolchainError

# What zig's wasm32-wasi target emits; Binaryen must neither reject nor go beyond it.
_FEATURES = ("SignExt", "MutableGlobals", "NontrappingFPToInt", "BulkMemory", "Multivalue",
             "ExtendedConst")


class _Literal(ctypes.Structure):
    """Binaryen's ``struct BinaryenLiteral``: a type and a 16-byte value."""

    _fields_ = (("type", ctypes.c_size_t), ("value", ctypes.c_uint8 * 16))


class _WriteResult(ctypes.Structure):
    _fields_ = (("binary", ctypes.c_void_p), ("size", ctypes.c_size_t),
                ("source_map", ctypes.c_void_p))


def _library_path() -> Path:
    spec = importlib.util.find_spec("icpp_binaryen")
    if spec is None or not spec.submodule_search_locations:
        raise ToolchainError("Binaryen is not installed: pip install icpp-binaryen")
    return Path(next(iter(spec.submodule_search_locations))) / "lib" / "libbinaryen.so"


_library: ctypes.CDLL | None = None


def _binaryen() -> ctypes.CDLL:
    global _library
    if _library is None:
        path = _library_path()
        if not path.is_file():
            raise ToolchainError(f"icpp-binaryen has no Binaryen library at {path}; reinstall it")
        library = ctypes.CDLL(str(path))
        library.BinaryenModuleRead.restype = ctypes.c_void_p
        library.BinaryenModuleRead.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
        library.BinaryenModuleSetFeatures.argtypes = (ctypes.c_void_p, ctypes.c_uint32)
        library.BinaryenModuleRunPasses.argtypes = (
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_uint32)
        library.BinaryenModuleOptimize.argtypes = (ctypes.c_void_p,)
        library.BinaryenModuleValidate.argtypes = (ctypes.c_void_p,)
        library.BinaryenModuleValidate.restype = ctypes.c_bool
        library.BinaryenModuleAllocateAndWrite.argtypes = (ctypes.c_void_p, ctypes.c_char_p)
        library.BinaryenModuleAllocateAndWrite.restype = _WriteResult
        library.BinaryenModuleDispose.argtypes = (ctypes.c_void_p,)
        library.BinaryenSetOptimizeLevel.argtypes = (ctypes.c_int,)
        library.BinaryenSetShrinkLevel.argtypes = (ctypes.c_int,)
        library.BinaryenSetDebugInfo.argtypes = (ctypes.c_bool,)
        for feature in _FEATURES:
            getattr(library, f"BinaryenFeature{feature}").restype = ctypes.c_uint32
        _declare_function_api(library)
        _library = library
    return _library


def _declare_function_api(library: ctypes.CDLL) -> None:
    pointer, text, index, type_ = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_size_t
    for name, result, arguments in (
        ("BinaryenGetNumFunctions", index, (pointer,)),
        ("BinaryenGetFunctionByIndex", pointer, (pointer, index)),
        ("BinaryenFunctionGetName", text, (pointer,)),
        ("BinaryenFunctionImportGetModule", text, (pointer,)),
        ("BinaryenFunctionImportGetBase", text, (pointer,)),
        ("BinaryenFunctionGetParams", type_, (pointer,)),
        ("BinaryenFunctionGetResults", type_, (pointer,)),
        ("BinaryenRemoveFunction", None, (pointer, text)),
        ("BinaryenAddFunction", pointer, (pointer, text, type_, type_, pointer, index, pointer)),
        ("BinaryenLiteralInt32", _Literal, (ctypes.c_int32,)),
        ("BinaryenConst", pointer, (pointer, _Literal)),
    ):
        function = getattr(library, name)
        function.restype = result
        function.argtypes = arguments


def _stub_imports(library: ctypes.CDLL, handle: int, stubs: Mapping[tuple[str, str], int]) -> None:
    """Turn each imported function ``(module, name)`` of ``stubs`` into a function of the module
    that returns the given i32, under the same internal name, so every call now reaches it."""
    found = []
    for position in range(library.BinaryenGetNumFunctions(handle)):
        function = library.BinaryenGetFunctionByIndex(handle, position)
        module = library.BinaryenFunctionImportGetModule(function)
        key = ((module or b"").decode(),
               (library.BinaryenFunctionImportGetBase(function) or b"").decode())
        if module and key in stubs:
            found.append((key, library.BinaryenFunctionGetName(function),
                          library.BinaryenFunctionGetParams(function),
                          library.BinaryenFunctionGetResults(function)))
    missing = set(stubs) - {key for key, *_ in found}
    if missing:
        raise ToolchainError(f"the module does not import {sorted(missing)}; rebuild the runtime")
    for key, name, params, results in found:
        library.BinaryenRemoveFunction(handle, name)
        body = library.BinaryenConst(handle, library.BinaryenLiteralInt32(stubs[key]))
        library.BinaryenAddFunction(handle, name, params, results, None, 0, body)


def run(module: bytes, passes: Sequence[str] = (), *, optimize_level: int = 0,
        shrink_level: int = 0, keep_names: bool = False,
        stub_imports: Mapping[tuple[str, str], int] | None = None) -> bytes:
    """Run Binaryen's ``passes`` on ``module`` (or its default pipeline at ``optimize_level``).

    ``stub_imports`` maps imports ``(module, name)`` (functions returning one i32) to the
    value the module's own replacement returns: the import is gone, its callers remain.
    """
    library = _binaryen()
    features = 0
    for feature in _FEATURES:
        features |= getattr(library, f"BinaryenFeature{feature}")()
    library.BinaryenSetOptimizeLevel(optimize_level)
    library.BinaryenSetShrinkLevel(shrink_level)
    library.BinaryenSetDebugInfo(keep_names)
    buffer = ctypes.create_string_buffer(module, len(module))
    handle = library.BinaryenModuleRead(buffer, len(module))
    if not handle:
        raise ToolchainError("Binaryen could not read the module")
    try:
        library.BinaryenModuleSetFeatures(handle, features)
        if stub_imports:
            _stub_imports(library, handle, stub_imports)
        if passes:
            names = (ctypes.c_char_p * len(passes))(*(name.encode() for name in passes))
            library.BinaryenModuleRunPasses(handle, names, len(passes))
        if optimize_level:
            library.BinaryenModuleOptimize(handle)
        if not library.BinaryenModuleValidate(handle):
            raise ToolchainError("Binaryen produced an invalid module")
        result = library.BinaryenModuleAllocateAndWrite(handle, None)
        try:
            return ctypes.string_at(result.binary, result.size)
        finally:
            ctypes.CDLL(None).free(ctypes.c_void_p(result.binary))
    finally:
        library.BinaryenModuleDispose(handle)
