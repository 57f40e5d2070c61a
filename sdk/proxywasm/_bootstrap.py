"""Build-time entry point: the C runtime calls ``initialize(spec)`` inside the snapshotter.

It imports the filter, checks that it registered a context, closes the import system (there is
no filesystem at run time) and freezes the heap so later collections skip the snapshot. On
failure it prints one ``PYWASM-BUILD-ERROR {json}`` line to stderr and raises ``BuildError``.
"""

from __future__ import annotations

import gc
import sys

from . import _contexts, _host, _targets
from ._tb import describe, frames

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType, TracebackType
    from typing import NoReturn

    from ._packages import Placeholders

    Report = dict[str, str | int | None]

MARKER = "PYWASM-BUILD-ERROR "
NOTE_MARKER = "PYWASM-BUILD-NOTE "
_AT_BUILD_TIME = (
    "the filter's module-level code runs at build time, when no proxy is attached; "
    "make host calls from on_vm_start, on_configure or another callback"
)
_SDK_DIR = __file__.rpartition("/")[0] + "/"


class BuildError(Exception):
    """The filter cannot be built; its report line has already been written to stderr."""


class NotBundledFinder:
    """The last meta path finder: names a module that was not imported at build time."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None, /
    ) -> NoReturn:
        """Raise ModuleNotFoundError: nothing can be loaded once the module is built."""
        raise ModuleNotFoundError(
            f"module {fullname} was not imported when the filter was built; import it at "
            "module level in your filter so it is bundled",
            name=fullname,
        )


def initialize(spec: str) -> None:
    """Import the filter described by ``spec`` and prepare the heap for the snapshot.

    ``spec`` has one ``key=value`` per line: ``main=<module>``, then optional ``import=<module>``,
    ``user_root=<dir>`` (the directory of the user's files), ``quirk=<name>`` (a behaviour of a
    target host), ``unavailable=<host function>:<reason>`` (one the build does not link) and
    ``package=<name>`` (a third-party package the filter imports, see ``_packages``); other
    keys are ignored.
    """
    main = ""
    imports: list[str] = []
    packages: set[str] = set()
    user_root = ""
    quirks: set[str] = set()
    unavailable: dict[str, str] = {}
    for line in spec.splitlines():
        key, _, value = line.partition("=")
        if key == "main":
            main = value
        elif key == "import":
            imports.append(value)
        elif key == "user_root":
            user_root = value.rstrip("/") + "/" if value else ""
        elif key == "quirk":
            quirks.add(value)
        elif key == "unavailable":
            function, _, reason = value.partition(":")
            unavailable[function] = reason
        elif key == "package":
            packages.add(value)
    _targets.configure(frozenset(quirks), unavailable)
    host = _host.bound_module()
    _host.bind(None, _AT_BUILD_TIME)
    importing = main
    placeholders = _placeholders(packages, [main, *imports])
    try:
        if not main:
            raise ValueError("the build spec names no main module (a main=<module> line)")
        module = _import(main)
        for importing in imports:
            _import(importing)
    except BaseException as exc:
        report = _describe(exc, user_root)
        report["importing"] = importing
        _fail(report, exc)
    finally:
        _host.bind(host)
        if placeholders is not None:
            sys.meta_path.remove(placeholders)
    for note in placeholders.notes if placeholders is not None else ():
        sys.stderr.write(NOTE_MARKER + _json(note) + "\n")
    if not _contexts.registered():
        file = getattr(module, "__file__", None) or main
        message = (
            f"{file} registers no context: call proxywasm.set_root_context(...) or "
            "proxywasm.set_http_context(...) at module level"
        )
        _fail(_report("no_context", file, None, message, None), None)
    _contexts.prepare()
    sys.path_importer_cache.clear()
    sys.meta_path.append(NotBundledFinder())
    gc.collect()
    gc.freeze()


def _placeholders(packages: set[str], direct: list[str]) -> Placeholders | None:
    """For a filter importing third-party packages: the importer skips C extensions, and the
    packages' modules the filter does not import may become placeholders (``_packages``)."""
    if not packages:
        return None
    from . import _packages

    _packages.skip_c_extensions()
    imported = {".".join(name.split(".")[:depth])
                for name in direct for depth in range(1, name.count(".") + 2)}
    placeholders = _packages.Placeholders(frozenset(packages), frozenset(imported),
                                          _stdlib_importer)
    sys.meta_path.insert(0, placeholders)
    return placeholders


def _import(name: str) -> ModuleType:
    __import__(name)
    return sys.modules[name]


def _report(
    kind: str, file: str | None, line: int | None, message: str, module: str | None
) -> Report:
    return {"kind": kind, "file": file, "line": line, "message": message, "module": module}


def _describe(exc: BaseException, user_root: str) -> Report:
    if isinstance(exc, SyntaxError):
        return _report("syntax", exc.filename, exc.lineno, exc.msg, None)
    file, line = _user_frame(exc.__traceback__, user_root)
    if isinstance(exc, ModuleNotFoundError) and exc.name in sys.stdlib_module_names:
        report = _report("missing_c_module", file, line, str(exc), exc.name)
        report["stdlib_module"] = _stdlib_importer(exc.__traceback__) or exc.name
        return report
    if isinstance(exc, ImportError):
        missing = _missing_name(exc)
        if missing is not None:
            return missing | {"file": file, "line": line}
        return _report("import", file, line, str(exc), exc.name)
    kind = "host_call" if isinstance(exc, _host.NoHostError) else "exception"
    report = _report(kind, file, line, describe(exc), None)
    report["traceback"] = _user_traceback(exc.__traceback__, user_root)
    return report


def _stdlib_importer(tb: TracebackType | None) -> str | None:
    """The outermost standard-library module whose import the traceback went through."""
    while tb is not None:
        frame = tb.tb_frame
        name = str(frame.f_globals.get("__name__", ""))
        if (not frame.f_code.co_filename.startswith("<") and not name.startswith("importlib")
                and name.partition(".")[0] in sys.stdlib_module_names):
            return name
        tb = tb.tb_next
    return None


def _missing_name(exc: ImportError) -> Report | None:
    """For ``from module import name`` of a name the module lacks: that name, and the names the
    module has (the build suggests the closest)."""
    text = str(exc)
    if not text.startswith("cannot import name '") or exc.name not in sys.modules:
        return None
    name = text.split("'")[1]
    report = _report("missing_name", None, None, f"'{name}' is not in '{exc.name}'", exc.name)
    report["name"] = name
    report["candidates"] = " ".join(
        key for key in vars(sys.modules[exc.name]) if not key.startswith("_"))
    return report


def _user_traceback(tb: TracebackType | None, user_root: str) -> str:
    """``file:line in function`` for each frame of the user's own files, outermost first."""
    return "\n".join(f"{file}:{line} in {function}" for file, line, function in frames(tb)
                     if _is_user_file(file, user_root))


def _is_user_file(file: str, user_root: str) -> bool:
    if user_root:
        return file.startswith(user_root)
    system = (sys.prefix + "/", sys.base_prefix + "/", sys.exec_prefix + "/")
    return not file.startswith(("<", _SDK_DIR, *system))


def _user_frame(tb: TracebackType | None, user_root: str) -> tuple[str | None, int | None]:
    """Return the innermost frame in the user's own files (not the stdlib, not this SDK)."""
    for file, line, _ in reversed(frames(tb)):
        if _is_user_file(file, user_root):
            return file, line
    return None, None


def _json(report: Report) -> str:
    """``report`` as JSON without importing json, whose C modules a build may not link."""
    fields = (f"{_json_value(key)}: {_json_value(value)}" for key, value in report.items())
    return "{" + ", ".join(fields) + "}"


def _json_value(value: str | int | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    escaped = "".join(
        char if char >= " " and char not in '"\\' else f"\\u{ord(char):04x}" for char in value
    )
    return f'"{escaped}"'


def _fail(report: Report, cause: BaseException | None) -> NoReturn:
    sys.stderr.write(MARKER + _json(report) + "\n")
    sys.stderr.flush()
    raise BuildError(str(report["message"])) from cause
