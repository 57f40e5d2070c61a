"""Which optional C modules a build needs: the module-level import closure of its imports.

Only statements that run when a module is imported are followed (module and class bodies,
including ``try``/``if`` blocks), not function bodies: a module imported lazily at run time is
not bundled anyway (there is no filesystem in the proxy), so the build need not link it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import runtime_modules

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


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of ``body`` that run at import time, nested blocks included."""
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        yield statement
        if isinstance(statement, ast.ClassDef):
            yield from _import_time_statements(statement.body)
        elif isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
            yield from _import_time_statements(statement.orelse)
        elif isinstance(statement, ast.With):
            yield from _import_time_statements(statement.body)
        elif isinstance(statement, ast.If | ast.For | ast.While):
            yield from _import_time_statements(statement.body)
            yield from _import_time_statements(statement.orelse)
        elif isinstance(statement, ast.Try):
            yield from _import_time_statements(statement.body)
            for handler in statement.handlers:
                yield from _import_time_statements(handler.body)
            yield from _import_time_statements(statement.orelse)
            yield from _import_time_statements(statement.finalbody)


def _imports(tree: ast.Module, package: str) -> Iterator[str]:
    for statement in _import_time_statements(tree.body):
        if isinstance(statement, ast.Import):
            yield from (alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            if statement.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - statement.level + 1])
                module = f"{base}.{statement.module}" if statement.module else base
            else:
                module = statement.module or ""
            yield module
            # `from package import name` may import the submodule package.name.
            yield from (f"{module}.{alias.name}" for alias in statement.names)


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
            pending.extend(_imports(tree, package))
            pending.extend(_CALLED_AT_IMPORT.get(prefix, ()))
    return seen


def optional_modules(imports: Iterable[str], roots: Iterable[Path]) -> frozenset[str]:
    """The optional C modules (runtime_modules.OPTIONAL_MODULES) the imports reach."""
    return frozenset(reached_modules(imports, roots) & runtime_modules.optional_names())
