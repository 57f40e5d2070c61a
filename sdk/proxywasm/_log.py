"""``proxywasm.log`` and its per-level shortcuts, filtered by the level of ``set_log_level``."""

from __future__ import annotations

from . import _host
from ._state import state
from .types import LogLevel

_TRACE, _DEBUG, _INFO = LogLevel.TRACE, LogLevel.DEBUG, LogLevel.INFO
_WARN, _ERROR, _CRITICAL = LogLevel.WARN, LogLevel.ERROR, LogLevel.CRITICAL



def set_log_level(level: LogLevel) -> None:
    """Drop messages below ``level`` in the module, before they reach the host."""
    state.log_threshold = LogLevel(level)


def log(level: LogLevel, message: str) -> None:
    """Write ``message`` to the proxy log at ``level`` unless ``set_log_level`` filters it."""
    if level >= state.log_threshold:
        _host.log(level, message)


def log_trace(message: str) -> None:
    """Log ``message`` at TRACE."""
    if state.log_threshold <= _TRACE:
        _host.log(_TRACE, message)


def log_debug(message: str) -> None:
    """Log ``message`` at DEBUG."""
    if state.log_threshold <= _DEBUG:
        _host.log(_DEBUG, message)


def log_info(message: str) -> None:
    """Log ``message`` at INFO."""
    if state.log_threshold <= _INFO:
        _host.log(_INFO, message)


def log_warn(message: str) -> None:
    """Log ``message`` at WARN."""
    if state.log_threshold <= _WARN:
        _host.log(_WARN, message)


def log_error(message: str) -> None:
    """Log ``message`` at ERROR."""
    if state.log_threshold <= _ERROR:
        _host.log(_ERROR, message)


def log_critical(message: str) -> None:
    """Log ``message`` at CRITICAL."""
    _host.log(_CRITICAL, message)
