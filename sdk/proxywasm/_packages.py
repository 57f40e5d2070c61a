"""Build time only: third-party packages imported the way a wasm module can run them.

A wasm module cannot load native code, so the importer skips C extensions as if they were
absent: a package whose speedup is optional (imported under ``try``/``except ImportError``)
takes its pure-Python fallback. A package may also import, for a feature no filter can use, a
standard-library module that needs a C module the runtime lacks (PyJWT's JWKS client imports
``http.client``, which needs ``_socket``). Such a module of the package, when the filter does
not import it itself, is kept as a placeholder whose names raise ImportError when used, and
the build prints a note saying so.
"""

from __future__ import annotations

import _frozen_importlib_external as _external
import sys

from ._tb import frames

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec
    from types import ModuleType, TracebackType

    Note = dict[str, str | int | None]

_KEPT = frozenset({"__name__", "__doc__", "__file__", "__spec__", "__loader__", "__package__",
                   "__path__"})


def skip_c_extensions() -> None:
    """Make the importer find only Python source and bytecode files."""
    sys.path_hooks[:] = [hook for hook in sys.path_hooks
                         if "FileFinder" not in getattr(hook, "__qualname__", "")]
    sys.path_hooks.append(_external.FileFinder.path_hook(
        (_external.SourceFileLoader, _external.SOURCE_SUFFIXES),
        (_external.SourcelessFileLoader, _external.BYTECODE_SUFFIXES)))
    sys.path_importer_cache.clear()


class Placeholders:
    """First on ``sys.meta_path`` while the filter is imported: the modules of ``packages``
    that the filter does not import itself (``direct``) become placeholders when their import
    needs a C module the runtime lacks; ``notes`` says which, why and where."""

    def __init__(self, packages: frozenset[str], direct: frozenset[str],
                 stdlib_importer: Callable[[TracebackType | None], str | None]) -> None:
        self._packages = packages
        self._direct = direct
        self._stdlib_importer = stdlib_importer
        self.notes: list[Note] = []

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None, /) -> ModuleSpec | None:
        """The path finder's spec, its loader wrapped, for a module that may become one."""
        if fullname.partition(".")[0] not in self._packages or fullname in self._direct:
            return None
        spec = _external.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _Loader(spec.loader, self)  # type: ignore[assignment]
        return spec

    def fail(self, module: ModuleType, error: ModuleNotFoundError, before: set[str]) -> None:
        """Turn the half-imported ``module`` into a placeholder and forget the modules its
        import brought (``before``: the names imported until then), or re-raise ``error``."""
        if error.name not in sys.stdlib_module_names:
            raise error
        for name in set(sys.modules) - before - {module.__name__}:
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent in before and getattr(sys.modules[parent], child, None) is not None:
                delattr(sys.modules[parent], child)
        file = str(getattr(module, "__file__", ""))
        line = next((number for name, number, _ in reversed(frames(error.__traceback__))
                     if name == file), None)
        needed = self._stdlib_importer(error.__traceback__) or error.name
        lacking = (f"'{error.name}', a standard-library module the pywasm-filter runtime does "
                   "not include")
        reason = f"importing {module.__name__} needs " + (
            lacking if needed == error.name else f"'{needed}', which needs {lacking}")
        self.notes.append({"module": module.__name__, "file": file, "line": line,
                           "reason": reason})
        for key in [key for key in vars(module) if key not in _KEPT]:
            delattr(module, key)
        module.__getattr__ = _unavailable_names(module.__name__, reason)  # type: ignore[method-assign]


class _Loader:
    """A module's own loader that hands an import failure to ``Placeholders.fail``."""

    def __init__(self, loader: Loader, placeholders: Placeholders) -> None:
        self._loader = loader
        self._placeholders = placeholders

    def __getattr__(self, name: str) -> object:
        return getattr(self._loader, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        """The module object the module's own loader creates."""
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Run the module; a missing C module of the runtime makes it a placeholder."""
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        before = set(sys.modules)
        try:
            self._loader.exec_module(module)
        except ModuleNotFoundError as error:
            self._placeholders.fail(module, error, before)


def _unavailable_names(module: str, reason: str) -> Callable[[str], type]:
    """The placeholder's ``__getattr__``: each name is a class that raises when called."""

    def placeholder_attribute(name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        message = f"{module}.{name} is not available in a filter: {reason}"

        def refuse(cls: type, *args: object, **kwargs: object) -> object:
            raise ImportError(message, name=module)

        return type(name, (), {"__new__": refuse, "__doc__": message, "__module__": module})

    return placeholder_attribute
