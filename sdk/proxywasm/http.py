"""``HttpContext``: one per HTTP request/response, with the Rust SDK's ``HttpContext`` API."""

from __future__ import annotations

from . import _host, _log, _state, hostcalls
from .context import Context
from .hostcalls import method
from .types import Action, BufferType, GrpcStatusCode, MapType, StreamType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence

_REQUEST_HEADERS = MapType.HTTP_REQUEST_HEADERS
_REQUEST_TRAILERS = MapType.HTTP_REQUEST_TRAILERS
_RESPONSE_HEADERS = MapType.HTTP_RESPONSE_HEADERS
_RESPONSE_TRAILERS = MapType.HTTP_RESPONSE_TRAILERS
_REQUEST_BODY = BufferType.HTTP_REQUEST_BODY
_RESPONSE_BODY = BufferType.HTTP_RESPONSE_BODY
_REQUEST = StreamType.HTTP_REQUEST
_RESPONSE = StreamType.HTTP_RESPONSE


class HttpContext(Context):
    """The context of one HTTP stream; override the ``on_http_*`` callbacks you need.

    When a callback raises, the SDK logs the traceback and, by default, fails the stream
    closed with a 500 response; set ``fail_open = True`` to log and continue instead.
    """

    fail_open: bool = False
    body_buffer_limit: int = 1 << 20
    """The proxy's body buffer limit in bytes, which the ``whole_http_*_body`` helpers warn
    about: Envoy's ``per_connection_buffer_limit_bytes`` (1 MiB unless the listener sets it)."""
    root_context_id: int
    _body_limit_warned: bool = False

    def __init__(self, context_id: int | None = None, root_context_id: int | None = None) -> None:
        # _contexts.create sets both ids without calling __init__ when a subclass
        # does not override it: keep them in step.
        super().__init__(context_id)
        self.root_context_id = (
            _state.new_ids()[1] if root_context_id is None else root_context_id
        )

    # Request

    def on_http_request_headers(
        self, num_headers: int, end_of_stream: bool
    ) -> Action | Awaitable[Action]:
        """Called with the request headers; return PAUSE to hold the request until resumed."""
        return Action.CONTINUE

    get_http_request_headers = method(_REQUEST_HEADERS, hostcalls.get_map)
    """Return all request headers as (name, value) pairs."""

    get_http_request_headers_bytes = method(_REQUEST_HEADERS, hostcalls.get_map_bytes)
    """Return all request headers with raw byte values."""

    def set_http_request_headers(self, headers: Sequence[tuple[str, str]]) -> None:
        """Replace all request headers."""
        hostcalls.set_map(_REQUEST_HEADERS, headers)

    def set_http_request_headers_bytes(self, headers: Sequence[tuple[str, bytes]]) -> None:
        """Replace all request headers with pairs whose values are bytes."""
        hostcalls.set_map_bytes(_REQUEST_HEADERS, headers)

    get_http_request_header = method(_REQUEST_HEADERS, hostcalls.get_map_value)
    """Return the request header ``name``, or None if it is absent."""

    get_http_request_header_bytes = method(_REQUEST_HEADERS, hostcalls.get_map_value_bytes)
    """Return the raw value of the request header ``name``, or None."""

    set_http_request_header = method(_REQUEST_HEADERS, hostcalls.set_map_value)
    """Set the request header ``name``, replacing its values; None removes it."""

    set_http_request_header_bytes = method(_REQUEST_HEADERS, hostcalls.set_map_value_bytes)
    """Set the request header ``name`` to a raw value; None removes it."""

    add_http_request_header = method(_REQUEST_HEADERS, hostcalls.add_map_value)
    """Add a value to the request header ``name``, keeping existing ones."""

    add_http_request_header_bytes = method(_REQUEST_HEADERS, hostcalls.add_map_value_bytes)
    """Add a raw value to the request header ``name``, keeping existing ones."""

    remove_http_request_header = method(_REQUEST_HEADERS, hostcalls.remove_map_value)
    """Remove every value of the request header ``name``."""

    def on_http_request_body(
        self, body_size: int, end_of_stream: bool
    ) -> Action | Awaitable[Action]:
        """Called as request body data arrives; ``body_size`` counts all data buffered so far."""
        return Action.CONTINUE

    get_http_request_body = method(_REQUEST_BODY, hostcalls.get_buffer)
    """Return up to ``max_size`` bytes of the buffered request body from ``start``."""

    set_http_request_body = method(_REQUEST_BODY, hostcalls.set_buffer)
    """Replace ``size`` bytes of the buffered request body at ``start`` with ``value``."""

    def whole_http_request_body(self, body_size: int, end_of_stream: bool) -> bytes | None:
        """The whole request body once its end has arrived, else None: return PAUSE while it is
        None so the proxy buffers the body (above its buffer limit Envoy answers 413)."""
        return self._whole_body(_REQUEST_BODY, "request", body_size, end_of_stream)

    def on_http_request_trailers(self, num_trailers: int) -> Action | Awaitable[Action]:
        """Called with the request trailers; return PAUSE to hold the request until resumed."""
        return Action.CONTINUE

    get_http_request_trailers = method(_REQUEST_TRAILERS, hostcalls.get_map)
    """Return all request trailers as (name, value) pairs."""

    get_http_request_trailers_bytes = method(_REQUEST_TRAILERS, hostcalls.get_map_bytes)
    """Return all request trailers with raw byte values."""

    def set_http_request_trailers(self, trailers: Sequence[tuple[str, str]]) -> None:
        """Replace all request trailers."""
        hostcalls.set_map(_REQUEST_TRAILERS, trailers)

    def set_http_request_trailers_bytes(self, trailers: Sequence[tuple[str, bytes]]) -> None:
        """Replace all request trailers with pairs whose values are bytes."""
        hostcalls.set_map_bytes(_REQUEST_TRAILERS, trailers)

    get_http_request_trailer = method(_REQUEST_TRAILERS, hostcalls.get_map_value)
    """Return the request trailer ``name``, or None if it is absent."""

    get_http_request_trailer_bytes = method(_REQUEST_TRAILERS, hostcalls.get_map_value_bytes)
    """Return the raw value of the request trailer ``name``, or None."""

    set_http_request_trailer = method(_REQUEST_TRAILERS, hostcalls.set_map_value)
    """Set the request trailer ``name``, replacing its values; None removes it."""

    set_http_request_trailer_bytes = method(_REQUEST_TRAILERS, hostcalls.set_map_value_bytes)
    """Set the request trailer ``name`` to a raw value; None removes it."""

    add_http_request_trailer = method(_REQUEST_TRAILERS, hostcalls.add_map_value)
    """Add a value to the request trailer ``name``, keeping existing ones."""

    add_http_request_trailer_bytes = method(_REQUEST_TRAILERS, hostcalls.add_map_value_bytes)
    """Add a raw value to the request trailer ``name``, keeping existing ones."""

    remove_http_request_trailer = method(_REQUEST_TRAILERS, hostcalls.remove_map_value)
    """Remove every value of the request trailer ``name``."""

    def resume_http_request(self) -> None:
        """Resume the request after a callback returned PAUSE."""
        _state.state.release(self.context_id)
        _host.continue_stream(_REQUEST)

    reset_http_request = method(_REQUEST, hostcalls.close_stream)
    """Reset the HTTP stream from the request side."""

    # Response

    def on_http_response_headers(
        self, num_headers: int, end_of_stream: bool
    ) -> Action | Awaitable[Action]:
        """Called with the response headers; return PAUSE to hold the response until resumed."""
        return Action.CONTINUE

    get_http_response_headers = method(_RESPONSE_HEADERS, hostcalls.get_map)
    """Return all response headers as (name, value) pairs."""

    get_http_response_headers_bytes = method(_RESPONSE_HEADERS, hostcalls.get_map_bytes)
    """Return all response headers with raw byte values."""

    def set_http_response_headers(self, headers: Sequence[tuple[str, str]]) -> None:
        """Replace all response headers."""
        hostcalls.set_map(_RESPONSE_HEADERS, headers)

    def set_http_response_headers_bytes(self, headers: Sequence[tuple[str, bytes]]) -> None:
        """Replace all response headers with pairs whose values are bytes."""
        hostcalls.set_map_bytes(_RESPONSE_HEADERS, headers)

    get_http_response_header = method(_RESPONSE_HEADERS, hostcalls.get_map_value)
    """Return the response header ``name``, or None if it is absent."""

    get_http_response_header_bytes = method(_RESPONSE_HEADERS, hostcalls.get_map_value_bytes)
    """Return the raw value of the response header ``name``, or None."""

    set_http_response_header = method(_RESPONSE_HEADERS, hostcalls.set_map_value)
    """Set the response header ``name``, replacing its values; None removes it."""

    set_http_response_header_bytes = method(_RESPONSE_HEADERS, hostcalls.set_map_value_bytes)
    """Set the response header ``name`` to a raw value; None removes it."""

    add_http_response_header = method(_RESPONSE_HEADERS, hostcalls.add_map_value)
    """Add a value to the response header ``name``, keeping existing ones."""

    add_http_response_header_bytes = method(_RESPONSE_HEADERS, hostcalls.add_map_value_bytes)
    """Add a raw value to the response header ``name``, keeping existing ones."""

    remove_http_response_header = method(_RESPONSE_HEADERS, hostcalls.remove_map_value)
    """Remove every value of the response header ``name``."""

    def on_http_response_body(
        self, body_size: int, end_of_stream: bool
    ) -> Action | Awaitable[Action]:
        """Called as response body data arrives; ``body_size`` counts all data buffered so far."""
        return Action.CONTINUE

    get_http_response_body = method(_RESPONSE_BODY, hostcalls.get_buffer)
    """Return up to ``max_size`` bytes of the buffered response body from ``start``."""

    set_http_response_body = method(_RESPONSE_BODY, hostcalls.set_buffer)
    """Replace ``size`` bytes of the buffered response body at ``start`` with ``value``."""

    def whole_http_response_body(self, body_size: int, end_of_stream: bool) -> bytes | None:
        """The whole response body once its end has arrived, else None: return PAUSE while it
        is None (above the proxy's buffer limit Envoy answers 500 instead)."""
        return self._whole_body(_RESPONSE_BODY, "response", body_size, end_of_stream)

    def _whole_body(self, buffer: BufferType, side: str, body_size: int,
                    end_of_stream: bool) -> bytes | None:
        if end_of_stream:
            return hostcalls.get_buffer(buffer, 0, body_size) or b""
        if body_size > self.body_buffer_limit and not self._body_limit_warned:
            self._body_limit_warned = True
            _log.log_warn(
                f"the {side} body passed {body_size} bytes before its end, over the proxy's "
                f"buffer limit of {self.body_buffer_limit} bytes: Envoy answers "
                f"{413 if side == 'request' else 500} instead of calling the filter again. "
                "Raise per_connection_buffer_limit_bytes on the listener (and set "
                "body_buffer_limit to match) or handle the body chunk by chunk"
            )
        return None

    def on_http_response_trailers(self, num_trailers: int) -> Action | Awaitable[Action]:
        """Called with the response trailers; return PAUSE to hold the response until resumed."""
        return Action.CONTINUE

    get_http_response_trailers = method(_RESPONSE_TRAILERS, hostcalls.get_map)
    """Return all response trailers as (name, value) pairs."""

    get_http_response_trailers_bytes = method(_RESPONSE_TRAILERS, hostcalls.get_map_bytes)
    """Return all response trailers with raw byte values."""

    def set_http_response_trailers(self, trailers: Sequence[tuple[str, str]]) -> None:
        """Replace all response trailers."""
        hostcalls.set_map(_RESPONSE_TRAILERS, trailers)

    def set_http_response_trailers_bytes(self, trailers: Sequence[tuple[str, bytes]]) -> None:
        """Replace all response trailers with pairs whose values are bytes."""
        hostcalls.set_map_bytes(_RESPONSE_TRAILERS, trailers)

    get_http_response_trailer = method(_RESPONSE_TRAILERS, hostcalls.get_map_value)
    """Return the response trailer ``name``, or None if it is absent."""

    get_http_response_trailer_bytes = method(_RESPONSE_TRAILERS, hostcalls.get_map_value_bytes)
    """Return the raw value of the response trailer ``name``, or None."""

    set_http_response_trailer = method(_RESPONSE_TRAILERS, hostcalls.set_map_value)
    """Set the response trailer ``name``, replacing its values; None removes it."""

    set_http_response_trailer_bytes = method(_RESPONSE_TRAILERS, hostcalls.set_map_value_bytes)
    """Set the response trailer ``name`` to a raw value; None removes it."""

    add_http_response_trailer = method(_RESPONSE_TRAILERS, hostcalls.add_map_value)
    """Add a value to the response trailer ``name``, keeping existing ones."""

    add_http_response_trailer_bytes = method(_RESPONSE_TRAILERS, hostcalls.add_map_value_bytes)
    """Add a raw value to the response trailer ``name``, keeping existing ones."""

    remove_http_response_trailer = method(_RESPONSE_TRAILERS, hostcalls.remove_map_value)
    """Remove every value of the response trailer ``name``."""

    def resume_http_response(self) -> None:
        """Resume the response after a callback returned PAUSE."""
        _state.state.release(self.context_id)
        _host.continue_stream(_RESPONSE)

    reset_http_response = method(_RESPONSE, hostcalls.close_stream)
    """Reset the HTTP stream from the response side."""

    # Local responses and the end of the stream

    def send_http_response(
        self,
        status_code: int,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
    ) -> None:
        """Answer the request locally with ``status_code``; then return PAUSE from the callback."""
        hostcalls.send_http_response(status_code, headers, body)

    def send_grpc_response(
        self,
        grpc_status: GrpcStatusCode,
        grpc_status_message: str | None = None,
        custom_metadata: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        """Answer a gRPC request locally with ``grpc_status``; then return PAUSE."""
        hostcalls.send_grpc_response(grpc_status, grpc_status_message, custom_metadata)

    def on_log(self) -> None:
        """Called when the host writes the access log; request and response headers are readable."""
