"""What the source engine puts around a callback so that it fails as in the built module.

In the module (runtime/limits.c) ``os._exit`` and ``os.abort`` raise SystemExit, the recursion
limit is capped at the depth the WebAssembly stacks hold, and a callback that loops too long
raises ``CallbackTimeout`` where it loops. Here the same holds for the test's interpreter:
the exits raise, ``sys.setrecursionlimit`` is capped at CPython's default, and a timer (not a
count: this interpreter is not instrumented) raises ``CallbackTimeout`` after
``SOURCE_BUDGET_SECONDS``, unless a debugger is tracing.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

from ..errors import CallbackTimeout

RECURSION_CAP = 1000
SOURCE_BUDGET_SECONDS = 2.0

_depth = 0


def _exit(status: int) -> NoReturn:
    """os._exit in a callback: a filter cannot end the proxy's process."""
    error = SystemExit(status)
    error.add_note("os._exit() cannot end the proxy's process: the callback fails instead")
    raise error


def _abort() -> NoReturn:
    """os.abort in a callback: a filter cannot end the proxy's process."""
    error = SystemExit(None)
    error.add_note("os.abort() cannot end the proxy's process: the callback fails instead")
    raise error


def _setrecursionlimit(limit: int) -> None:
    """sys.setrecursionlimit, at most RECURSION_CAP (the module caps at its measured depth)."""
    _original_setrecursionlimit(min(limit, RECURSION_CAP))


_original_setrecursionlimit = sys.setrecursionlimit


def _timed_out(signum: int, frame: FrameType | None) -> NoReturn:
    raise CallbackTimeout(
        f"the callback ran past the source engine's budget of {SOURCE_BUDGET_SECONDS:g} s; "
        "a callback must return quickly"
    )


@contextmanager
def guarded() -> Iterator[None]:
    """Run one callback (the outermost of nested ones) with the stand-ins and the timer."""
    global _depth
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    saved = os._exit, os.abort, sys.setrecursionlimit, sys.getrecursionlimit()
    timer = threading.current_thread() is threading.main_thread() and sys.gettrace() is None
    previous = signal.signal(signal.SIGALRM, _timed_out) if timer else None
    os._exit, os.abort, sys.setrecursionlimit = _exit, _abort, _setrecursionlimit
    _depth = 1
    try:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, SOURCE_BUDGET_SECONDS)
        yield
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        _depth = 0
        os._exit, os.abort, sys.setrecursionlimit = saved[:3]
        _original_setrecursionlimit(saved[3])
