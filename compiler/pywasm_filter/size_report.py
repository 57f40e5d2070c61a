"""`pywasm-filter build --size-report`: what a module's size is made of, import by import.

Beside the filter itself, it builds a minimal filter (the interpreter and the SDK, which every
module carries) and, for each module the filter imports from the standard library or the SDK
and each third-party package it imports, the minimal filter plus that import. The
differences say what each import adds: code (the C modules it links) and data (what its import
leaves on the heap, compressed). Imports share dependencies, so the figures overlap; the
remainder is the filter's own code and what its imports share.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import bundle, packages, toolchain
from .build import BuildResult, build

_PROBE = """\
import proxywasm
from proxywasm import HttpContext
{imports}

class _SizeProbe(HttpContext):
    pass

proxywasm.set_http_context(_SizeProbe)
"""


@dataclass(frozen=True)
class Sizes:
    """A module's file, code section and data section sizes in bytes."""

    file: int
    code: int
    data: int

    @classmethod
    def of(cls, result: BuildResult) -> Sizes:
        """The sizes of a finished build."""
        return cls(result.file_bytes, result.code_bytes, result.data_bytes)

    def __add__(self, other: Sizes) -> Sizes:
        return Sizes(self.file + other.file, self.code + other.code, self.data + other.data)

    def __sub__(self, other: Sizes) -> Sizes:
        return Sizes(self.file - other.file, self.code - other.code, self.data - other.data)


def imported_modules(filter_path: Path, found: packages.Packages | None = None) -> list[str]:
    """The stdlib and SDK modules the filter's own files import (not the SDK's root, nor
    `__future__`, a compiler directive), and the third-party packages, each once by its
    top-level name."""
    source = bundle.locate(filter_path)
    stdlib = toolchain.ensure_cpython().stdlib
    own = {path.stem for path in source.search_root.glob("*.py")} | {source.module, "__future__"}
    names: list[str] = []
    for name in bundle.scan_imports(source, stdlib, found):
        top = name.split(".")[0]
        if name == bundle.SDK_PACKAGE or top in own:
            continue
        if _is_package(top, stdlib):
            name = top
        if name not in names:
            names.append(name)
    return names


def _is_package(name: str, stdlib: Path) -> bool:
    """Whether ``name`` (an entry of ``imported_modules``) is a third-party package."""
    return name != bundle.SDK_PACKAGE and "." not in name and packages.is_third_party(
        name, stdlib)


def _probe(imports: list[str], workdir: Path, name: str, paths: Sequence[Path]) -> Sizes:
    directory = workdir / name
    directory.mkdir()
    text = _PROBE.format(imports="\n".join(f"import {module}" for module in imports))
    (directory / "size_probe.py").write_text(text)
    return Sizes.of(build(directory / "size_probe.py", directory / "size_probe.wasm",
                          paths=paths))


def _row(label: str, sizes: Sizes, signed: bool) -> str:
    def mb(count: int) -> str:
        return f"{count / 1e6:+.2f}" if signed else f"{count / 1e6:.2f}"

    return f"{label:<32}{mb(sizes.file):>10}{mb(sizes.code):>10}{mb(sizes.data):>10}"


def report(filter_path: Path, result: BuildResult, paths: Sequence[Path] = ()) -> str:
    """The size table of the filter built as `result` (builds one module per import);
    ``paths`` are the build's ``--path`` directories."""
    total = Sizes.of(result)
    found = packages.Packages.from_environment(paths)
    modules = imported_modules(filter_path, found)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        floor = _probe([], workdir, "floor", paths)
        added = {name: _probe([name], workdir, f"import-{index}", paths) - floor
                 for index, name in enumerate(modules)}
    stdlib = toolchain.ensure_cpython().stdlib
    lines = [f"{'MB':<32}{'file':>10}{'code':>10}{'data':>10}",
             _row(filter_path.name, total, signed=False),
             _row("  interpreter + SDK (any filter)", floor, signed=False)]
    lines += [_row(f"  package {found.labels([name])[0]}" if _is_package(name, stdlib)
                   else f"  import {name}", sizes, signed=True)
              for name, sizes in added.items()]
    lines.append(_row("  the filter's own code, shared", total - floor - sum(
        added.values(), Sizes(0, 0, 0)), signed=True))
    return "\n".join(lines)
