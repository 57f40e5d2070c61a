"""Third-party packages a filter imports: where the build finds them, and whether they can run.

A module that is neither the filter's own, the SDK's nor the standard library's is looked up in
the directories given with ``--path``, then in the running interpreter's ``sys.path`` beyond the
standard library: its virtualenv or site-packages and ``PYTHONPATH``, i.e. where ``pip install``
put it. The build-time interpreter imports it from there as it imports the standard library, so
a module carries what the filter's imports reach and nothing else.

A wasm module cannot load native code: a package that imports a C extension (``.so``, ``.pyd``)
without guarding the import (``try``/``except ImportError``) is refused before the build runs.
A guarded one is an optional speedup; the build-time interpreter does not see C extensions, so
the package takes its pure-Python fallback.
"""

from __future__ import annotations

import ast
import sys
import sysconfig
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from . import runtime_modules, stdlib_closure
from .errors import FilterSourceError, PywasmFilterError

EXTENSION_SUFFIXES = (".so", ".pyd")
# Import names whose distribution on PyPI is named otherwise, for the "not installed" fix.
_DISTRIBUTIONS = {"jwt": "pyjwt", "yaml": "pyyaml", "dateutil": "python-dateutil",
                  "jose": "python-jose", "bs4": "beautifulsoup4"}
Sites = Mapping[str, tuple[Path, int]]


@dataclass(frozen=True)
class Module:
    """Where one third-party module's code is: a .py file, a C extension or (None) a namespace
    package's directories."""

    name: str
    file: Path | None

    @property
    def is_extension(self) -> bool:
        """Whether the module is native code, which a wasm module cannot load."""
        return self.file is not None and self.file.suffix in EXTENSION_SUFFIXES

    @property
    def is_package(self) -> bool:
        """Whether the module is a package (its submodules live beside its __init__)."""
        return self.file is None or self.file.name.startswith("__init__.")


def _extension(directory: Path, stem: str) -> Path | None:
    """The C extension file for module ``stem`` in ``directory`` (``stem.so``,
    ``stem.cpython-311-x86_64-linux-gnu.so``, ``stem.pyd``...), if any."""
    for suffix in EXTENSION_SUFFIXES:
        for candidate in (directory / f"{stem}{suffix}", *directory.glob(f"{stem}.*{suffix}")):
            if candidate.is_file():
                return candidate
    return None


def _find_in(directories: Sequence[Path], part: str) -> tuple[Path | None, list[Path]] | None:
    """Module ``part`` in the first of ``directories`` that has it, in the order CPython looks
    (package, extension, source); (None, portions) for a namespace package, None if absent."""
    portions: list[Path] = []
    for directory in directories:
        package = directory / part
        if package.is_dir():
            init = _extension(package, "__init__") or package / "__init__.py"
            if init.is_file():
                return init, []
        found = _extension(directory, part) or directory / f"{part}.py"
        if found.is_file():
            return found, []
        if package.is_dir():
            portions.append(package)
    return (None, portions) if portions else None


@dataclass(frozen=True)
class Packages:
    """The directories the build looks in for third-party modules, in order."""

    roots: tuple[Path, ...]

    @classmethod
    def from_environment(cls, extra: Sequence[Path] = (), own: Path | None = None) -> Packages:
        """``extra`` (``--path``), then the running interpreter's ``sys.path`` entries that are
        directories beyond the standard library; not ``own``, the filter's directory, whose
        modules are the filter's own files."""
        roots: list[Path] = []
        for directory in extra:
            if not directory.is_dir():
                raise PywasmFilterError(
                    f"--path {directory}: error: no such directory\n  fix: give a directory "
                    "holding Python packages, e.g. one `pip install --target DIR` filled")
            roots.append(directory.resolve())
        stdlib = {Path(sysconfig.get_path(name)).resolve() for name in ("stdlib", "platstdlib")}
        for entry in sys.path:
            path = Path(entry or ".").resolve()
            if path.is_dir() and path not in stdlib and path.name != "lib-dynload":
                roots.append(path)
        return cls(tuple(root for root in dict.fromkeys(roots) if root != own))

    def find(self, name: str) -> Module | None:
        """Where the third-party module ``name`` is, or None if no root has it."""
        directories = list(self.roots)
        parts = name.split(".")
        for depth, part in enumerate(parts):
            found = _find_in(directories, part)
            if found is None:
                return None
            file, portions = found
            if depth == len(parts) - 1:
                return Module(name, file)
            if file is None:
                directories = portions
            elif file.name == "__init__.py":
                directories = [file.parent]
            else:
                return None
        return None

    def check(self, sites: Sites, stdlib: Path) -> list[str]:
        """The top-level third-party packages the filter's imports (``sites``) reach through
        import-time imports; a C extension imported without a guard is a FilterSourceError
        at the filter's import that leads to it."""
        reached: list[str] = []
        seen: set[str] = set()
        pending = deque((name, site, site) for name, site in sites.items())
        while pending:
            name, site, importer = pending.popleft()
            if not is_third_party(name.partition(".")[0], stdlib):
                continue
            for module in self._prefixes(name, seen):
                if module.is_extension:
                    raise _refusal(module, site, importer)
                top = module.name.partition(".")[0]
                if top not in reached:
                    reached.append(top)
                for imported, line, guarded in _imports(module):
                    if not guarded and module.file is not None:
                        pending.append((imported, site, (module.file, line)))
        return reached

    def _prefixes(self, name: str, seen: set[str]) -> Iterator[Module]:
        """The modules ``import name`` loads (each package on the way), first time seen."""
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in seen:
                continue
            module = self.find(prefix)
            if module is None:
                return  # an attribute of `from package import name`, or not installed
            seen.add(prefix)
            yield module

    def labels(self, tops: Sequence[str]) -> list[str]:
        """``name (Distribution version)`` for each top-level module (just the name when no
        installed distribution provides it)."""
        provided = self.distributions() if tops else {}
        return [f"{top} ({provided[top]})" if top in provided else top for top in tops]

    def distributions(self) -> dict[str, str]:
        """Top-level module name -> "Distribution version" of what is installed in the roots."""
        found: dict[str, str] = {}
        for distribution in metadata.distributions(path=[str(root) for root in self.roots]):
            label = f"{distribution.metadata['Name']} {distribution.version}"
            tops = (distribution.read_text("top_level.txt") or "").split()
            if not tops:
                tops = [Path(str(file)).parts[0].removesuffix(".py")
                        for file in distribution.files or ()
                        if not str(file).startswith(("..", "/")) and ".dist-info" not in str(file)]
            for top in tops:
                found.setdefault(top, label)
        return found


def is_third_party(top: str, stdlib: Path) -> bool:
    """Whether the top-level module ``top`` is neither the standard library's nor a C module
    of the runtime (the filter's own files are told apart before)."""
    return not (top in sys.stdlib_module_names or stdlib_closure.in_stdlib(stdlib, top)
                or top in runtime_modules.builtin_module_names())


def _imports(module: Module) -> Iterator[tuple[str, int, bool]]:
    """(name, line, guarded) of the module's import-time imports (none for a namespace
    package, or a file that does not parse: the build-time import reports that)."""
    if module.file is None:
        return
    try:
        tree = ast.parse(module.file.read_bytes(), filename=str(module.file))
    except (SyntaxError, ValueError):
        return
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    yield from stdlib_closure.import_time_imports(tree, package)


def _refusal(module: Module, site: tuple[Path, int], importer: tuple[Path, int]) -> \
        FilterSourceError:
    top = module.name.partition(".")[0]
    where = "" if importer == site else f", imported at {importer[0]}:{importer[1]}"
    return FilterSourceError(
        site[0], site[1],
        f"package '{top}' needs the C extension {module.file}{where}: a wasm module cannot "
        "load native code",
        f"use a pure-Python alternative to '{top}', or a C module the pywasm-filter runtime "
        "has (docs/guide.md lists them); a package that imports its C speedups inside "
        "try/except ImportError works through its pure-Python fallback")


def not_installed(top: str) -> tuple[str, str]:
    """(message, fix) for a module found nowhere the build looks."""
    distribution = _DISTRIBUTIONS.get(top, top)
    return (f"module '{top}' was not found",
            f"install it where pywasm-filter runs ({sys.executable} -m pip install "
            f"{distribution}), or give the directory holding it with --path DIR, or put "
            f"'{top}' beside the filter")
