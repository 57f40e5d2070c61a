"""Set-up done once at run time, when the first root context is created (never at build time).

The snapshot froze the ``random`` state and wired ``print`` to raw WASI writes; this reseeds the
former and sends ``sys.stdout``/``sys.stderr`` to the proxy log one line at a time.
"""

from __future__ import annotations

import io
import sys

from . import _host
from ._state import state
from .types import LogLevel

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

_saved: tuple[TextIO, TextIO] | None = None


class LogWriter(io.TextIOBase):
    """A text stream that sends each complete line to the proxy log at one level."""

    def __init__(self, level: LogLevel) -> None:
        super().__init__()
        self._level = level
        self._pending = ""

    encoding = "utf-8"

    def writable(self) -> bool:
        """Return True: this stream can be written."""
        return True

    def write(self, text: str) -> int:
        """Buffer ``text`` and log every line it completes."""
        if "\n" not in text:
            self._pending += text
            return len(text)
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            _host.log(self._level, line)
        return len(text)

    def flush(self) -> None:
        """Log the pending partial line, if any."""
        if self._pending:
            line, self._pending = self._pending, ""
            _host.log(self._level, line)


def vm_started() -> None:
    """Reseed ``random`` and route stdout/stderr to the proxy log; runs once per VM."""
    global _saved
    if state.started:
        return
    state.started = True
    random = sys.modules.get("random")
    if random is not None:
        random.seed()
    _saved = (sys.stdout, sys.stderr)
    sys.stdout = LogWriter(LogLevel.INFO)
    sys.stderr = LogWriter(LogLevel.ERROR)


def reset() -> None:
    """Undo ``vm_started`` (restore stdout/stderr) so it runs again; for tests and emulators."""
    global _saved
    if _saved is not None:
        sys.stdout, sys.stderr = _saved
        _saved = None
    state.started = False
