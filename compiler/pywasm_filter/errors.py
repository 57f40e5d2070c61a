"""Errors the CLI reports to the user: each says what went wrong, where, and how to fix it."""

from __future__ import annotations

from pathlib import Path


class PywasmFilterError(Exception):
    """A failure the user can act on; the CLI prints it and exits with status 1."""


class FilterSourceError(PywasmFilterError):
    """The filter's source cannot be built: a problem located at a file and line.

    Found before the filter runs; a filter failing while it runs in the emulator is
    ``proxywasm.testing.FilterError`` instead.
    """

    def __init__(self, file: Path | str, line: int | None, message: str, fix: str = "") -> None:
        self.file = str(file)
        self.line = line
        self.message = message
        self.fix = fix
        where = f"{self.file}:{line}" if line else self.file
        text = f"{where}: error: {message}"
        if fix:
            text += f"\n  fix: {fix}"
        super().__init__(text)


class ToolchainError(PywasmFilterError):
    """The C toolchain or the CPython download failed; carries the tool's own output."""
