"""Build-time entry point: the C runtime calls ``initialize(spec)`` inside the snapshotter.

It imports the filter, checks that it registered a context, closes the import system (there is
no filesystem at run time) and freezes the heap so later collections skip the snapshot. On
failure it prints one ``PYWASM-BUILD-ERROR {json}`` line to stderr and raises ``BuildError``.
"""

from __future__ import annotations

import gc
import sys

from . import _dispatch, _host, _targets
from ._tb import describe, frames

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType, TracebackType
    from typing import NoReturn

    Report = dict[str, str | int | None]

MARKER = "PYWASM-BUILD-ERROR "
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
    target host) and ``unavailable=<host function>:<reason>`` (one the build does not link);
    other keys are ignored.
    """
    main = ""
    imports: list[str] = []
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
    _targets.configure(frozenset(quirks), unavailable)
    host = _host.bound_module()
    _host.bind(None, _AT_BUILD_TIME)
    try:
        if not main:
            raise ValueError("the build spec names no main module (a main=<module> line)")
        module = _import(main)
        for name in imports:
            _import(name)
    except BaseException as exc:
        _fail(_describe(exc, user_root), exc)
    finally:
        _host.bind(host)
    if not _dispatch.registered():
        file = getattr(module, "__file__", None) or main
        message = (
            f"{file} registers no context: call proxywasm.set_root_context(...) or "
            "proxywasm.set_http_context(...) at module level"
        )
        _fail(_report("no_context", file, None, message, None), None)
    _dispatch.prepare()
    sys.path_importer_cache.clear()
    sys.meta_path.append(NotBundledFinder())
    gc.collect()
    gc.freeze()


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
    if isinstance(exc, ImportError):
        return _report("import", file, line, str(exc), exc.name)
    return _report("exception", file, line, describe(exc), None)


def _user_frame(tb: TracebackType | None, user_root: str) -> tuple[str | None, int | None]:
    """Return the innermost frame in the user's own files (not the stdlib, not this SDK)."""
    system = tuple({sys.prefix + "/", sys.base_prefix + "/", sys.exec_prefix + "/"})
    for file, line, _ in reversed(frames(tb)):
        if user_root:
            if file.startswith(user_root):
                return file, line
        elif not file.startswith(("<", _SDK_DIR, *system)):
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
