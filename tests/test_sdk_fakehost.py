"""The SDK's unit tests' ``_proxywasm``: the emulator's host calls, recorded, over one context.

``FakeHost`` is the source engine's ``EmulatedHostModule`` over a ``HostState``, so the host
rules these tests meet are the emulator's own (``proxywasm.testing.host_root``/``host_http``/
``host_tcp``), not a copy. Unlike a ``Host`` it runs no callbacks (the tests call the SDK's
dispatcher directly), so it picks the context a call acts on itself: calls on a stream act on
``stream`` (``STREAM`` of plugin ``ROOT``, also a TCP connection), the others on the plugin.
The test sets that stream's header maps and buffers through ``maps`` and ``buffers``. Every
call is recorded; calls named in ``fail`` raise through the SDK's error factory. Bind it with
``installed()``, which also resets the SDK's global state afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from functools import wraps

from proxywasm import _contexts, _host, _log, _runtime, _targets
from proxywasm.testing.contexts import HttpStreamState, Scratch, TcpState
from proxywasm.testing.interfaces import host_function
from proxywasm.testing.records import Pairs, Plugin
from proxywasm.testing.source_engine import EmulatedHostModule
from proxywasm.testing.state import HostState
from proxywasm.types import BufferType, LogLevel, MapType

ROOT, STREAM, OTHER_STREAM = 1, 2, 3
_READABLE = {MapType.HTTP_REQUEST_HEADERS, MapType.HTTP_REQUEST_TRAILERS,
             MapType.HTTP_RESPONSE_HEADERS, MapType.HTTP_RESPONSE_TRAILERS}
# The host calls that act on the current stream or connection.
_ON_A_STREAM = frozenset({
    "get_buffer_bytes", "set_buffer_bytes", "get_buffer_status", "get_header_map_size",
    "get_header_map_pairs", "get_header_map_pairs_bytes", "set_header_map_pairs",
    "get_header_map_value", "get_header_map_value_bytes", "add_header_map_value",
    "replace_header_map_value", "remove_header_map_value", "continue_stream", "close_stream",
    "send_local_response",
})
_SCRATCH_MAPS = (MapType.GRPC_CALL_INITIAL_METADATA, MapType.GRPC_CALL_TRAILING_METADATA,
                 MapType.HTTP_CALL_RESPONSE_HEADERS, MapType.HTTP_CALL_RESPONSE_TRAILERS)


def _reverse(arguments: bytes) -> bytes:
    return arguments[::-1]


class _Maps(MutableMapping[int, Pairs]):
    """The header maps by type: the stream's, and callout answers' (the current scratch)."""

    def __init__(self, state: HostState) -> None:
        self._state = state

    def __getitem__(self, map_type: int) -> Pairs:
        pairs = self._state.streams[STREAM].header_map(map_type)
        if pairs is None:
            pairs = self._state.scratch.maps[map_type]
        return pairs

    def __setitem__(self, map_type: int, pairs: Pairs) -> None:
        stream = self._state.streams[STREAM]
        for side in stream.directions:
            if map_type == side.headers_map:
                side.headers = list(pairs)
                return
            if map_type == side.trailers_map:
                side.trailers = list(pairs)
                return
        self._state.scratch.maps[map_type] = list(pairs)

    def __delitem__(self, map_type: int) -> None:
        raise TypeError("a map cannot be removed; set it to []")

    def __iter__(self) -> Iterator[int]:
        return iter(MapType)

    def __len__(self) -> int:
        return len(MapType)


class _Buffers(MutableMapping[int, bytes]):
    """The buffers by type: the stream's and connection's, or the current scratch's."""

    def __init__(self, state: HostState) -> None:
        self._state = state

    def __getitem__(self, buffer_type: int) -> bytes:
        return bytes(self._state.get_buffer_bytes(buffer_type, 0, 0xFFFFFFFF))

    def __setitem__(self, buffer_type: int, data: bytes) -> None:
        value = bytearray(data)
        stream, connection = self._state.streams[STREAM], self._state.connections[STREAM]
        if buffer_type == BufferType.HTTP_REQUEST_BODY:
            stream.request.buffer = value
        elif buffer_type == BufferType.HTTP_RESPONSE_BODY:
            stream.response.buffer = value
        elif buffer_type == BufferType.DOWNSTREAM_DATA:
            connection.downstream.buffer = value
        elif buffer_type == BufferType.UPSTREAM_DATA:
            connection.upstream.buffer = value
        else:
            self._state.scratch.buffers[buffer_type] = value

    def __delitem__(self, buffer_type: int) -> None:
        raise TypeError("a buffer cannot be removed")

    def __iter__(self) -> Iterator[int]:
        return iter(BufferType)

    def __len__(self) -> int:
        return len(BufferType)


class FakeHost(EmulatedHostModule):
    """The emulator's ``_proxywasm`` over one context, recording every host call."""

    def __init__(self) -> None:
        self.state = HostState(time_ns=0)
        super().__init__(self.state)
        self.state.foreign_functions["reverse"] = _reverse
        self.state.plugins[ROOT] = Plugin(ROOT, "", "", b"")
        for context in (STREAM, OTHER_STREAM):
            stream = HttpStreamState(context, ROOT, readable=set(_READABLE))
            for side in stream.directions:
                side.headers, side.trailers = [], []
            self.state.streams[context] = stream
        self.state.connections[STREAM] = TcpState(STREAM, ROOT)
        self.state.scratch = Scratch(maps={map_type: [] for map_type in _SCRATCH_MAPS})
        self.stream = STREAM
        """The context the calls on a stream act on."""
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.fail: dict[str, int] = {}
        self.maps = _Maps(self.state)
        self.buffers = _Buffers(self.state)
        for method in dir(EmulatedHostModule):
            if host_function(method) is not None or method == "set_inherited_callbacks":
                setattr(self, method, self._recorded(method, getattr(self, method)))

    def _recorded(self, name: str, call: Callable[..., object]) -> Callable[..., object]:
        """``call`` as a host call of the one context: recorded, failed if in ``fail``."""

        @wraps(call)
        def host_call(*args: object) -> object:
            self.calls.append((name, tuple(list(arg) if isinstance(arg, tuple) else arg
                                           for arg in args)))
            if name in self.fail:
                raise self._factory(self.fail[name], "proxy_" + name)
            self.state.current_context = self.stream if name in _ON_A_STREAM else ROOT
            return call(*args)

        return host_call

    def called(self, name: str) -> list[tuple[object, ...]]:
        """Return the arguments of every call of host function ``name``."""
        return [args for called, args in self.calls if called == name]

    @property
    def logs(self) -> list[tuple[int, str]]:
        """Every line logged: (level, message)."""
        return [(int(record.level), record.message) for record in self.state.log_records]

    @property
    def level(self) -> int:
        """The host's log level."""
        return int(self.state.log_level)

    @level.setter
    def level(self, level: int) -> None:
        self.state.log_level = LogLevel(level)

    @property
    def nanoseconds(self) -> int:
        """The host's clock."""
        return self.state.time_ns

    @nanoseconds.setter
    def nanoseconds(self, value: int) -> None:
        self.state.time_ns = value

    @property
    def status(self) -> tuple[int, bytes]:
        """What ``proxy_get_status`` reports."""
        return self.state.scratch.status

    @status.setter
    def status(self, value: tuple[int, bytes]) -> None:
        self.state.scratch.status = value

    @property
    def shared(self) -> dict[str, tuple[bytes, int]]:
        """The shared data: (value, cas) by key."""
        return self.state.shared_data

    @property
    def properties(self) -> dict[tuple[str, ...], bytes]:
        """The VM's properties by path."""
        return self.state.properties

    @property
    def metrics(self) -> dict[int, int]:
        """Counter and gauge values by metric id."""
        return {metric_id: metric.value for metric_id, metric in self.state.metrics.items()}

    def metric_samples(self, metric_id: int) -> list[int]:
        """A histogram's recorded samples."""
        return list(self.state.metrics[metric_id].samples)


@contextmanager
def installed() -> Iterator[FakeHost]:
    """Bind a fresh FakeHost; afterwards unbind it and reset the SDK's global state."""
    fake = FakeHost()
    _targets.configure(frozenset(), {})  # as a module built for Envoy only
    _host.bind(fake)
    try:
        yield fake
    finally:
        _host.bind(None)
        _contexts.reset()
        _runtime.reset()
        _log.set_log_level(LogLevel.TRACE)

