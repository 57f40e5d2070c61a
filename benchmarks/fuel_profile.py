"""Where a request's fuel goes: every function entered during each callback, with its fuel.

``python -m benchmarks.fuel_profile FILTER.py [--warm-up N] [--trace]`` builds ``FILTER.py``
with function names kept, has Binaryen add a call to an imported ``env.pywasm_prof_enter(i)``
at the entry of every function (2 fuel each), and replays requests as ``benchmarks.fuel`` does,
reading the store's fuel in that import. Each entry is charged the fuel up to the next entry, so
code a function runs after a call returns (the eval loop's own work) shows up under the last
function entered. Measurement only: the module it writes is never deployed.
"""

from __future__ import annotations

import argparse
import ctypes
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from wasmtime import Caller, Store

from benchmarks import fuel
from pywasm_filter.build import build
from pywasm_filter.wasm import optimize

_PROBE = b"pywasm_prof_enter"


def build_with_names(source: Path, output: Path) -> None:
    """Build ``source`` as usual, except that Binaryen keeps the name section."""
    run = optimize.run

    def keeping_names(*args: object, **kwargs: object) -> bytes:
        kwargs["keep_names"] = True
        return run(*args, **kwargs)  # type: ignore[arg-type]

    optimize.run = keeping_names
    try:
        build(source, output)
    finally:
        optimize.run = run


def _declare(library: ctypes.CDLL) -> None:
    pointer, text, size = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
    for name, result, arguments in (
        ("BinaryenFunctionGetBody", pointer, (pointer,)),
        ("BinaryenFunctionSetBody", None, (pointer, pointer)),
        ("BinaryenAddFunctionImport", None, (pointer, text, text, text, size, size)),
        ("BinaryenCall", pointer, (pointer, text, ctypes.POINTER(pointer), ctypes.c_uint32, size)),
        ("BinaryenBlock", pointer, (pointer, text, ctypes.POINTER(pointer), ctypes.c_uint32, size)),
        ("BinaryenTypeInt32", size, ()),
        ("BinaryenTypeNone", size, ()),
        ("BinaryenTypeAuto", size, ()),
        ("BinaryenModuleAllocateAndWrite", optimize._WriteResult, (pointer, text)),
    ):
        function = getattr(library, name)
        function.restype = result
        function.argtypes = arguments


def instrument(module: bytes) -> tuple[bytes, dict[int, str]]:
    """``module`` calling the probe with its index on entering each function; index -> name."""
    library = optimize._binaryen()
    _declare(library)
    features = 0
    for feature in optimize._FEATURES:
        features |= getattr(library, f"BinaryenFeature{feature}")()
    library.BinaryenSetDebugInfo(True)
    buffer = ctypes.create_string_buffer(module, len(module))
    handle = library.BinaryenModuleRead(buffer, len(module))
    library.BinaryenModuleSetFeatures(handle, features)
    functions = [library.BinaryenGetFunctionByIndex(handle, index)
                 for index in range(library.BinaryenGetNumFunctions(handle))]
    none = library.BinaryenTypeNone()
    library.BinaryenAddFunctionImport(handle, _PROBE, b"env", _PROBE,
                                      library.BinaryenTypeInt32(), none)
    names: dict[int, str] = {}
    for index, function in enumerate(functions):
        if library.BinaryenFunctionImportGetModule(function):
            continue
        names[index] = library.BinaryenFunctionGetName(function).decode()
        argument = (ctypes.c_void_p * 1)(
            library.BinaryenConst(handle, library.BinaryenLiteralInt32(index)))
        probe = library.BinaryenCall(handle, _PROBE, argument, 1, none)
        body = (ctypes.c_void_p * 2)(probe, library.BinaryenFunctionGetBody(function))
        library.BinaryenFunctionSetBody(
            function, library.BinaryenBlock(handle, None, body, 2, library.BinaryenTypeAuto()))
    try:
        if not library.BinaryenModuleValidate(handle):
            raise RuntimeError("the instrumented module does not validate")
        result = library.BinaryenModuleAllocateAndWrite(handle, None)
        try:
            return ctypes.string_at(result.binary, result.size), names
        finally:
            ctypes.CDLL(None).free(ctypes.c_void_p(result.binary))
    finally:
        library.BinaryenModuleDispose(handle)


class _Probe:
    """The probe import: while recording, (function index, fuel left) at every entry."""

    def __init__(self) -> None:
        self.store: Store | None = None
        self.entries: list[tuple[int, int]] | None = None

    def enter(self, caller: Caller, index: int) -> int:
        """Record the entry (the import has no result; 0 is discarded)."""
        if self.entries is not None and self.store is not None:
            self.entries.append((index, self.store.get_fuel()))
        return 0


def profile(module: Path, warm_up: int, trace: bool) -> None:
    """Print, per callback of one request after ``warm_up`` requests, its fuel by function."""
    data, names = instrument(module.read_bytes())
    probed = module.with_suffix(".probed.wasm")
    probed.write_bytes(data)
    probe = _Probe()
    handler = fuel._Host.handler

    def with_probe(host: fuel._Host, name: str) -> Callable[..., int]:
        return probe.enter if name == _PROBE.decode() else handler(host, name)

    fuel._Host.handler = with_probe  # type: ignore[method-assign,assignment]
    try:
        store, exports = fuel.instantiate(probed)
    finally:
        fuel._Host.handler = handler  # type: ignore[method-assign]
    probe.store = store
    for _ in range(warm_up):
        for name, args in fuel.request(fuel.WARM_UP_ID):
            fuel._call(store, exports.get(name), *args)
    for name, args in fuel.request(fuel.STREAM_ID):
        probe.entries = []
        before = store.get_fuel()
        fuel._call(store, exports.get(name), *args)
        after = store.get_fuel()
        entries, probe.entries = probe.entries, None
        print(f"== {name.removeprefix('proxy_on_')}: {before - after:,} fuel")
        totals: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        for (index, start), (_, end) in zip(entries, [*entries[1:], (0, after)], strict=True):
            label = names.get(index, str(index))
            totals[label] += start - end
            counts[label] += 1
            if trace:
                print(f"  {start - end:6,}  {label}")
        for label, total in totals.most_common(12):
            print(f"  {total:6,} {counts[label]:3}x {label}")


def main() -> None:
    """Build the filter given and print its profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("filter", type=Path)
    parser.add_argument("--warm-up", type=int, default=fuel.QUICKENED,
                        help=f"requests before the measured one (default {fuel.QUICKENED})")
    parser.add_argument("--trace", action="store_true", help="print every entry in order")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        module = Path(directory) / "named.wasm"
        build_with_names(args.filter, module)
        profile(module, args.warm_up, args.trace)


if __name__ == "__main__":
    main()
