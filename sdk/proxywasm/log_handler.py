"""Send standard ``logging`` records to the proxy log; import this only if you use ``logging``.

``install()`` attaches a ``ProxyLogHandler`` to a logger and keeps that logger's level in step
with the host's, so a record the host would drop is refused by ``Logger.isEnabledFor`` before
it is even built. The host level is read again at each emitted record and by ``refresh_level``.
Where the module does not link ``proxy_get_log_level`` (a target host, Nginx WasmX, lacks it),
every record goes to the host, which drops those below its own level.
"""

from __future__ import annotations

import logging

from . import hostcalls
from .errors import HostCallUnavailableError
from .types import LogLevel

_TO_LOGGING: dict[int, int] = {
    LogLevel.TRACE: 1,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARN: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
    LogLevel.CRITICAL: logging.CRITICAL,
}


def proxy_level(levelno: int) -> LogLevel:
    """Map a ``logging`` level number to the proxy log level (below DEBUG is TRACE)."""
    if levelno >= logging.CRITICAL:
        return LogLevel.CRITICAL
    if levelno >= logging.ERROR:
        return LogLevel.ERROR
    if levelno >= logging.WARNING:
        return LogLevel.WARN
    if levelno >= logging.INFO:
        return LogLevel.INFO
    if levelno >= logging.DEBUG:
        return LogLevel.DEBUG
    return LogLevel.TRACE


def logging_level(level: int) -> int:
    """Map a proxy log level to the lowest ``logging`` level number it lets through."""
    return _TO_LOGGING.get(level, logging.CRITICAL)


class ProxyLogHandler(logging.Handler):
    """A ``logging`` handler that writes each record to the proxy log at the matching level.

    With ``track`` set (as ``install`` does), it also sets that logger's level from the host's.
    """

    def __init__(self, level: int = logging.NOTSET, track: logging.Logger | None = None) -> None:
        super().__init__(level)
        self._track = track
        self._host_level: int | None = None
        self._level_unknown = False

    def refresh_level(self) -> int:
        """Read the host's log level, update the tracked logger's level, and return it."""
        if self._level_unknown:
            return LogLevel.TRACE
        try:
            host_level = hostcalls.get_log_level()
        except HostCallUnavailableError:
            self._level_unknown = True
            return LogLevel.TRACE
        if host_level != self._host_level:
            self._host_level = host_level
            if self._track is not None:
                self._track.setLevel(logging_level(host_level))
        return host_level

    def emit(self, record: logging.LogRecord) -> None:
        """Format ``record`` and log it, unless the host's level drops it."""
        try:
            level = proxy_level(record.levelno)
            if level >= self.refresh_level():
                hostcalls.log(level, self.format(record))
        except Exception:
            self.handleError(record)


def install(
    logger: logging.Logger | None = None, fmt: str = "%(name)s: %(message)s"
) -> ProxyLogHandler:
    """Route ``logger`` (the root logger by default) to the proxy log and track the host level.

    Call it at module level; the logger lets everything through until the first record
    tells it the host's level (no host call can be made at build time).
    """
    target = logger if logger is not None else logging.getLogger()
    handler = ProxyLogHandler(track=target)
    handler.setFormatter(logging.Formatter(fmt))
    target.addHandler(handler)
    target.setLevel(1)
    return handler
