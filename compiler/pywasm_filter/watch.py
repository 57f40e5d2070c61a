"""Notice edits to a filter's files by polling their modification times (no extra dependency)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import bundle

_SKIPPED_DIRECTORIES = ("__pycache__", ".venv", "node_modules")
# How long the files must stay unchanged before a change is reported: a save can be several
# writes (truncate, then write), and a build started in between would be followed by another.
SETTLE_SECONDS = 0.3


def _python_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts[:-1]
        if not any(part.startswith(".") or part in _SKIPPED_DIRECTORIES for part in parts):
            yield path


def watched_files(filter_path: Path, extra: Iterable[Path] = ()) -> list[Path]:
    """The files whose change calls for a rebuild: a .wasm itself, or every .py the filter's
    directory (or package) holds, plus `extra` (e.g. the plugin configuration file)."""
    if filter_path.suffix == ".wasm":
        files = [filter_path.resolve()]
    else:
        files = sorted(_python_files(bundle.locate(filter_path).user_root))
    return files + [path.resolve() for path in extra]


class Watcher:
    """Remembers modification times and reports when a watched file changed, appeared or went."""

    def __init__(self, filter_path: Path, extra: Iterable[Path] = ()) -> None:
        self._filter_path = filter_path
        self._extra = list(extra)
        self._seen = self._stamps()

    def _stamps(self) -> dict[Path, int | None]:
        stamps: dict[Path, int | None] = {}
        for path in watched_files(self._filter_path, self._extra):
            try:
                stamps[path] = path.stat().st_mtime_ns
            except FileNotFoundError:
                stamps[path] = None
        return stamps

    def changed(self) -> bool:
        """Whether anything changed since the last call (or since creation), once it settled."""
        current = self._stamps()
        if current == self._seen:
            return False
        while True:
            time.sleep(SETTLE_SECONDS)
            latest = self._stamps()
            if latest == current:
                break
            current = latest
        self._seen = current
        return True
