"""Which optional C modules a build needs: the module-level import closure of its imports.

Only statements that run when a module is imported are followed (module and class bodies,
including ``try``/``if`` blocks, but of an ``if`` on ``sys.version_info`` or ``sys.platform``
only the branch the runtime takes), not function bodies: a module imported lazily at run time
is not bundled anyway (there is no filesystem in the proxy), so the build need not link it.
The same reading tells ``packages`` which imports a ``try``/``except ImportError`` guards.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from . import runtime_modules
from .toolchain import PYTHON_VERSION

# sys.platform in the runtime, and the comparisons `_runtime_answer` evaluates.
RUNTIME_PLATFORM = "wasi"
_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne}

# Imports inside functions that a module calls while it is being imported, which the scan of
# import-time statements cannot see: hashlib builds its constructors at import time.
_CALLED_AT_IMPORT = {
    "hashlib": ("_md5", "_sha1", "_sha256", "_sha512", "_blake2", "_sha3"),
}


def _module_file(roots: Iterable[Path], name: str) -> tuple[Path, bool] | None:
    """The source of module ``name`` under one of ``roots`` and whether it is a package."""
    relative = Path(*name.split("."))
    for root in roots:
        package = root / relative / "__init__.py"
        if package.is_file():
            return package, True
        module = (root / relative).with_suffix(".py")
        if module.is_file():
            return module, False
    return None


def in_stdlib(stdlib: Path, top: str) -> bool:
    """Whether the top-level module ``top`` is a pure-Python module of the standard library."""
    return (stdlib / f"{top}.py").is_file() or (stdlib / top / "__init__.py").is_file()


def _runtime_answer(test: ast.expr) -> bool | None:
    """What the runtime's interpreter answers to ``sys.version_info <op> (3, N)`` or
    ``sys.platform ==/!= "name"``, the tests packages make to choose an import; None for
    any other test."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    subject, compare = ast.unparse(test.left), _COMPARISONS.get(type(test.ops[0]))
    try:
        value = ast.literal_eval(test.comparators[0])
    except ValueError:
        return None
    if compare is None:
        return None
    if subject == "sys.version_info" and isinstance(value, tuple) and len(value) <= 2:
        return bool(compare(tuple(int(part) for part in PYTHON_VERSION.split(".")), value))
    if subject == "sys.platform" and compare in (operator.eq, operator.ne):
        return bool(compare(RUNTIME_PLATFORM, value))
    return None


def names_import_error(handler: ast.expr | None) -> bool:
    """Whether an ``except`` clause catching ``handler`` guards an import that may fail."""
    if handler is None:
        return True
    text = ast.unparse(handler)
    return "ImportError" in text or "ModuleNotFoundError" in text or text == "Exception"


def _import_time_statements(body: list[ast.stmt], guarded: bool = False) -> Iterator[
        tuple[ast.stmt, bool]]:
    """Statements of ``body`` that run at import time, nested blocks included, each with
    whether a ``try``/``except ImportError`` around it guards its failure."""
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        yield statement, guarded
        if isinstance(statement, ast.ClassDef):
            yield from _import_time_statements(statement.body, guarded)
        elif isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
            yield from _import_time_statements(statement.orelse, guarded)
        elif isinstance(statement, ast.If) and _runtime_answer(statement.test) is not None:
            taken = statement.body if _runtime_answer(statement.test) else statement.orelse
            yield from _import_time_statements(taken, guarded)
        elif isinstance(statement, ast.With):
            yield from _import_time_statements(statement.body, guarded)
        elif isinstance(statement, ast.If | ast.For | ast.While):
            yield from _import_time_statements(statement.body, guarded)
            yield from _import_time_statements(statement.orelse, guarded)
        elif isinstance(statement, ast.Try):
            catches = any(names_import_error(handler.type) for handler in statement.handlers)
            yield from _import_time_statements(statement.body, guarded or catches)
            for handler in statement.handlers:
                yield from _import_time_statements(handler.body, guarded)
            yield from _import_time_statements(statement.orelse, guarded)
            yield from _import_time_statements(statement.finalbody, guarded)


def import_time_imports(tree: ast.Module, package: str) -> Iterator[tuple[str, int, bool]]:
    """(module name, line, guarded) for each module an import-time statement may import;
    ``from package import name`` names both the package and its possible submodule."""
    for statement, guarded in _import_time_statements(tree.body):
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                yield alias.name, statement.lineno, guarded
        elif isinstance(statement, ast.ImportFrom):
            if statement.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - statement.level + 1])
                module = f"{base}.{statement.module}" if statement.module else base
            else:
                module = statement.module or ""
            yield module, statement.lineno, guarded
            for alias in statement.names:
                yield f"{module}.{alias.name}", statement.lineno, guarded


def reached_modules(imports: Iterable[str], roots: Iterable[Path]) -> set[str]:
    """Every module name reachable from ``imports`` through import-time imports."""
    search = list(roots)
    seen: set[str] = set()
    pending = list(imports)
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in seen:
                continue
            seen.add(prefix)
            found = _module_file(search, prefix)
            if found is None:
                continue
            file, is_package = found
            try:
                tree = ast.parse(file.read_bytes(), filename=str(file))
            except SyntaxError:
                continue  # stdlib test data; the filter's own files were checked by bundle
            package = prefix if is_package else prefix.rpartition(".")[0]
            pending.extend(name for name, _, _ in import_time_imports(tree, package))
            pending.extend(_CALLED_AT_IMPORT.get(prefix, ()))
    return seen


def optional_modules(imports: Iterable[str], roots: Iterable[Path]) -> frozenset[str]:
    """The optional C modules (runtime_modules.OPTIONAL_MODULES) the imports reach."""
    return frozenset(reached_modules(imports, roots) & runtime_modules.optional_names())
