"""Typed functions, one per host call, like the Rust SDK's ``hostcalls`` module. A call's
``timeout`` of ``None`` (the default) waits ``DEFAULT_TIMEOUT``, 5 s.

They convert Python types (enums, ``timedelta``, ``None`` for "no value") to what the ABI wants
and check arguments where the host's own error would be unclear. A failing call raises a
``proxywasm.errors.HostCallError`` subclass; "absent" results come back as ``None``. Every rule
of a host call lives here once: the contexts' methods are these functions with their map,
buffer or stream bound (``method``), or one line over them.
"""

from __future__ import annotations

from types import MethodType

from . import _host, _targets
from .errors import CasMismatchError
from .types import BufferType, GrpcStatusCode, LogLevel, MapType, MetricType, StreamType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime, timedelta
    from typing import Concatenate, ParamSpec, Protocol, TypeVar

    _P = ParamSpec("_P")
    _R = TypeVar("_R", covariant=True)
    _T = TypeVar("_T")
    _Value = TypeVar("_Value", str, bytes)

    class _Method(Protocol[_P, _R]):
        """What type checkers see of ``method(...)``: the bound function, also when read from
        an instance of the class it is assigned in (it does not bind ``self``)."""

        def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
        def __get__(self, instance: object, owner: type | None = None) -> Callable[_P, _R]: ...

MAX_SIZE = 0xFFFFFFFF
"""A ``max_size`` that reads a buffer to its end."""

DEFAULT_TIMEOUT: timedelta
"""Timeout of HTTP and gRPC calls given none (``timeout=None``): 5 s, made when first read."""

_DEFAULT_TIMEOUT_MS = 5000
_CALLOUT_HEADERS = (":method", ":path", ":authority")


def method(first: _T, function: Callable[Concatenate[_T, _P], _R]) -> _Method[_P, _R]:
    """``function`` with its first argument bound to ``first``, to assign as a context method.

    A bound method has no ``__get__``, so reading it from a context does not bind ``self``:
    ``self.get_http_request_header(name)`` calls ``get_map_value(HTTP_REQUEST_HEADERS, name)``
    with no Python frame of its own, which a ``def`` calling this module would cost. A function
    that only does what a ``_proxywasm`` function does (``_HOST_TWINS``) is replaced by that C
    function itself inside a proxy (``_HostMethod``): no Python frame at all.
    """
    # Not `_HOST_TWINS.get(...)`: the linker follows calls by name, and `get` is also the
    # metrics' `get`, which would link the metric host functions into every module.
    if function in _HOST_TWINS:
        return _HostMethod(first, function, _HOST_TWINS[function])  # type: ignore[return-value]
    return MethodType(function, first)  # type: ignore[return-value]


class _HostMethod:
    """Stands in a class body for a context method ``function`` with ``first`` bound: once the
    class exists, the class holds ``_proxywasm``'s function ``twin`` with ``first`` bound while
    host calls go to the C module, ``function`` otherwise (the emulator, or unbound: it says
    why); every ``_host.bind`` re-points it."""

    __slots__ = ("first", "function", "twin")

    def __init__(self, first: object, function: Callable[..., object], twin: str) -> None:
        self.first, self.function, self.twin = first, function, twin

    def __set_name__(self, owner: type, name: str) -> None:
        _host_methods.append((owner, name, self))
        setattr(owner, name, self.held(owner))

    def __call__(self, *args: object, **kwargs: object) -> object:
        """Call it where no class body holds it, as the method it stands for."""
        return self.bound()(*args, **kwargs)

    def bound(self) -> MethodType:
        """The method as the class gives it under the host module bound now."""
        native = _host.native()
        return MethodType(getattr(_host, self.twin) if native else self.function, self.first)

    def held(self, owner: type) -> object:
        """What ``owner`` holds: inside a proxy, ``_proxywasm.context_method``, which reads as
        ``bound()`` and lets CPython call ``self.<method>(...)`` without making it."""
        if _host.native():
            return _host.context_method(getattr(_host, self.twin), self.first, owner)
        return self.bound()


_host_methods: list[tuple[type, str, _HostMethod]] = []


def _repoint() -> None:
    for owner, name, host_method in _host_methods:
        setattr(owner, name, host_method.held(owner))


_host._on_bind.append(_repoint)


def _default_timeout() -> timedelta:
    from datetime import timedelta

    return timedelta(milliseconds=_DEFAULT_TIMEOUT_MS)


# Module attributes made when first read (PEP 562), so that a filter not using them does not
# carry `datetime`; the build bundles what their functions import when a filter names them.
_LAZY_ATTRIBUTES = {"DEFAULT_TIMEOUT": _default_timeout}


def __getattr__(name: str) -> object:
    """Make a lazy module attribute (``_LAZY_ATTRIBUTES``) when it is read."""
    if name in _LAZY_ATTRIBUTES:
        return _LAZY_ATTRIBUTES[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _milliseconds(period: timedelta, what: str) -> int:
    """Whole milliseconds of a ``timedelta``, read by its attributes so that the SDK need not
    import ``datetime``."""
    microseconds = period.days * 86_400_000_000 + period.seconds * 1_000_000 + period.microseconds
    if microseconds < 0:
        raise ValueError(f"{what} must not be negative, got {period}")
    return microseconds // 1000


def _timeout_milliseconds(timeout: timedelta | None) -> int:
    return _DEFAULT_TIMEOUT_MS if timeout is None else _milliseconds(timeout, "the timeout")


# Logging


def log(level: LogLevel, message: str) -> None:
    """Write ``message`` to the proxy's log at ``level`` (no SDK-side filtering)."""
    _host.log(level, message)


def get_log_level() -> LogLevel:
    """Return the host's current log level: messages below it are dropped by the host."""
    return LogLevel(_host.get_log_level())


# Time and timers


def get_current_time() -> datetime:
    """Return the host's wall-clock time as an aware UTC datetime."""
    return datetime_from_ns(_host.get_current_time_nanoseconds())


def datetime_from_ns(nanoseconds: int) -> datetime:
    """The aware UTC datetime ``nanoseconds`` after 1970, to the microsecond (imports
    ``datetime`` only when called)."""
    from datetime import UTC, datetime, timedelta

    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=nanoseconds // 1000)


def get_current_time_ns() -> int:
    """Return the host's wall-clock time in nanoseconds since the epoch (no datetime needed)."""
    return _host.get_current_time_nanoseconds()


def set_tick_period(period: timedelta) -> None:
    """Call the root context's ``on_tick`` every ``period`` (millisecond precision; 0 stops)."""
    _host.set_tick_period_milliseconds(_milliseconds(period, "the tick period"))


# Buffers


def get_buffer(buffer_type: BufferType, start: int = 0, max_size: int = MAX_SIZE) -> bytes | None:
    """Return up to ``max_size`` bytes of a buffer from ``start``, or None if there is none."""
    return _host.get_buffer_bytes(buffer_type, start, max_size)


def set_buffer(buffer_type: BufferType, start: int, size: int, value: bytes) -> None:
    """Replace ``size`` bytes of a buffer at ``start`` with ``value`` (size 0 inserts)."""
    _host.set_buffer_bytes(buffer_type, start, size, value)


def get_buffer_status(buffer_type: BufferType) -> tuple[int, int]:
    """Return a buffer's ``(size, flags)``."""
    return _host.get_buffer_status(buffer_type)


# Header maps


def _lowered(pairs: list[tuple[str, _Value]]) -> list[tuple[str, _Value]]:
    """Header names lowercased, as Envoy gives them, where a target host (Nginx WasmX) keeps
    their case; else ``pairs`` as they are."""
    if not _targets.lower_header_names:
        return pairs
    return [(name.lower(), value) for name, value in pairs]


def get_map(map_type: MapType) -> list[tuple[str, str]]:
    """Return all pairs of a header map, names lowercased and values decoded as UTF-8."""
    return _lowered(_host.get_header_map_pairs(map_type))


def get_map_bytes(map_type: MapType) -> list[tuple[str, bytes]]:
    """Return all pairs of a header map, names lowercased and values as raw bytes."""
    return _lowered(_host.get_header_map_pairs_bytes(map_type))


def get_map_size(map_type: MapType) -> int:
    """Return the serialized size of a header map, in bytes."""
    return _host.get_header_map_size(map_type)


def set_map(map_type: MapType, pairs: Sequence[tuple[str, str]]) -> None:
    """Replace a whole header map with ``pairs``."""
    _host.set_header_map_pairs(map_type, pairs)


def set_map_bytes(map_type: MapType, pairs: Sequence[tuple[str, bytes]]) -> None:
    """Replace a whole header map with ``pairs`` whose values are bytes."""
    _host.set_header_map_pairs(map_type, pairs)


def get_map_value(map_type: MapType, name: str) -> str | None:
    """Return the value of header ``name`` in a header map, or None if it is absent."""
    return _host.get_header_map_value(map_type, name)


def get_map_value_bytes(map_type: MapType, name: str) -> bytes | None:
    """Return the raw value of header ``name`` in a header map, or None if it is absent."""
    return _host.get_header_map_value_bytes(map_type, name)


if TYPE_CHECKING:  # the same two functions for str and bytes values, each typed for one

    def set_map_value(map_type: MapType, name: str, value: str | None) -> None: ...
    def set_map_value_bytes(map_type: MapType, name: str, value: bytes | None) -> None: ...
    def add_map_value(map_type: MapType, name: str, value: str) -> None: ...
    def add_map_value_bytes(map_type: MapType, name: str, value: bytes) -> None: ...

else:

    def set_map_value(map_type: MapType, name: str, value: str | bytes | None) -> None:
        """Set header ``name`` to ``value``, replacing any existing values; None removes it."""
        # As a context method inside a proxy it is _proxywasm.set_header_map_value (the same).
        if value is None:
            _host.remove_header_map_value(map_type, name)
        else:
            _host.replace_header_map_value(map_type, name, value)

    def add_map_value(map_type: MapType, name: str, value: str | bytes) -> None:
        """Add a ``name: value`` pair, keeping existing values of ``name``."""
        _host.add_header_map_value(map_type, name, value)

    set_map_value_bytes = set_map_value
    add_map_value_bytes = add_map_value


def remove_map_value(map_type: MapType, name: str) -> None:
    """Remove every value of header ``name`` from a header map."""
    _host.remove_header_map_value(map_type, name)


_HOST_TWINS: dict[Callable[..., object], str] = {
    get_map_value: "get_header_map_value",
    get_map_value_bytes: "get_header_map_value_bytes",
    set_map_value: "set_header_map_value",
    add_map_value: "add_header_map_value",
    remove_map_value: "remove_header_map_value",
}
"""The functions above that do just what a ``_proxywasm`` function does (which takes the same
arguments, also by name), and its name: as context methods inside a proxy they are that
function itself (``method``)."""


# Properties


def _check_path(path: Sequence[str]) -> None:
    if isinstance(path, str):
        raise TypeError(
            f"a property path is a sequence of segments, e.g. ['request', 'path'], not the "
            f"string {path!r}"
        )


def get_property(path: Sequence[str]) -> bytes | None:
    """Return the host property at ``path`` (e.g. ``["request", "path"]``), or None."""
    _check_path(path)
    return _host.get_property(path)


def set_property(path: Sequence[str], value: bytes | None) -> None:
    """Set the host property at ``path``; None sets it empty."""
    _check_path(path)
    _host.set_property(path, value or b"")


# Shared data and queues


def get_shared_data(key: str) -> tuple[bytes | None, int | None]:
    """Return ``(value, cas)`` for ``key`` in the VM-wide store, or ``(None, None)``."""
    value, cas = _host.get_shared_data(key)
    return value, cas or None


def set_shared_data(key: str, value: bytes | None, cas: int | None = None) -> None:
    """Store ``value`` under ``key``; with ``cas``, only if unchanged since it was read."""
    _host.set_shared_data(key, value or b"", cas or 0)


def update_shared_data(
    key: str, update: Callable[[bytes | None], bytes], attempts: int = 16
) -> bytes:
    """Read-modify-write ``key`` atomically: retry ``update(old)`` while other workers race.

    Each attempt reads the value and its CAS, and stores ``update(value)`` only if nobody
    changed it in between. Returns the stored value; raises CasMismatchError after
    ``attempts`` lost races. A key that does not exist yet is created without a CAS check,
    so create shared keys once, e.g. in ``on_vm_start``.
    """
    for attempt in range(1, attempts + 1):
        value, cas = get_shared_data(key)
        new = update(value)
        try:
            set_shared_data(key, new, cas)
        except CasMismatchError:
            if attempt == attempts:
                raise
            continue
        return new
    raise ValueError(f"update_shared_data needs at least one attempt, got {attempts}")


def register_shared_queue(name: str) -> int:
    """Create (or find) this VM's queue ``name`` and return its id."""
    return _host.register_shared_queue(name)


def resolve_shared_queue(vm_id: str, name: str) -> int | None:
    """Return the id of queue ``name`` of VM ``vm_id``, or None if it does not exist."""
    return _host.resolve_shared_queue(vm_id, name)


def dequeue_shared_queue(queue_id: int) -> bytes | None:
    """Pop the oldest item of a queue, or return None if it is empty."""
    return _host.dequeue_shared_queue(queue_id)


def enqueue_shared_queue(queue_id: int, value: bytes | None) -> None:
    """Push ``value`` onto a queue; its root contexts get ``on_queue_ready``."""
    _host.enqueue_shared_queue(queue_id, value or b"")


# Streams


def continue_stream(stream_type: StreamType) -> None:
    """Resume a paused stream."""
    _host.continue_stream(stream_type)


def close_stream(stream_type: StreamType) -> None:
    """Close (reset) a stream."""
    _host.close_stream(stream_type)


def resume_downstream() -> None:
    """Resume the paused downstream (client to proxy) TCP data."""
    _host.continue_stream(StreamType.DOWNSTREAM)


def resume_upstream() -> None:
    """Resume the paused upstream (server to proxy) TCP data."""
    _host.continue_stream(StreamType.UPSTREAM)


def resume_http_request() -> None:
    """Resume the paused HTTP request."""
    _host.continue_stream(StreamType.HTTP_REQUEST)


def resume_http_response() -> None:
    """Resume the paused HTTP response."""
    _host.continue_stream(StreamType.HTTP_RESPONSE)


def close_downstream() -> None:
    """Close the downstream TCP connection."""
    _host.close_stream(StreamType.DOWNSTREAM)


def close_upstream() -> None:
    """Close the upstream TCP connection."""
    _host.close_stream(StreamType.UPSTREAM)


def reset_http_request() -> None:
    """Reset the HTTP stream from the request side."""
    _host.close_stream(StreamType.HTTP_REQUEST)


def reset_http_response() -> None:
    """Reset the HTTP stream from the response side."""
    _host.close_stream(StreamType.HTTP_RESPONSE)


def send_http_response(
    status_code: int,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    grpc_status: int = -1,
) -> None:
    """Answer the current request locally; the upstream is not (or no longer) involved."""
    _host.send_local_response(status_code, "", body or b"", headers, grpc_status)


def send_grpc_response(
    grpc_status: GrpcStatusCode,
    grpc_status_message: str | None = None,
    custom_metadata: Sequence[tuple[str, bytes]] = (),
) -> None:
    """Answer the current gRPC request locally with ``grpc_status`` and an optional message."""
    # Envoy sends the body as grpc-message; surrogate escapes go back to the bytes they stand for.
    message = (grpc_status_message or "").encode("utf-8", "surrogateescape")
    _host.send_local_response(200, "", message, custom_metadata, grpc_status)


# HTTP and gRPC calls


def _check_upstream(upstream: str, caller: str) -> None:
    if not upstream or "://" in upstream:
        raise ValueError(
            f"{caller}: the upstream must be the name of a cluster the proxy knows (e.g. "
            f"'auth_service'), not {upstream!r}"
        )


def dispatch_http_call(
    upstream: str,
    headers: Sequence[tuple[str, str]],
    body: bytes | None = None,
    trailers: Sequence[tuple[str, str]] = (),
    timeout: timedelta | None = None,
) -> int:
    """Send an HTTP request to the cluster ``upstream`` and return its token.

    The answer arrives in ``on_http_call_response`` of the root context (contexts' own
    ``dispatch_http_call`` routes it to themselves instead).
    """
    _check_upstream(upstream, "dispatch_http_call")
    present = dict(headers)
    for required in _CALLOUT_HEADERS:
        if required not in present or not present[required]:
            raise ValueError(
                f"dispatch_http_call: the {required!r} header is missing or empty; an HTTP call "
                "needs ':method', ':path' and ':authority' (the host name, not 'host')"
            )
    return _host.http_call(
        upstream, headers, body or b"", trailers, _timeout_milliseconds(timeout)
    )


def dispatch_grpc_call(
    upstream_name: str,
    service_name: str,
    method_name: str,
    initial_metadata: Sequence[tuple[str, bytes]],
    message: bytes | None,
    timeout: timedelta | None = None,
) -> int:
    """Make a unary gRPC call to ``service_name/method_name`` on the cluster; return its token."""
    _check_upstream(upstream_name, "dispatch_grpc_call")
    return _host.grpc_call(
        upstream_name,
        service_name,
        method_name,
        initial_metadata,
        message or b"",
        _timeout_milliseconds(timeout),
    )


def open_grpc_stream(
    cluster_name: str,
    service_name: str,
    method_name: str,
    initial_metadata: Sequence[tuple[str, bytes]] = (),
) -> int:
    """Open a gRPC stream to ``service_name/method_name`` on the cluster; return its token."""
    _check_upstream(cluster_name, "open_grpc_stream")
    return _host.grpc_stream(cluster_name, service_name, method_name, initial_metadata)


def send_grpc_stream_message(token: int, message: bytes | None, end_stream: bool = False) -> None:
    """Send one message on an open gRPC stream; ``end_stream`` half-closes it."""
    _host.grpc_send(token, message or b"", end_stream)


def cancel_grpc_call(token: int) -> None:
    """Cancel a pending gRPC call; no callback follows."""
    _host.grpc_cancel(token)


def cancel_grpc_stream(token: int) -> None:
    """Cancel a gRPC stream; no callback follows."""
    _host.grpc_cancel(token)


def close_grpc_stream(token: int) -> None:
    """Close a gRPC stream gracefully; ``on_grpc_stream_close`` follows."""
    _host.grpc_close(token)


def get_grpc_status() -> tuple[int, str | None]:
    """Return the status code and message of the gRPC call or stream being reported."""
    code, message = _host.get_status()
    return code, message.decode("utf-8", "replace") if message else None


# Contexts and foreign functions


def set_effective_context(context_id: int) -> None:
    """Make later host calls in this callback act on ``context_id`` (e.g. an HTTP stream)."""
    _host.set_effective_context(context_id)


def done() -> None:
    """Tell the host that the context which answered False to ``on_done`` has finished."""
    _host.done()


def call_foreign_function(function_name: str, arguments: bytes | None) -> bytes | None:
    """Call a host-specific function (e.g. Envoy's ``compress``) and return its result."""
    return _host.call_foreign_function(function_name, arguments or b"")


# Metrics


def define_metric(metric_type: MetricType, name: str) -> int:
    """Define (or find) a counter, gauge or histogram and return its id."""
    return _host.define_metric(metric_type, name)


def get_metric(metric_id: int) -> int:
    """Return the current value of a metric."""
    return _host.get_metric(metric_id)


def record_metric(metric_id: int, value: int) -> None:
    """Set a gauge, or record a histogram sample."""
    _host.record_metric(metric_id, value)


def increment_metric(metric_id: int, delta: int) -> None:
    """Add ``delta`` (possibly negative for gauges) to a counter or gauge."""
    _host.increment_metric(metric_id, delta)
