"""``proxywasm.log`` and its per-level shortcuts, filtered by the level of ``set_log_level``."""

from __future__ import annotations

from . import _host
from ._state import state
from .hostcalls import method
from .types import LogLevel


def set_log_level(level: LogLevel) -> None:
    """Drop messages below ``level`` in the module, before they reach the host."""
    state.log_threshold = LogLevel(level)


def log(level: LogLevel, message: str) -> None:
    """Write ``message`` to the proxy log at ``level`` unless ``set_log_level`` filters it."""
    # The host call itself, not hostcalls.log: a second Python frame would cost every log line
    # about 1.5k wasmtime fuel.
    if level >= state.log_threshold:
        _host.log(level, message)


log_trace = method(LogLevel.TRACE, log)
"""Log ``message`` at TRACE."""

log_debug = method(LogLevel.DEBUG, log)
"""Log ``message`` at DEBUG."""

log_info = method(LogLevel.INFO, log)
"""Log ``message`` at INFO."""

log_warn = method(LogLevel.WARN, log)
"""Log ``message`` at WARN."""

log_error = method(LogLevel.ERROR, log)
"""Log ``message`` at ERROR."""

log_critical = method(LogLevel.CRITICAL, log)
"""Log ``message`` at CRITICAL."""
