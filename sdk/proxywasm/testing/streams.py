"""What a test sends through one HTTP stream or TCP connection, and what it can inspect.

A stream talks to its host only through ``StreamHost`` (``Host`` implements it): run a callback
as the stream's context, end the context, report a closed connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..types import Action, MapType, PeerType
from .attributes import PropertyValue, encoded_properties
from .contexts import HttpDirection, HttpStreamState, TcpDirection, TcpState
from .profiles import HostProfile
from .records import HeaderList, LocalResponse, Pairs, PairsInput, header_pairs


class StreamHost(Protocol):
    """What streams and connections need from the host that runs the filter."""

    @property
    def profile(self) -> HostProfile:
        """The proxy the host plays."""
        ...

    def run_callback(self, context_id: int, export: str, *args: int) -> int:
        """Run the callback ``export`` as ``context_id``, then apply its deferred effects."""
        ...

    def complete_context(self, context_id: int) -> None:
        """on_done, then on_log and on_delete once the filter is done with the context."""
        ...

    def close_connection(self, context_id: int, peer: PeerType) -> None:
        """The client connection closed: on_downstream_connection_close, once."""
        ...


DEFAULT_REQUEST_HEADERS: Pairs = [
    (":method", "GET"), (":path", "/"), (":authority", "example.com"), (":scheme", "http"),
]
DEFAULT_RESPONSE_HEADERS: Pairs = [(":status", "200")]


def as_bytes(value: bytes | str | None) -> bytes:
    """Bytes as given, or a str encoded as UTF-8 (None is empty)."""
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else bytes(value)


class HttpStream:
    """One HTTP request/response through the filter; send its parts, inspect the results."""

    def __init__(self, host: StreamHost, state: HttpStreamState) -> None:
        self._host = host
        self._state = state
        self.actions: list[tuple[str, Action]] = []
        self.host_errors: list[str] = []
        """What the proxy logged about this stream (WasmX: a PAUSE it ignored)."""

    @property
    def context_id(self) -> int:
        """The stream's context id."""
        return self._state.context_id

    # What the test sends

    def set_property(self, path: str | Sequence[str], value: PropertyValue) -> None:
        """Give this stream a property (``"source.address"``, or its segments), encoded as
        the host's proxy answers it (``Host(properties=...)`` gives one to every stream)."""
        self._state.properties.update(encoded_properties(path, value, self._host.profile))

    def send_request_headers(self, headers: PairsInput | None = None,
                             end_of_stream: bool = False) -> Action:
        """Deliver request headers (default: GET / for example.com)."""
        state = self._require_open("send_request_headers")
        state.request.headers = self._request_headers(DEFAULT_REQUEST_HEADERS if headers is None
                                                      else headers)
        count = len(state.request.headers)
        # Held from the start: a callout that fails within the callback (in WasmX, an upstream
        # that does not resolve) may resume the request before the callback's answer is seen.
        state.request.paused = True
        action = self._run("request_headers", "proxy_on_request_headers", count,
                           end_of_stream and self._host.profile.headers_end_of_stream,
                           readable=MapType.HTTP_REQUEST_HEADERS)
        state.request.paused = state.request.paused and action == Action.PAUSE
        return action

    def send_request_body(self, data: bytes | str, end_of_stream: bool = True) -> Action:
        """Deliver one chunk of the request body."""
        state = self._require_open("send_request_body")
        return self._body(state, state.request, "request_body", "proxy_on_request_body",
                          as_bytes(data), end_of_stream)

    def send_request_trailers(self, trailers: PairsInput) -> Action:
        """Deliver request trailers (the end of the request)."""
        state = self._require_open("send_request_trailers")
        state.request.trailers = self._pairs(trailers)
        if not self._host.profile.trailers:
            return Action.CONTINUE
        return self._run("request_trailers", "proxy_on_request_trailers",
                         len(state.request.trailers), readable=MapType.HTTP_REQUEST_TRAILERS)

    def send_response_headers(self, headers: PairsInput | None = None,
                              end_of_stream: bool = False) -> Action:
        """Deliver response headers from the upstream (default: ``:status: 200``)."""
        state = self._require_open("send_response_headers")
        state.response.headers = self._pairs(DEFAULT_RESPONSE_HEADERS if headers is None
                                             else headers)
        count = len(state.response.headers)
        state.response.paused = True  # held from the start, as the request headers
        action = self._run("response_headers", "proxy_on_response_headers", count,
                           end_of_stream and self._host.profile.headers_end_of_stream,
                           readable=MapType.HTTP_RESPONSE_HEADERS)
        state.response.paused = state.response.paused and action == Action.PAUSE
        return action

    def send_response_body(self, data: bytes | str, end_of_stream: bool = True) -> Action:
        """Deliver one chunk of the response body."""
        state = self._require_open("send_response_body")
        return self._body(state, state.response, "response_body", "proxy_on_response_body",
                          as_bytes(data), end_of_stream)

    def send_response_trailers(self, trailers: PairsInput) -> Action:
        """Deliver response trailers."""
        state = self._require_open("send_response_trailers")
        state.response.trailers = self._pairs(trailers)
        if not self._host.profile.trailers:
            return Action.CONTINUE
        return self._run("response_trailers", "proxy_on_response_trailers",
                         len(state.response.trailers), readable=MapType.HTTP_RESPONSE_TRAILERS)

    def complete(self) -> None:
        """End the stream: on_done, then (once the filter is done) on_log and on_delete."""
        if not self._state.deleted:
            self._host.complete_context(self.context_id)

    @property
    def completed(self) -> bool:
        """Whether the stream's context was deleted (on_done accepted, on_log ran)."""
        return self._state.deleted

    # What the filter did

    @property
    def request_headers(self) -> HeaderList:
        """The request headers as the upstream gets them (after the filter's changes)."""
        return HeaderList(self._state.request.headers or [])

    @property
    def request_trailers(self) -> HeaderList:
        """The request trailers after the filter's changes."""
        return HeaderList(self._state.request.trailers or [])

    @property
    def response_headers(self) -> HeaderList:
        """The response headers as the client gets them (a local reply's, if one was sent)."""
        return HeaderList(self._state.response.headers or [])

    @property
    def response_trailers(self) -> HeaderList:
        """The response trailers after the filter's changes."""
        return HeaderList(self._state.response.trailers or [])

    @property
    def request_body(self) -> bytes:
        """The request body passed on to the upstream so far."""
        return bytes(self._state.request.body)

    @property
    def response_body(self) -> bytes:
        """The response body passed on to the client so far."""
        return bytes(self._state.response.body)

    @property
    def local_response(self) -> LocalResponse | None:
        """What the filter passed to ``send_http_response``, or None."""
        return self._state.local_response

    @property
    def request_paused(self) -> bool:
        """Whether the filter holds the request (it returned PAUSE and has not resumed)."""
        return self._state.request.paused

    @property
    def response_paused(self) -> bool:
        """Whether the filter holds the response."""
        return self._state.response.paused

    @property
    def reset(self) -> bool:
        """Whether the filter reset the stream (``close_stream``)."""
        return self._state.reset

    @property
    def properties(self) -> dict[tuple[str, ...], bytes]:
        """Properties of this stream only: set by the filter, or by the test
        (``set_property``), encoded."""
        return self._state.properties

    # Internals

    def _pairs(self, headers: PairsInput) -> Pairs:
        """Headers as the proxy stores them (lower-cased names in Envoy, as sent in nginx)."""
        return header_pairs(headers, self._host.profile.lowercases_headers)

    def _request_headers(self, headers: PairsInput) -> Pairs:
        """The request's headers as the filter sees them: in nginx, ``:authority`` is the
        server name, and the client's authority arrives as its Host header."""
        pairs = self._pairs(headers)
        server_name = self._host.profile.server_name
        if server_name is None:
            return pairs
        authority = HeaderList(pairs).get(":authority")
        if authority is not None and HeaderList(pairs).get("host") is None:
            pairs.append(("Host", authority))
        pairs = [pair for pair in pairs if pair[0] != ":authority"]
        pseudo = sum(1 for name, _ in pairs if name.startswith(":"))
        pairs.insert(pseudo, (":authority", server_name))
        return pairs

    def _require_open(self, what: str) -> HttpStreamState:
        if self.completed:
            raise RuntimeError(f"{what}: the stream was completed")
        if self._state.local_response is not None:
            raise RuntimeError(f"{what}: the filter already answered the request locally "
                               f"({self._state.local_response.status}); nothing more arrives")
        if self._state.reset:
            raise RuntimeError(f"{what}: the filter reset the stream")
        return self._state

    def _run(self, phase: str, export: str, *args: int, readable: MapType | None = None) -> Action:
        """Run one phase's callback; its map (``readable``) can be read and changed during the
        callback and, as in Envoy, afterwards only while the filter holds it (PAUSE)."""
        if readable is not None:
            self._state.readable.add(readable)
        result = self._host.run_callback(self.context_id, export, self.context_id, *args)
        action = Action(result) if result in tuple(Action) else Action.CONTINUE
        if readable is not None and action == Action.CONTINUE:
            self._state.readable.discard(readable)
        self.actions.append((phase, action))
        return action

    def _body(self, state: HttpStreamState, side: HttpDirection, phase: str, export: str,
              data: bytes, end_of_stream: bool) -> Action:
        """Deliver a body chunk to one direction; passed on if the filter continues. The last
        chunk makes the direction's (empty) trailers readable, as Envoy does."""
        if side.buffer is None:
            side.buffer = bytearray()
        side.buffer.extend(data)
        if side is state.request and self._host.profile.request_body_whole:
            if not end_of_stream:
                return Action.PAUSE  # nginx reads the rest before calling the filter
            if not side.buffer:
                side.buffer = None
                return Action.CONTINUE  # and calls no body callback for an empty body
        limit = self._host.profile.response_body_buffers if side is state.response else None
        if side.buffering and limit is not None:
            if not end_of_stream and len(side.buffer) < limit:
                return Action.PAUSE  # the proxy buffers without calling the filter
            side.buffering, side.buffered = False, True
        added_trailers = end_of_stream and side.trailers is None
        if added_trailers:
            side.trailers = []
            state.readable.add(side.trailers_map)
        action = self._run(phase, export, len(side.buffer), end_of_stream)
        if added_trailers and not side.trailers:
            side.trailers = None
            state.readable.discard(side.trailers_map)
        if state.local_response is not None or state.reset:
            return action
        applied = action
        if limit is not None and action == Action.PAUSE:
            if side.buffered:
                applied = Action.CONTINUE
                self.host_errors.append('invalid "on_response_body" return action (PAUSE): '
                                        "response body buffering already requested")
            else:
                side.buffering = True
        side.paused = applied == Action.PAUSE
        if applied == Action.CONTINUE:
            side.forward()
        return action


class TcpConnection:
    """One TCP connection through the filter."""

    def __init__(self, host: StreamHost, state: TcpState, action: Action) -> None:
        self._host = host
        self._state = state
        self.new_connection_action = action

    @property
    def context_id(self) -> int:
        """The connection's context id."""
        return self._state.context_id

    def send_downstream_data(self, data: bytes | str, end_of_stream: bool = False) -> Action:
        """Deliver bytes from the client."""
        return self._data(self._state.downstream, "proxy_on_downstream_data", as_bytes(data),
                          end_of_stream)

    def send_upstream_data(self, data: bytes | str, end_of_stream: bool = False) -> Action:
        """Deliver bytes from the server; its last bytes (``end_of_stream``) are followed by
        on_upstream_close(UNKNOWN), the only way Envoy reports the server's close."""
        action = self._data(self._state.upstream, "proxy_on_upstream_data", as_bytes(data),
                            end_of_stream)
        if end_of_stream:
            self.close_upstream(PeerType.UNKNOWN)
        return action

    def close_downstream(self, peer: PeerType = PeerType.REMOTE) -> None:
        """The client closed the connection (reported once, as Envoy does: nothing happens if
        the connection is already closed)."""
        self._host.close_connection(self.context_id, peer)

    def close_upstream(self, peer: PeerType = PeerType.REMOTE) -> None:
        """The server closed the connection."""
        self._host.run_callback(self.context_id, "proxy_on_upstream_connection_close",
                                self.context_id, int(peer))

    def complete(self) -> None:
        """End the connection: on_done, then (once the filter is done) on_log and on_delete."""
        if not self._state.deleted:
            self._host.complete_context(self.context_id)

    @property
    def completed(self) -> bool:
        """Whether the connection's context was deleted."""
        return self._state.deleted

    @property
    def data_to_upstream(self) -> bytes:
        """Bytes from the client that the filter passed on to the server."""
        return bytes(self._state.downstream.passed)

    @property
    def data_to_downstream(self) -> bytes:
        """Bytes from the server that the filter passed on to the client."""
        return bytes(self._state.upstream.passed)

    @property
    def downstream_closed(self) -> bool:
        """Whether the filter closed the client side."""
        return self._state.downstream.closed

    @property
    def upstream_closed(self) -> bool:
        """Whether the filter closed the server side."""
        return self._state.upstream.closed

    def _data(self, side: TcpDirection, export: str, data: bytes, end_of_stream: bool) -> Action:
        if side.buffer is None:
            side.buffer = bytearray()
        side.buffer.extend(data)
        result = self._host.run_callback(self.context_id, export, self.context_id,
                                         len(side.buffer), end_of_stream)
        action = Action(result) if result in tuple(Action) else Action.CONTINUE
        side.paused = action == Action.PAUSE
        if action == Action.CONTINUE:
            side.forward()
        return action
