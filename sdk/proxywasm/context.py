"""``Context``, the services every context has, and ``RootContext``, the plugin itself."""

from __future__ import annotations

from . import _state, hostcalls
from .callouts import PendingGrpcCall, PendingHttpCall
from .hostcalls import method
from .types import BufferType, MapType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from datetime import datetime, timedelta

    from .http import HttpContext
    from .stream import StreamContext
    from .types import ContextType

_CALL_HEADERS = MapType.HTTP_CALL_RESPONSE_HEADERS
_CALL_TRAILERS = MapType.HTTP_CALL_RESPONSE_TRAILERS
_INITIAL_METADATA = MapType.GRPC_CALL_INITIAL_METADATA
_TRAILING_METADATA = MapType.GRPC_CALL_TRAILING_METADATA
_CALL_BODY = BufferType.HTTP_CALL_RESPONSE_BODY
_GRPC_MESSAGE = BufferType.GRPC_CALL_MESSAGE
_FOREIGN_ARGUMENTS = BufferType.FOREIGN_FUNCTION_ARGUMENTS


class Context:
    """Services shared by every context (the Rust SDK's ``Context`` trait).

    The SDK gives a context made in a factory or ``create_*_context`` its ``context_id`` (and
    ``root_context_id`` on HTTP and TCP contexts): ``super().__init__()`` sets them without
    arguments, and the SDK sets them after an ``__init__`` that does not call it. Callback
    methods (``on_*``) do nothing by default; override the ones you need.
    """

    context_id: int

    def __init__(self, context_id: int | None = None) -> None:
        self.context_id = _state.new_ids()[0] if context_id is None else context_id

    # Time and properties

    def get_current_time(self) -> datetime:
        """Return the host's wall-clock time as an aware UTC datetime."""
        return hostcalls.get_current_time()

    def get_current_time_ns(self) -> int:
        """Return the host's wall-clock time in nanoseconds since the epoch, like time.time_ns()."""
        return hostcalls.get_current_time_ns()

    def get_property(self, path: Sequence[str]) -> bytes | None:
        """Return the host property at ``path`` (e.g. ``["request", "path"]``), or None."""
        return hostcalls.get_property(path)

    def set_property(self, path: Sequence[str], value: bytes | None) -> None:
        """Set the host property at ``path``; None sets it empty."""
        hostcalls.set_property(path, value)

    # Shared data and queues

    def get_shared_data(self, key: str) -> tuple[bytes | None, int | None]:
        """Return ``(value, cas)`` for ``key`` in the VM-wide store, or ``(None, None)``."""
        return hostcalls.get_shared_data(key)

    def set_shared_data(self, key: str, value: bytes | None, cas: int | None = None) -> None:
        """Store ``value`` under ``key``; with ``cas``, raise CasMismatchError if it changed."""
        hostcalls.set_shared_data(key, value, cas)

    def remove_shared_data(self, key: str, cas: int | None = None) -> None:
        """Remove ``key``'s value (Envoy keeps the key with an empty value)."""
        hostcalls.set_shared_data(key, None, cas)

    def update_shared_data(
        self, key: str, update: Callable[[bytes | None], bytes], attempts: int = 16
    ) -> bytes:
        """Read-modify-write ``key``, retrying on CAS mismatch; returns the stored value."""
        return hostcalls.update_shared_data(key, update, attempts)

    def register_shared_queue(self, name: str) -> int:
        """Create (or find) this VM's queue ``name`` and return its id."""
        return hostcalls.register_shared_queue(name)

    def resolve_shared_queue(self, vm_id: str, name: str) -> int | None:
        """Return the id of queue ``name`` of VM ``vm_id``, or None if it does not exist."""
        return hostcalls.resolve_shared_queue(vm_id, name)

    def dequeue_shared_queue(self, queue_id: int) -> bytes | None:
        """Pop the oldest item of a queue, or return None if it is empty."""
        return hostcalls.dequeue_shared_queue(queue_id)

    def enqueue_shared_queue(self, queue_id: int, value: bytes | None) -> None:
        """Push ``value`` onto a queue; the root contexts watching it get ``on_queue_ready``."""
        hostcalls.enqueue_shared_queue(queue_id, value)

    # HTTP calls

    def dispatch_http_call(
        self,
        upstream: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None = None,
        trailers: Sequence[tuple[str, str]] = (),
        timeout: timedelta | None = None,
    ) -> int:
        """Send an HTTP request to the cluster ``upstream``; ``on_http_call_response`` follows.

        Returns the call's token. Headers must include ':method', ':path' and ':authority'.
        """
        token = hostcalls.dispatch_http_call(upstream, headers, body, trailers, timeout)
        _state.state.http_calls[token] = self.context_id
        return token

    def http_call(
        self,
        upstream: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None = None,
        trailers: Sequence[tuple[str, str]] = (),
        timeout: timedelta | None = None,
    ) -> PendingHttpCall:
        """Send an HTTP call to ``await`` in an ``async def`` callback: ``await`` gives the
        ``HttpResponse`` or raises ``HttpCallError``; the stream waits meanwhile."""
        token = hostcalls.dispatch_http_call(upstream, headers, body, trailers, timeout)
        return PendingHttpCall(token, upstream)

    def on_http_call_response(
        self, token_id: int, num_headers: int, body_size: int, num_trailers: int
    ) -> None:
        """Called with the answer to ``dispatch_http_call``; no headers means it failed."""

    get_http_call_response_headers = method(_CALL_HEADERS, hostcalls.get_map)
    """Return the HTTP call response's headers (in ``on_http_call_response``)."""

    get_http_call_response_headers_bytes = method(_CALL_HEADERS, hostcalls.get_map_bytes)
    """Return the HTTP call response's headers with raw values."""

    get_http_call_response_header = method(_CALL_HEADERS, hostcalls.get_map_value)
    """Return one header of the HTTP call response, or None."""

    get_http_call_response_header_bytes = method(_CALL_HEADERS, hostcalls.get_map_value_bytes)
    """Return one raw header of the HTTP call response, or None."""

    get_http_call_response_body = method(_CALL_BODY, hostcalls.get_buffer)
    """Return (part of) the HTTP call response's body, or None."""

    get_http_call_response_trailers = method(_CALL_TRAILERS, hostcalls.get_map)
    """Return the HTTP call response's trailers."""

    get_http_call_response_trailers_bytes = method(_CALL_TRAILERS, hostcalls.get_map_bytes)
    """Return the HTTP call response's trailers with raw values."""

    get_http_call_response_trailer = method(_CALL_TRAILERS, hostcalls.get_map_value)
    """Return one trailer of the HTTP call response, or None."""

    get_http_call_response_trailer_bytes = method(_CALL_TRAILERS, hostcalls.get_map_value_bytes)
    """Return one raw trailer of the HTTP call response, or None."""

    # gRPC calls

    def dispatch_grpc_call(
        self,
        upstream_name: str,
        service_name: str,
        method_name: str,
        initial_metadata: Sequence[tuple[str, bytes]],
        message: bytes | None,
        timeout: timedelta | None = None,
    ) -> int:
        """Make a unary gRPC call; ``on_grpc_call_response`` follows. Returns its token."""
        token = hostcalls.dispatch_grpc_call(
            upstream_name, service_name, method_name, initial_metadata, message, timeout
        )
        _state.state.grpc_calls[token] = self.context_id
        return token

    def grpc_call(
        self,
        upstream_name: str,
        service_name: str,
        method_name: str,
        message: bytes | None,
        initial_metadata: Sequence[tuple[str, bytes]] = (),
        timeout: timedelta | None = None,
    ) -> PendingGrpcCall:
        """Make a unary gRPC call to ``await`` in an ``async def`` callback: ``await`` gives
        the ``GrpcResponse`` or raises ``GrpcCallError`` with the status."""
        token = hostcalls.dispatch_grpc_call(
            upstream_name, service_name, method_name, initial_metadata, message, timeout
        )
        return PendingGrpcCall(token, upstream_name, service_name, method_name)

    def on_grpc_call_response(self, token_id: int, status_code: int, response_size: int) -> None:
        """Called with the result of ``dispatch_grpc_call``; status 0 means success."""

    get_grpc_call_response_body = method(_GRPC_MESSAGE, hostcalls.get_buffer)
    """Return (part of) the gRPC call's response message, or None."""

    def cancel_grpc_call(self, token_id: int) -> None:
        """Cancel a pending gRPC call; no callback follows."""
        _state.state.grpc_calls.pop(token_id, None)
        hostcalls.cancel_grpc_call(token_id)

    # gRPC streams

    def open_grpc_stream(
        self,
        cluster_name: str,
        service_name: str,
        method_name: str,
        initial_metadata: Sequence[tuple[str, bytes]] = (),
    ) -> int:
        """Open a gRPC stream; its events come to the ``on_grpc_stream_*`` callbacks."""
        token = hostcalls.open_grpc_stream(
            cluster_name, service_name, method_name, initial_metadata
        )
        _state.state.grpc_streams[token] = self.context_id
        return token

    def on_grpc_stream_initial_metadata(self, token_id: int, num_elements: int) -> None:
        """Called when a gRPC stream's initial metadata arrives."""

    get_grpc_stream_initial_metadata = method(_INITIAL_METADATA, hostcalls.get_map_bytes)
    """Return the gRPC stream's initial metadata (in its callback)."""

    get_grpc_stream_initial_metadata_value = method(
        _INITIAL_METADATA, hostcalls.get_map_value_bytes
    )
    """Return one initial metadata value of the gRPC stream, or None."""

    def send_grpc_stream_message(
        self, token_id: int, message: bytes | None, end_stream: bool = False
    ) -> None:
        """Send one message on a gRPC stream; ``end_stream`` half-closes it."""
        hostcalls.send_grpc_stream_message(token_id, message, end_stream)

    def on_grpc_stream_message(self, token_id: int, message_size: int) -> None:
        """Called when a message arrives on a gRPC stream."""

    get_grpc_stream_message = method(_GRPC_MESSAGE, hostcalls.get_buffer)
    """Return (part of) the message that arrived on the gRPC stream, or None."""

    def on_grpc_stream_trailing_metadata(self, token_id: int, num_elements: int) -> None:
        """Called when a gRPC stream's trailing metadata arrives."""

    get_grpc_stream_trailing_metadata = method(_TRAILING_METADATA, hostcalls.get_map_bytes)
    """Return the gRPC stream's trailing metadata (in its callback)."""

    get_grpc_stream_trailing_metadata_value = method(
        _TRAILING_METADATA, hostcalls.get_map_value_bytes
    )
    """Return one trailing metadata value of the gRPC stream, or None."""

    def cancel_grpc_stream(self, token_id: int) -> None:
        """Cancel a gRPC stream; no callback follows."""
        _state.state.grpc_streams.pop(token_id, None)
        hostcalls.cancel_grpc_stream(token_id)

    def close_grpc_stream(self, token_id: int) -> None:
        """Close a gRPC stream gracefully; ``on_grpc_stream_close`` follows."""
        hostcalls.close_grpc_stream(token_id)

    def on_grpc_stream_close(self, token_id: int, status_code: int) -> None:
        """Called when a gRPC stream ends, with its gRPC status code."""

    def get_grpc_status(self) -> tuple[int, str | None]:
        """Return the status code and message of the gRPC call or stream being reported."""
        return hostcalls.get_grpc_status()

    # Foreign functions and lifecycle

    def on_foreign_function(self, function_id: int, arguments_size: int) -> None:
        """Called when the host invokes a foreign function on this plugin."""

    get_foreign_function_arguments = method(_FOREIGN_ARGUMENTS, hostcalls.get_buffer)
    """Return (part of) the arguments of the foreign function being called, or None."""

    def call_foreign_function(self, function_name: str, arguments: bytes | None) -> bytes | None:
        """Call a host-specific function (e.g. Envoy's ``compress``) and return its result."""
        return hostcalls.call_foreign_function(function_name, arguments)

    def on_done(self) -> bool:
        """Called when the host is done with this context; return False to finish later."""
        return True

    def done(self) -> None:
        """Finish a context whose ``on_done`` returned False."""
        hostcalls.done()

    def acting_on(self, other: Context) -> ActingOn:
        """``with self.acting_on(request):`` makes host calls in the block act on ``other``
        (e.g. a request a root context's ``on_tick`` resumes), and on ``self`` again after it.

        Host calls act on the context the proxy made effective: the one whose callback runs,
        not the object whose method you call. Envoy only (Nginx WasmX ignores the switch).
        """
        return ActingOn(self.context_id, other.context_id)


class ActingOn:
    """The block of ``Context.acting_on``: ``proxy_set_effective_context`` in and out."""

    __slots__ = ("actor", "other")

    def __init__(self, actor: int, other: int) -> None:
        self.actor = actor
        self.other = other

    def __enter__(self) -> None:
        hostcalls.set_effective_context(self.other)

    def __exit__(self, *exc_info: object) -> None:
        hostcalls.set_effective_context(self.actor)


class RootContext(Context):
    """The plugin (the Rust SDK's ``RootContext``): configuration, timers, queues, factories."""

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        """Called once when the VM starts; return False to fail the start."""
        return True

    def get_vm_configuration(self) -> bytes | None:
        """Return the VM configuration (in ``on_vm_start``), or None."""
        return hostcalls.get_buffer(BufferType.VM_CONFIGURATION)

    def on_configure(self, plugin_configuration_size: int) -> bool:
        """Called with a new plugin configuration; return False to reject it."""
        return True

    def get_plugin_configuration(self) -> bytes | None:
        """Return the plugin configuration (in ``on_configure``), or None."""
        return hostcalls.get_buffer(BufferType.PLUGIN_CONFIGURATION)

    def set_tick_period(self, period: timedelta) -> None:
        """Call ``on_tick`` every ``period`` (millisecond precision; zero stops the timer)."""
        hostcalls.set_tick_period(period)

    def on_tick(self) -> Awaitable[None] | None:
        """Called every tick period set with ``set_tick_period``."""

    def on_queue_ready(self, queue_id: int) -> Awaitable[None] | None:
        """Called when an item was pushed onto a queue this VM registered."""

    def on_log(self) -> None:
        """Called when the host writes the access log of the plugin context."""

    def create_http_context(self, context_id: int) -> HttpContext | None:
        """Return the context for a new HTTP stream (used when no HTTP factory is registered)."""
        return None

    def create_stream_context(self, context_id: int) -> StreamContext | None:
        """Return the context for a new TCP connection (used when no factory is registered)."""
        return None

    def get_type(self) -> ContextType | None:
        """Say which factory method to call for new streams; None tries HTTP, then TCP."""
        return None
