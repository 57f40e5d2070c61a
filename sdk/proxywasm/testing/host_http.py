"""The host calls that act on an HTTP stream: its header maps (which ones a callback may read,
how names are stored and ordered), its body chunks, resuming or resetting it, local replies."""

from __future__ import annotations

from ..types import BufferType, MapType, Status, StreamType
from .contexts import Event, EventKind, HttpStreamState
from .host_root import RootSemantics
from .records import HeaderList, HostStatusError, LocalResponse, Pairs, header_pairs, wire_bytes

_HTTP_STREAMS = frozenset({StreamType.HTTP_REQUEST, StreamType.HTTP_RESPONSE})
_HTTP_BODIES = frozenset({BufferType.HTTP_REQUEST_BODY, BufferType.HTTP_RESPONSE_BODY})
_STREAM_MAPS = frozenset({
    MapType.HTTP_REQUEST_HEADERS, MapType.HTTP_REQUEST_TRAILERS,
    MapType.HTTP_RESPONSE_HEADERS, MapType.HTTP_RESPONSE_TRAILERS,
})
# The maps on_log can read: Envoy gives it the access log's request and response headers
# and response trailers.
_LOG_MAPS = frozenset({
    MapType.HTTP_REQUEST_HEADERS, MapType.HTTP_RESPONSE_HEADERS, MapType.HTTP_RESPONSE_TRAILERS,
})
_REQUEST_MAPS = frozenset({MapType.HTTP_REQUEST_HEADERS, MapType.HTTP_REQUEST_TRAILERS})
_HEADER_MAPS = frozenset({MapType.HTTP_REQUEST_HEADERS, MapType.HTTP_RESPONSE_HEADERS})
# Where a root context's calls on a stream crash the worker (WasmX), setting headers in
# on_tick traps first, with these words.
_TICK_SET_TRAPS: dict[int, str] = {
    MapType.HTTP_REQUEST_HEADERS:
        "host trap (bad usage): can only set request headers before response is produced",
    MapType.HTTP_RESPONSE_HEADERS:
        'host trap (bad usage): can only set response headers before "on_response_body"',
}


def _insert(pairs: Pairs, key: str, value: str) -> None:
    """Append a header; pseudo-headers go after the last pseudo-header, as Envoy orders them."""
    if key.startswith(":"):
        position = sum(1 for name, _ in pairs if name.startswith(":"))
        pairs.insert(position, (key, value))
    else:
        pairs.append((key, value))


class HttpSemantics(RootSemantics):
    """What the host calls do to the current HTTP stream (header maps also serve callouts)."""

    def _root_stream_call(self, call: str) -> None:
        """Crash the worker if the profile's proxy does on a root context's ``call`` on a
        stream (it looks up the request of the context whose callback runs: none)."""
        if self.profile.root_stream_calls_crash and self.current_context in self.plugins:
            raise self.crash(
                f"the {self.profile.label} worker crashed (SIGSEGV): {call} in "
                f"{self.callback or 'a callback'} of root context {self.current_context}, which "
                "has no request (proxy_set_effective_context does nothing there)")

    def _stream(self, call: str) -> HttpStreamState:
        self._root_stream_call(call)
        stream = self.streams.get(self.current_context)
        if stream is None:
            raise HostStatusError(Status.BAD_ARGUMENT,
                                  "the current context is not an HTTP stream")
        return stream

    def _context_buffer(self, buffer_type: int) -> bytearray | None:
        if buffer_type not in _HTTP_BODIES:
            return super()._context_buffer(buffer_type)
        stream = self.streams.get(self.current_context)
        return None if stream is None else stream.body_buffer(buffer_type)

    def _context_map(self, map_type: int) -> Pairs | None:
        """A stream's map, while the callback may read it (on_log: the access log's maps)."""
        if map_type not in _STREAM_MAPS:
            return super()._context_map(map_type)
        if map_type in _HEADER_MAPS:
            self._root_stream_call(f"a call on the {MapType(map_type).name} map")
        stream = self.streams.get(self.current_context)
        if stream is None:
            return None
        readable = _LOG_MAPS if stream.logging else stream.readable
        return stream.header_map(map_type) if map_type in readable else None

    # Header maps

    def get_header_map_size(self, map_type: int) -> int:
        """proxy_get_header_map_size: Envoy's byte size, the sum of names' and values' sizes."""
        return sum(len(wire_bytes(key)) + len(wire_bytes(value))
                   for key, value in self._map(map_type))

    def get_header_map_pairs(self, map_type: int) -> Pairs:
        """proxy_get_header_map_pairs."""
        return list(self._map(map_type))

    def _changed_map(self, map_type: int) -> Pairs:
        """The map a set/add/replace/remove call changes (WasmX traps such calls in on_tick
        before looking for the map)."""
        trap = _TICK_SET_TRAPS.get(map_type)
        if (trap is not None and self.profile.root_stream_calls_crash
                and self.callback == "proxy_on_tick"):
            raise self.trap(trap)
        return self._map(map_type)

    def _header_name(self, key: str) -> str:
        """A header name as the proxy stores it (Envoy lower-cases, nginx keeps the case)."""
        return key.lower() if self.profile.lowercases_headers else key

    def set_header_map_pairs(self, map_type: int, pairs: Pairs) -> None:
        """proxy_set_header_map_pairs: replace the whole map."""
        current = self._changed_map(map_type)
        current.clear()
        for key, value in pairs:
            _insert(current, self._header_name(key), value)

    def get_header_map_value(self, map_type: int, key: str) -> str:
        """proxy_get_header_map_value: the first value of ``key`` (names match in any case)."""
        wanted = key.lower()
        for name, value in self._map(map_type):
            if name.lower() == wanted:
                return value
        raise HostStatusError(Status.NOT_FOUND, f"no header {key!r}")

    def add_header_map_value(self, map_type: int, key: str, value: str) -> None:
        """proxy_add_header_map_value: add a value, keeping existing ones."""
        _insert(self._changed_map(map_type), self._header_name(key), value)

    def replace_header_map_value(self, map_type: int, key: str, value: str) -> None:
        """proxy_replace_header_map_value: the first value replaced in place, others removed."""
        pairs = self._changed_map(map_type)
        key = self._header_name(key)
        positions = [index for index, (name, _) in enumerate(pairs)
                     if name.lower() == key.lower()]
        if not positions:
            _insert(pairs, key, value)
            return
        pairs[positions[0]] = (key, value)
        for index in reversed(positions[1:]):
            del pairs[index]

    def remove_header_map_value(self, map_type: int, key: str) -> None:
        """proxy_remove_header_map_value: remove every value of ``key``."""
        pairs = self._changed_map(map_type)
        pairs[:] = [pair for pair in pairs if pair[0].lower() != key.lower()]

    # Resuming, resetting, answering locally

    def _resuming(self, stream_type: int) -> None:
        """As in Envoy, resuming either HTTP direction makes the request's header maps
        unreadable from then on (the response's stay readable)."""
        if stream_type not in _HTTP_STREAMS:
            super()._resuming(stream_type)
            return
        self._stream("proxy_continue_stream").readable -= _REQUEST_MAPS

    def _closing(self, stream_type: int) -> None:
        if stream_type not in _HTTP_STREAMS:
            super()._closing(stream_type)
            return
        self._stream("proxy_close_stream")

    def send_local_response(
        self, status_code: int, details: str, body: bytes, headers: Pairs, grpc_status: int
    ) -> None:
        """proxy_send_local_response: answer locally; the reply passes the filter afterwards."""
        stream = self._stream("proxy_send_local_response")
        if stream.local_response is not None:
            raise HostStatusError(Status.BAD_ARGUMENT, "a local response was already sent")
        stream.local_response = LocalResponse(
            status_code, HeaderList(header_pairs(headers, self.profile.lowercases_headers)),
            bytes(body), details, grpc_status,
        )
        self.events.append(Event(EventKind.LOCAL_RESPONSE, stream.context_id))
