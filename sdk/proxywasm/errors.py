"""Exceptions raised when a host call fails (one class per failure status that callers handle),
when a callback runs out of its execution budget, and the one a filter raises to refuse its
configuration."""

from __future__ import annotations

from . import _targets
from .types import Status


class HostCallError(Exception):
    """A host call returned a failure status; ``status`` and ``function`` say which and where."""

    status: Status | int
    function: str

    def __init__(self, status: Status | int, function: str) -> None:
        known = status in _STATUS_VALUES
        self.status = Status(status) if known else status
        self.function = function
        name = self.status.name if isinstance(self.status, Status) else f"status {status}"
        called = function if function.startswith("proxy_") else f"proxy_{function}"
        hint = _HINTS.get((called, self.status)) or _STATUS_HINTS.get(self.status, "")
        super().__init__(f"{called} failed with {name}" + (f": {hint}" if hint else ""))


class NotFoundError(HostCallError):
    """The host has no such key, property, queue, context or token (NOT_FOUND)."""


class BadArgumentError(HostCallError):
    """The host rejected an argument (BAD_ARGUMENT): an unknown name or a malformed value."""


class SerializationError(HostCallError):
    """The host could not serialize the value asked for (SERIALIZATION_FAILURE)."""


class ParseError(HostCallError):
    """The host could not parse what it was given (PARSE_FAILURE)."""


class InvalidMemoryAccessError(HostCallError):
    """The host could not read or write the module's memory (INVALID_MEMORY_ACCESS)."""


class EmptyError(HostCallError):
    """The shared queue had nothing to dequeue (EMPTY)."""


class CasMismatchError(HostCallError):
    """Shared data changed since it was read (CAS_MISMATCH): read it again and retry."""


class InternalFailureError(HostCallError):
    """The host failed internally (INTERNAL_FAILURE)."""


class UnimplementedError(HostCallError):
    """This host does not implement the call (UNIMPLEMENTED)."""


class HostCallUnavailableError(HostCallError):
    """This module does not link the host function: a target host lacks it, or the build saw no
    use of it. The message names the call, the host and what to do (e.g. build with --hosts)."""

    def __init__(self, status: Status | int, function: str) -> None:
        super().__init__(status, function)
        reason = _targets.unavailable.get(function) or (
            "the build found no use of it in the filter's files: call it there by name (e.g. "
            "self.<method>(...) or hostcalls.<function>(...)) so the build links it")
        self.args = (f"{function} is not available in this module: {reason}",)


class CallbackTimeout(BaseException):
    """A callback ran past its execution budget (``pywasm-filter build --callback-budget``).

    Raised by the runtime inside the looping code. Like KeyboardInterrupt it is not an
    Exception, so ``except Exception`` does not swallow it; the request fails as for any error.
    """


class ConfigError(ValueError):
    """The plugin or VM configuration is not valid.

    Raised from ``on_configure`` (or ``on_vm_start``) it refuses the configuration with one log
    line, ``rejecting the plugin configuration: <message>``, and no traceback: the message is
    for the operator who wrote the configuration, not a bug in the filter.
    """


_STATUS_VALUES = frozenset(Status)

_CLASSES: dict[int, type[HostCallError]] = {
    Status.NOT_FOUND: NotFoundError,
    Status.BAD_ARGUMENT: BadArgumentError,
    Status.SERIALIZATION_FAILURE: SerializationError,
    Status.PARSE_FAILURE: ParseError,
    Status.INVALID_MEMORY_ACCESS: InvalidMemoryAccessError,
    Status.EMPTY: EmptyError,
    Status.CAS_MISMATCH: CasMismatchError,
    Status.INTERNAL_FAILURE: InternalFailureError,
    Status.UNIMPLEMENTED: UnimplementedError,
}

_STATUS_HINTS: dict[Status | int, str] = {
    Status.NOT_FOUND: "the key, property, queue, context or token does not exist",
    Status.BAD_ARGUMENT: "the host rejected an argument",
    Status.SERIALIZATION_FAILURE: "the host could not serialize the value",
    Status.PARSE_FAILURE: "the host could not parse the value",
    Status.INVALID_MEMORY_ACCESS: "the host could not access the module's memory",
    Status.EMPTY: "there is nothing to return",
    Status.CAS_MISMATCH: "the value changed since it was read; read it again and retry",
    Status.INTERNAL_FAILURE: "the host failed internally; see the proxy's own log",
    Status.UNIMPLEMENTED: "this host does not implement this call",
}

_HINTS: dict[tuple[str, Status | int], str] = {
    ("proxy_http_call", Status.BAD_ARGUMENT): (
        "the upstream must be a cluster name the proxy knows (not a URL), and the headers must "
        "include ':method', ':path' and ':authority'"
    ),
    ("proxy_set_header_map_pairs", Status.BAD_ARGUMENT): (
        "this header map cannot be written in the current callback"
    ),
    ("proxy_add_header_map_value", Status.BAD_ARGUMENT): (
        "this header map cannot be written in the current callback (trailers can only be "
        "added in the last body callback)"
    ),
    ("proxy_replace_header_map_value", Status.BAD_ARGUMENT): (
        "this header map cannot be written in the current callback"
    ),
    ("proxy_remove_header_map_value", Status.BAD_ARGUMENT): (
        "this header map cannot be written in the current callback"
    ),
    ("proxy_get_buffer_bytes", Status.BAD_ARGUMENT): (
        "start is past the end of the buffer, or the buffer cannot be read in this callback"
    ),
    ("proxy_set_shared_data", Status.CAS_MISMATCH): (
        "another worker changed the value since get_shared_data; read it again and retry"
    ),
    ("proxy_enqueue_shared_queue", Status.NOT_FOUND): (
        "no such queue: register it with register_shared_queue or find it with resolve_shared_queue"
    ),
    ("proxy_set_effective_context", Status.BAD_ARGUMENT): (
        "the context no longer exists (its stream has ended)"
    ),
}


def error_for(status: int, function: str) -> HostCallError:
    """Build the exception for a failed host call; installed as the C module's error factory."""
    if status == _targets.UNLINKED_STATUS:
        return HostCallUnavailableError(status, function)
    return _CLASSES.get(status, HostCallError)(status, function)
