"""``HttpContext``: one per HTTP request/response, with the Rust SDK's ``HttpContext`` API."""

from __future__ import annotations

from . import _host, _log, _state, _targets, hostcalls
from .context import Context
from .hostcalls import MAX_SIZE
from .types import Action, BufferType, GrpcStatusCode, MapType, StreamType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence
    from typing import TypeVar

    _Value = TypeVar("_Value", str, bytes)

_REQUEST_HEADERS = MapType.HTTP_REQUEST_HEADERS
_REQUEST_TRAILERS = MapType.HTTP_REQUEST_TRAILERS
_RESPONSE_HEADERS = MapType.HTTP_RESPONSE_HEADERS
_RESPONSE_TRAILERS = MapType.HTTP_RESPONSE_TRAILERS
_REQUEST_BODY = BufferType.HTTP_REQUEST_BODY
_RESPONSE_BODY = BufferType.HTTP_RESPONSE_BODY
_REQUEST = StreamType.HTTP_REQUEST
_RESPONSE = StreamType.HTTP_RESPONSE


def _lowered(pairs: list[tuple[str, _Value]]) -> list[tuple[str, _Value]]:
    """Header names lowercased, as Envoy gives them, where a target host (Nginx WasmX) keeps
    the client's case; else ``pairs`` as they are."""
    if not _targets.lower_header_names:
        return pairs
    return [(name.lower(), value) for name, value in pairs]


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

    def get_http_request_headers(self) -> list[tuple[str, str]]:
        """Return all request headers as (name, value) pairs."""
        return _lowered(_host.get_header_map_pairs(_REQUEST_HEADERS))

    def get_http_request_headers_bytes(self) -> list[tuple[str, bytes]]:
        """Return all request headers with raw byte values."""
        return _lowered(_host.get_header_map_pairs_bytes(_REQUEST_HEADERS))

    def set_http_request_headers(self, headers: Sequence[tuple[str, str]]) -> None:
        """Replace all request headers."""
        _host.set_header_map_pairs(_REQUEST_HEADERS, headers)

    def set_http_request_headers_bytes(self, headers: Sequence[tuple[str, bytes]]) -> None:
        """Replace all request headers with pairs whose values are bytes."""
        _host.set_header_map_pairs(_REQUEST_HEADERS, headers)

    def get_http_request_header(self, name: str) -> str | None:
        """Return the request header ``name``, or None if it is absent."""
        return _host.get_header_map_value(_REQUEST_HEADERS, name)

    def get_http_request_header_bytes(self, name: str) -> bytes | None:
        """Return the raw value of the request header ``name``, or None."""
        return _host.get_header_map_value_bytes(_REQUEST_HEADERS, name)

    def set_http_request_header(self, name: str, value: str | None) -> None:
        """Set the request header ``name``, replacing its values; None removes it."""
        if value is None:
            _host.remove_header_map_value(_REQUEST_HEADERS, name)
        else:
            _host.replace_header_map_value(_REQUEST_HEADERS, name, value)

    def set_http_request_header_bytes(self, name: str, value: bytes | None) -> None:
        """Set the request header ``name`` to a raw value; None removes it."""
        if value is None:
            _host.remove_header_map_value(_REQUEST_HEADERS, name)
        else:
            _host.replace_header_map_value(_REQUEST_HEADERS, name, value)

    def add_http_request_header(self, name: str, value: str) -> None:
        """Add a value to the request header ``name``, keeping existing ones."""
        _host.add_header_map_value(_REQUEST_HEADERS, name, value)

    def add_http_request_header_bytes(self, name: str, value: bytes) -> None:
        """Add a raw value to the request header ``name``, keeping existing ones."""
        _host.add_header_map_value(_REQUEST_HEADERS, name, value)

    def remove_http_request_header(self, name: str) -> None:
        """Remove every value of the request header ``name``."""
        _host.remove_header_map_value(_REQUEST_HEADERS, name)

    def on_http_request_body(
        self, body_size: int, end_of_stream: bool
    ) -> Action | Awaitable[Action]:
        """Called as request body data arrives; ``body_size`` counts all data buffered so far."""
        return Action.CONTINUE

    def get_http_request_body(self, start: int = 0, max_size: int = MAX_SIZE) -> bytes | None:
        """Return up to ``max_size`` bytes of the buffered request body from ``start``."""
        return _host.get_buffer_bytes(_REQUEST_BODY, start, max_size)

    def set_http_request_body(self, start: int, size: int, value: bytes) -> None:
        """Replace ``size`` bytes of the buffered request body at ``start`` with ``value``."""
        _host.set_buffer_bytes(_REQUEST_BODY, start, size, value)

    def whole_http_request_body(self, body_size: int, end_of_stream: bool) -> bytes | None:
        """The whole request body once its end has arrived, else None: return PAUSE while it is
        None so the proxy buffers the body (above its buffer limit Envoy answers 413)."""
        return self._whole_body(_REQUEST_BODY, "request", body_size, end_of_stream)

    def on_http_request_trailers(self, num_trailers: int) -> Action | Awaitable[Action]:
        """Called with the request trailers; return PAUSE to hold the request until resumed."""
        return Action.CONTINUE

    def get_http_request_trailers(self) -> list[tuple[str, str]]:
        """Return all request trailers as (name, value) pairs."""
        return _host.get_header_map_pairs(_REQUEST_TRAILERS)

    def get_http_request_trailers_bytes(self) -> list[tuple[str, bytes]]:
        """Return all request trailers with raw byte values."""
        return _host.get_header_map_pairs_bytes(_REQUEST_TRAILERS)

    def set_http_request_trailers(self, trailers: Sequence[tuple[str, str]]) -> None:
        """Replace all request trailers."""
        _host.set_header_map_pairs(_REQUEST_TRAILERS, trailers)

    def set_http_request_trailers_bytes(self, trailers: Sequence[tuple[str, bytes]]) -> None:
        """Replace all request trailers with pairs whose values are bytes."""
        _host.set_header_map_pairs(_REQUEST_TRAILERS, trailers)

    def get_http_request_trailer(self, name: str) -> str | None:
        """Return the request trailer ``name``, or None if it is absent."""
        return _host.get_header_map_value(_REQUEST_TRAILERS, name)

    def get_http_request_trailer_bytes(self, name: str) -> bytes | None:
        """Return the raw value of the request trailer ``name``, or None."""
        return _host.get_header_map_value_bytes(_REQUEST_TRAILERS, name)

    def set_http_request_trailer(self, name: str, value: str | None) -> None:
        """Set the request trailer ``name``, replacing its values; None removes it."""
        if value is None:
            _host.remove_header_map_value(_REQUEST_TRAILERS, name)
        else:
            _host.replace_header_map_value(_REQUEST_TRAILERS, name, value)

    def set_http_request_trailer_bytes(self, name: str, value: bytes | None) -> None:
        """Set the request trailer ``name`` to a raw value; None removes it."""
        if value is None:
            _host.remove_header_map_value(_REQUEST_TRAILERS, name)
        else:
            _host.replace_header_map_value(_REQUEST_TRAILERS, name, value)

    def add_http_request_trailer(self, name: str, value: str) -> None:
        """Add a value to the request trailer ``name``, keeping existing ones."""
        _host.add_header_map_value(_REQUEST_TRAILERS, name, value)

    def add_http_request_trailer_bytes(self, name: str, value: bytes) -> None:
        """Add a raw value to the request trailer ``name``, keeping existing ones."""
        _host.add_header_map_value(_REQUEST_TRAILERS, name, value)

    def remove_http_request_trailer(self, name: str) -> None:
        """Remove every value of the request trailer ``name``."""
        _host.remove_header_map_value(_REQUEST_TRAILERS, name)

    def resume_http_request(self) -> None:
        """Resume the request after a callback returned PAUSE."""
        _state.state.release(self.context_id)
        _host.continue_stream(_REQUEST)

    def reset_http_request(self) -> None:
        """Reset the HTTP stream from the request side."""
        _host.close_stream(_REQUEST)

    # Response

    def on_http_response_headers(
        self, num_headers: int, end_of_stream: bool
    ) -> Action | Awaitable[Action]:
        """Called with the response headers; return PAUSE to hold the response until resumed."""
        return Action.CONTINUE

    def get_http_response_headers(self) -> list[tuple[str, str]]:
        """Return all response headers as (name, value) pairs."""
        return _lowered(_host.get_header_map_pairs(_RESPONSE_HEADERS))

    def get_http_response_headers_bytes(self) -> list[tuple[str, bytes]]:
        """Return all response headers with raw byte values."""
        return _lowered(_host.get_header_map_pairs_bytes(_RESPONSE_HEADERS))

    def set_http_response_headers(self, headers: Sequence[tuple[str, str]]) -> None:
        """Replace all response headers."""
        _host.set_header_map_pairs(_RESPONSE_HEADERS, headers)

    def set_http_response_headers_bytes(self, headers: Sequence[tuple[str, bytes]]) -> None:
        """Replace all response headers with pairs whose values are bytes."""
        _host.set_header_map_pairs(_RESPONSE_HEADERS, headers)

    def get_http_response_header(self, name: str) -> str | None:
        """Return the response header ``name``, or None if it is absent."""
        return _host.get_header_map_value(_RESPONSE_HEADERS, name)

    def get_http_response_header_bytes(self, name: str) -> bytes | None:
        """Return the raw value of the response header ``name``, or None."""
        return _host.get_header_map_value_bytes(_RESPONSE_HEADERS, name)

    def set_http_response_header(self, name: str, value: str | None) -> None:
        """Set the response header ``name``, replacing its values; None removes it."""
        if value is None:
            _host.remove_header_map_value(_RESPONSE_HEADERS, name)
        else:
            _host.replace_header_map_value(_RESPONSE_HEADERS, name, value)

    def set_http_response_header_bytes(self, name: str, value: bytes | None) -> None:
        """Set the response header ``name`` to a raw value; None removes it."""
        if value is None:
            _host.remove_header_map_value(_RESPONSE_HEADERS, name)
        else:
            _host.replace_header_map_value(_RESPONSE_HEADERS, name, value)

    def add_http_response_header(self, name: str, value: str) -> None:
        """Add a value to the response header ``name``, keeping existing ones."""
        _host.add_header_map_value(_RESPONSE_HEADERS, name, value)

    def add_http_response_header_bytes(self, name: str, value: bytes) -> None:
        """Add a raw value to the response header ``name``, keeping existing ones."""
        _host.add_header_map_value(_RESPONSE_HEADERS, name, value)

    def remove_http_response_header(self, name: str) -> None:
        """Remove every value of the response header ``name``."""
        _host.remove_header_map_value(_RESPONSE_HEADERS, name)

    def on_http_response_body(
        self, body_size: int, end_of_stream: bool
    ) -> Action | Awaitable[Action]:
        """Called as response body data arrives; ``body_size`` counts all data buffered so far."""
        return Action.CONTINUE

    def get_http_response_body(self, start: int = 0, max_size: int = MAX_SIZE) -> bytes | None:
        """Return up to ``max_size`` bytes of the buffered response body from ``start``."""
        return _host.get_buffer_bytes(_RESPONSE_BODY, start, max_size)

    def set_http_response_body(self, start: int, size: int, value: bytes) -> None:
        """Replace ``size`` bytes of the buffered response body at ``start`` with ``value``."""
        _host.set_buffer_bytes(_RESPONSE_BODY, start, size, value)

    def whole_http_response_body(self, body_size: int, end_of_stream: bool) -> bytes | None:
        """The whole response body once its end has arrived, else None: return PAUSE while it
        is None (above the proxy's buffer limit Envoy answers 500 instead)."""
        return self._whole_body(_RESPONSE_BODY, "response", body_size, end_of_stream)

    def _whole_body(self, buffer: BufferType, side: str, body_size: int,
                    end_of_stream: bool) -> bytes | None:
        if end_of_stream:
            return _host.get_buffer_bytes(buffer, 0, body_size) or b""
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

    def get_http_response_trailers(self) -> list[tuple[str, str]]:
        """Return all response trailers as (name, value) pairs."""
        return _host.get_header_map_pairs(_RESPONSE_TRAILERS)

    def get_http_response_trailers_bytes(self) -> list[tuple[str, bytes]]:
        """Return all response trailers with raw byte values."""
        return _host.get_header_map_pairs_bytes(_RESPONSE_TRAILERS)

    def set_http_response_trailers(self, trailers: Sequence[tuple[str, str]]) -> None:
        """Replace all response trailers."""
        _host.set_header_map_pairs(_RESPONSE_TRAILERS, trailers)

    def set_http_response_trailers_bytes(self, trailers: Sequence[tuple[str, bytes]]) -> None:
        """Replace all response trailers with pairs whose values are bytes."""
        _host.set_header_map_pairs(_RESPONSE_TRAILERS, trailers)

    def get_http_response_trailer(self, name: str) -> str | None:
        """Return the response trailer ``name``, or None if it is absent."""
        return _host.get_header_map_value(_RESPONSE_TRAILERS, name)

    def get_http_response_trailer_bytes(self, name: str) -> bytes | None:
        """Return the raw value of the response trailer ``name``, or None."""
        return _host.get_header_map_value_bytes(_RESPONSE_TRAILERS, name)

    def set_http_response_trailer(self, name: str, value: str | None) -> None:
        """Set the response trailer ``name``, replacing its values; None removes it."""
        if value is None:
            _host.remove_header_map_value(_RESPONSE_TRAILERS, name)
        else:
            _host.replace_header_map_value(_RESPONSE_TRAILERS, name, value)

    def set_http_response_trailer_bytes(self, name: str, value: bytes | None) -> None:
        """Set the response trailer ``name`` to a raw value; None removes it."""
        if value is None:
            _host.remove_header_map_value(_RESPONSE_TRAILERS, name)
        else:
            _host.replace_header_map_value(_RESPONSE_TRAILERS, name, value)

    def add_http_response_trailer(self, name: str, value: str) -> None:
        """Add a value to the response trailer ``name``, keeping existing ones."""
        _host.add_header_map_value(_RESPONSE_TRAILERS, name, value)

    def add_http_response_trailer_bytes(self, name: str, value: bytes) -> None:
        """Add a raw value to the response trailer ``name``, keeping existing ones."""
        _host.add_header_map_value(_RESPONSE_TRAILERS, name, value)

    def remove_http_response_trailer(self, name: str) -> None:
        """Remove every value of the response trailer ``name``."""
        _host.remove_header_map_value(_RESPONSE_TRAILERS, name)

    def resume_http_response(self) -> None:
        """Resume the response after a callback returned PAUSE."""
        _state.state.release(self.context_id)
        _host.continue_stream(_RESPONSE)

    def reset_http_response(self) -> None:
        """Reset the HTTP stream from the response side."""
        _host.close_stream(_RESPONSE)

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
