"""Binaryen (`wasm-opt`'s library, from PyPI `icpp-binaryen`) run on a module through its C API.

Used twice: `-O2` on the runtime base once per runtime build (cached), and after the snapshot
to drop the functions that only build-time code reached (dead-code elimination).
"""

from __future__ import annotations

import ctypes
import importlib.util
from collections.abc import Sequence
from pathlib import Path

from ..errors import ToolchainError

# What zig's wasm32-wasi target emits; Binaryen must neither reject nor go beyond it.
_FEATURES = ("SignExt", "MutableGlobals", "NontrappingFPToInt", "BulkMemory", "Multivalue",
             "ExtendedConst")


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
        _library = library
    return _library


def run(module: bytes, passes: Sequence[str] = (), *, optimize_level: int = 0,
        shrink_level: int = 0, keep_names: bool = False) -> bytes:
    """Run Binaryen's ``passes`` on ``module`` (or its default pipeline at ``optimize_level``)."""
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
