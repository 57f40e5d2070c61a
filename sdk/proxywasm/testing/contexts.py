"""What the emulated proxy keeps: per context, HTTP streams and TCP connections, each direction
an object (its data, what was passed on, whether the filter holds it); callback-scoped scratch
data; the work deferred until the current callback returns; what the VMs of a proxy share."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, auto
from typing import TYPE_CHECKING

from ..types import BufferType, MapType, StreamType
from .records import LocalResponse, Pairs

if TYPE_CHECKING:
    from .host_root import RootSemantics


@dataclass
class HttpDirection:
    """The request or the response of a stream: its header maps, the body chunk the filter
    sees (``buffer``), the body passed on (``body``), and whether the filter paused it."""

    headers_map: MapType
    trailers_map: MapType
    headers: Pairs | None = None
    trailers: Pairs | None = None
    body: bytearray = field(default_factory=bytearray)
    buffer: bytearray | None = None
    paused: bool = False
    buffering: bool = False
    """The filter asked a proxy that buffers for it (WasmX) to buffer this body."""
    buffered: bool = False
    """That buffering is over: a later PAUSE is treated as CONTINUE."""

    def forward(self) -> None:
        """Pass the buffered body on (the filter continued this direction)."""
        if self.buffer is not None:
            self.body.extend(self.buffer)
            self.buffer = None


def _request() -> HttpDirection:
    return HttpDirection(MapType.HTTP_REQUEST_HEADERS, MapType.HTTP_REQUEST_TRAILERS)


def _response() -> HttpDirection:
    return HttpDirection(MapType.HTTP_RESPONSE_HEADERS, MapType.HTTP_RESPONSE_TRAILERS)


@dataclass
class HttpStreamState:
    """One HTTP stream as the proxy sees it: both directions, which maps the current callback
    may read, the local reply, and how the stream ended."""

    context_id: int
    root_context_id: int
    request: HttpDirection = field(default_factory=_request)
    response: HttpDirection = field(default_factory=_response)
    local_response: LocalResponse | None = None
    readable: set[int] = field(default_factory=set)
    logging: bool = False
    reset: bool = False
    deleted: bool = False
    properties: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    started_ns: int = 0
    """The host time the request began (``request.time``)."""

    @property
    def directions(self) -> tuple[HttpDirection, HttpDirection]:
        """The request, then the response."""
        return self.request, self.response

    def direction(self, stream_type: int) -> HttpDirection:
        """The direction ``proxy_continue_stream``/``proxy_close_stream`` name."""
        return self.request if stream_type == StreamType.HTTP_REQUEST else self.response

    def header_map(self, map_type: int) -> Pairs | None:
        """The headers or trailers of ``map_type`` (None where they have not arrived)."""
        for side in self.directions:
            if map_type == side.headers_map:
                return side.headers
            if map_type == side.trailers_map:
                return side.trailers
        return None

    def body_buffer(self, buffer_type: int) -> bytearray | None:
        """The body chunk of ``buffer_type`` the filter sees now, if any."""
        side = self.request if buffer_type == BufferType.HTTP_REQUEST_BODY else self.response
        return side.buffer


@dataclass
class TcpDirection:
    """Bytes from one peer (downstream: the client, upstream: the server): what the filter
    sees (``buffer``), what it passed on to the other peer, pause and close."""

    buffer: bytearray | None = None
    passed: bytearray = field(default_factory=bytearray)
    paused: bool = False
    closed: bool = False

    def forward(self) -> None:
        """Pass the buffered bytes on to the other peer (the filter continued)."""
        if self.buffer is not None:
            self.passed.extend(self.buffer)
            self.buffer = None


@dataclass
class TcpState:
    """One TCP connection: both directions, and whether the connection closed."""

    context_id: int
    root_context_id: int
    downstream: TcpDirection = field(default_factory=TcpDirection)
    upstream: TcpDirection = field(default_factory=TcpDirection)
    connection_closed: bool = False
    deleted: bool = False
    properties: dict[tuple[str, ...], bytes] = field(default_factory=dict)

    def direction(self, stream_type: int) -> TcpDirection:
        """The direction ``proxy_continue_stream``/``proxy_close_stream`` name."""
        return self.downstream if stream_type == StreamType.DOWNSTREAM else self.upstream

    def data_buffer(self, buffer_type: int) -> bytearray | None:
        """The bytes of ``buffer_type`` the filter sees now, if any."""
        side = self.downstream if buffer_type == BufferType.DOWNSTREAM_DATA else self.upstream
        return side.buffer


@dataclass
class Scratch:
    """Maps and buffers that exist only during one callback (callout answers, configuration)."""

    maps: dict[int, Pairs] = field(default_factory=dict)
    buffers: dict[int, bytearray] = field(default_factory=dict)
    status: tuple[int, bytes] = (0, b"")


class EventKind(Enum):
    """What the host does after a callback returns, as Envoy defers it."""

    DONE = auto()
    """The context finished (``proxy_done``): on_log and on_delete follow if it was waiting."""
    HTTP_CALL_FAILED = auto()
    """An HTTP call failed at once (nginx: its host did not resolve); for the context that
    made it."""
    QUEUE_READY = auto()
    """Items arrived on a queue the plugin registered."""
    LOCAL_RESPONSE = auto()
    """The filter answered locally: the reply passes its response callbacks."""
    CONTINUE = auto()
    """A paused direction resumes."""
    CLOSE = auto()
    """The filter reset the stream or closed one side of the connection."""


@dataclass
class Event:
    """Work the host does after the current callback returns (as Envoy defers it)."""

    kind: EventKind
    context_id: int
    value: int = 0


@dataclass
class Queue:
    """A shared queue: its items, and the plugin told when items arrive."""

    vm_id: str
    name: str
    items: list[bytes] = field(default_factory=list)
    owner: RootSemantics | None = None
    owner_context: int = 0


class ProxyState:
    """What the VMs of one proxy share, as Envoy keeps it: shared data and queues by VM id.

    Each ``Host`` is one VM; hosts given the same ``ProxyState`` see each other's shared data
    (if their VM ids match) and queues, like plugins or worker threads of one Envoy.
    """

    def __init__(self) -> None:
        self.shared_data: dict[str, dict[str, tuple[bytes, int]]] = {}
        self.queues: dict[int, Queue] = {}
        self.queue_ids: dict[tuple[str, str], int] = {}
        self.races: dict[tuple[str, str], bytes] = {}
        self.vms: list[RootSemantics] = []
        self._next_cas = 1

    def next_cas(self) -> int:
        """A new CAS value (never 0, which means "no check")."""
        cas = self._next_cas
        self._next_cas = self._next_cas % 0xFFFFFFFF + 1
        return cas
