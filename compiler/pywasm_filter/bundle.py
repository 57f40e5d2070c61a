"""What goes into a module: the filter's own files, the SDK, and the stdlib modules and
third-party packages (``packages``) they import.

Imports are checked on the host before the interpreter runs, so a missing module or a C
extension the runtime lacks is reported at the import statement's file and line. Every module
the filter's own files import, including inside functions, is imported at build time, because
a built module has no filesystem to import from later.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import packages, runtime_modules, stdlib_closure
from .errors import FilterSourceError

SDK_PACKAGE = "proxywasm"
# SDK parts that only run on the developer's machine, never inside a module.
SDK_HOST_ONLY = ("testing",)


@dataclass(frozen=True)
class FilterSource:
    """A filter as the build sees it: where it lives and how it is imported."""

    path: Path
    module: str
    search_root: Path
    user_root: Path

    @property
    def is_package(self) -> bool:
        """Whether the filter is a package directory rather than a single file."""
        return self.path.is_dir()


def locate(path: Path) -> FilterSource:
    """Resolve FILTER.py or a package directory into a FilterSource, or explain what is wrong."""
    path = path.resolve()
    if not path.exists():
        raise FilterSourceError(path, None, "no such file or directory",
                                "give the path of a filter .py file or a package directory")
    if path.is_dir():
        if not (path / "__init__.py").is_file():
            raise FilterSourceError(path, None, "this directory is not a Python package",
                                    "add an __init__.py that registers the filter's contexts")
        return FilterSource(path, path.name, path.parent, path)
    if path.suffix != ".py":
        raise FilterSourceError(path, None, "a filter must be a .py file or a package directory",
                                "rename the file to end in .py")
    if not path.stem.isidentifier():
        raise FilterSourceError(path, None, f"'{path.stem}' is not a valid Python module name",
                                "rename the file to letters, digits and underscores")
    return FilterSource(path, path.stem, path.parent, path.parent)


@dataclass
class _Scan:
    source: FilterSource
    stdlib: Path
    found: packages.Packages
    seen_files: set[Path] = field(default_factory=set)
    sites: dict[str, tuple[Path, int]] = field(default_factory=dict)


def _parse(file: Path) -> ast.Module:
    try:
        return ast.parse(file.read_bytes(), filename=str(file))
    except SyntaxError as error:
        raise FilterSourceError(file, error.lineno, f"syntax error: {error.msg}",
                                "fix the Python syntax at this line") from None


def _guarded(tree: ast.Module) -> set[int]:
    """ids of import nodes the filter guards itself (try/except ImportError, TYPE_CHECKING)."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        inner: list[ast.stmt] = []
        if isinstance(node, ast.Try) and any(
            stdlib_closure.names_import_error(handler.type) for handler in node.handlers
        ):
            inner = node.body
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inner = node.body
        for statement in inner:
            guarded.update(id(child) for child in ast.walk(statement))
    return guarded


def _imports(file: Path, tree: ast.Module, package: str | None) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) for each import statement the build must satisfy."""
    guarded = _guarded(tree)
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    raise FilterSourceError(
                        file, node.lineno, "relative import outside a package",
                        "use an absolute import, or build the package directory")
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            yield name, node.lineno


def _user_file(scan: _Scan, name: str) -> Path | None:
    """The user's file for module `name`, if it lives under the filter's root."""
    candidate = scan.source.search_root.joinpath(*name.split("."))
    for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
        if path.is_file() and path.resolve().is_relative_to(scan.source.user_root):
            return path
    return None


def _check_module(scan: _Scan, file: Path, line: int, name: str) -> None:
    parts = name.split(".")
    top = parts[0]
    if top == SDK_PACKAGE and len(parts) > 1 and parts[1] in SDK_HOST_ONLY:
        raise FilterSourceError(file, line,
                                f"'{name}' is for tests on your machine, not for filters",
                                "import it only from your tests")
    if top == SDK_PACKAGE or top in runtime_modules.builtin_module_names():
        return
    if stdlib_closure.in_stdlib(scan.stdlib, top) or _user_file(scan, top) is not None:
        return
    if top in sys.stdlib_module_names:
        raise FilterSourceError(file, line, *runtime_modules.lacking(top, top))
    if scan.found.find(top) is None:
        raise FilterSourceError(file, line, *packages.not_installed(top))


def _visit(scan: _Scan, file: Path, module: str) -> None:
    if file in scan.seen_files:
        return
    scan.seen_files.add(file)
    package = module if file.name == "__init__.py" else module.rpartition(".")[0] or None
    for name, line in _imports(file, _parse(file), package):
        _check_module(scan, file, line, name)
        scan.sites.setdefault(name, (file, line))
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            user_file = _user_file(scan, prefix)
            if user_file is not None:
                _visit(scan, user_file, prefix)


def scan_imports(source: FilterSource, stdlib: Path,
                 found: packages.Packages | None = None) -> list[str]:
    """Check every import of the filter's own files and list the modules they name."""
    return list(import_sites(source, stdlib, found))


def import_sites(source: FilterSource, stdlib: Path,
                 found: packages.Packages | None = None) -> dict[str, tuple[Path, int]]:
    """Check every import of the filter's own files: each module they name, in order, with
    the file and line of its first import. Third-party modules are looked up in ``found``
    (default: the running interpreter's environment)."""
    scan = _Scan(source, stdlib, found or packages.Packages.from_environment())
    main = source.path / "__init__.py" if source.is_package else source.path
    _visit(scan, main, source.module)
    if source.is_package:
        for file in sorted(source.path.rglob("*.py")):
            relative = file.relative_to(source.search_root).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            _visit(scan, file, ".".join(parts))
    return scan.sites
