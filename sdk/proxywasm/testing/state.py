"""The emulated proxy's state and the semantics of every ABI 0.2.1 host call, in one place.

Both engines call the ``HostState`` methods below (the source engine from a Python stand-in
for ``_proxywasm``, the wasm engine from its ``env.proxy_*`` imports). A method returns the
call's result or raises ``HostStatusError`` with the status Envoy would return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..types import BufferType, LogLevel, MapType, MetricType, Status, StreamType
from .profiles import ENVOY, HostProfile, HostTrap, resolves

Pairs = list[tuple[str, str]]
PairsInput = Mapping[str, str | bytes] | Iterable[tuple[str | bytes, str | bytes]]
ForeignFunction = Callable[[bytes], bytes]

_CALLOUT_HEADERS = (":method", ":path", ":authority")
_STREAM_MAPS = {
    MapType.HTTP_REQUEST_HEADERS: "request_headers",
    MapType.HTTP_REQUEST_TRAILERS: "request_trailers",
    MapType.HTTP_RESPONSE_HEADERS: "response_headers",
    MapType.HTTP_RESPONSE_TRAILERS: "response_trailers",
}
# The maps on_log can read: Envoy gives it the access log's request and response headers
# and response trailers.
_LOG_MAPS = frozenset({
    MapType.HTTP_REQUEST_HEADERS, MapType.HTTP_RESPONSE_HEADERS, MapType.HTTP_RESPONSE_TRAILERS,
})
_REQUEST_MAPS = frozenset({MapType.HTTP_REQUEST_HEADERS, MapType.HTTP_REQUEST_TRAILERS})
_SCRATCH_MAPS = frozenset({
    MapType.GRPC_CALL_INITIAL_METADATA,
    MapType.GRPC_CALL_TRAILING_METADATA,
    MapType.HTTP_CALL_RESPONSE_HEADERS,
    MapType.HTTP_CALL_RESPONSE_TRAILERS,
})
_SCRATCH_BUFFERS = frozenset({
    BufferType.HTTP_CALL_RESPONSE_BODY,
    BufferType.GRPC_CALL_MESSAGE,
    BufferType.VM_CONFIGURATION,
    BufferType.PLUGIN_CONFIGURATION,
    BufferType.FOREIGN_FUNCTION_ARGUMENTS,
})


class HostStatusError(Exception):
    """A host call ends with a status other than OK (the engines turn it into that status)."""

    def __init__(self, status: Status, why: str) -> None:
        super().__init__(f"{status.name}: {why}")
        self.status = status


def _fail(status: Status, why: str) -> HostStatusError:
    return HostStatusError(status, why)


def wire_text(value: str | bytes) -> str:
    """A header name or value as the filter reads it: bytes that are not UTF-8 become lone
    surrogates (surrogateescape), as the runtime decodes what the proxy hands it."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    return str(value)


def wire_bytes(text: str) -> bytes:
    """The bytes a header name or value stands for on the wire (the inverse of ``wire_text``)."""
    return text.encode("utf-8", "surrogateescape")


def log_text(message: str) -> str:
    """A log line as the runtime writes it: bytes that are not UTF-8 shown as ``\\xNN``."""
    try:
        message.encode()
    except UnicodeEncodeError:
        try:
            raw = message.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return message.encode("utf-8", "backslashreplace").decode()
        return raw.decode("utf-8", "backslashreplace")
    return message


def header_pairs(headers: PairsInput | None, lower: bool = True) -> Pairs:
    """Normalize headers given as a mapping or pairs of str or bytes: names lower-cased, as
    Envoy stores them (``lower=False`` keeps their casing, as nginx does)."""
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(wire_text(name).lower() if lower else wire_text(name), wire_text(value))
            for name, value in items]


class HeaderList(list[tuple[str, str]]):
    """Header pairs in order, with lookups by (case-insensitive) name; ``get_bytes`` and
    ``to_bytes`` give the exact bytes a value stands for (what the proxy sends on)."""

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of ``name``, or ``default``."""
        name = name.lower()
        return next((value for key, value in self if key.lower() == name), default)

    def get_all(self, name: str) -> list[str]:
        """Return every value of ``name``, in order."""
        name = name.lower()
        return [value for key, value in self if key.lower() == name]

    def to_dict(self) -> dict[str, str]:
        """Return the headers as a dict (the last value wins for repeated names)."""
        return dict(self)

    def get_bytes(self, name: str | bytes) -> bytes | None:
        """Return the first value of ``name`` as the bytes the proxy sends, or None."""
        value = self.get(wire_text(name))
        return None if value is None else wire_bytes(value)

    def to_bytes(self) -> list[tuple[bytes, bytes]]:
        """Return every pair as the bytes the proxy sends, in order."""
        return [(wire_bytes(key), wire_bytes(value)) for key, value in self]


@dataclass(frozen=True)
class LogRecord:
    """One ``proxy_log`` call: its level and text."""

    level: LogLevel
    message: str


@dataclass(frozen=True)
class LocalResponse:
    """What the filter passed to ``send_local_response``."""

    status: int
    headers: HeaderList
    body: bytes
    details: str
    grpc_status: int


@dataclass
class HttpCall:
    """An HTTP call the filter dispatched; answer it with ``Host.respond_http_call``."""

    token: int
    upstream: str
    headers: HeaderList
    body: bytes
    trailers: HeaderList
    timeout_ms: int
    context_id: int
    root_context_id: int


@dataclass
class GrpcCall:
    """A unary gRPC call the filter made; answer it with ``Host.respond_grpc_call``."""

    token: int
    upstream: str
    service: str
    method: str
    initial_metadata: HeaderList
    message: bytes
    timeout_ms: int
    context_id: int
    root_context_id: int
    cancelled: bool = False


@dataclass
class GrpcStream:
    """A gRPC stream the filter opened: what it sent, and whether it closed or cancelled it."""

    token: int
    upstream: str
    service: str
    method: str
    initial_metadata: HeaderList
    context_id: int
    root_context_id: int
    sent: list[bytes] = field(default_factory=list)
    end_stream_sent: bool = False
    closed_by_filter: bool = False
    cancelled: bool = False


@dataclass
class Metric:
    """A metric the filter defined; histograms keep every recorded sample."""

    metric_type: MetricType
    name: str
    value: int = 0
    samples: list[int] = field(default_factory=list)


@dataclass
class Plugin:
    """One plugin (root context) of the VM with its configuration and timer."""

    root_context_id: int
    name: str
    root_id: str
    configuration: bytes
    tick_period_ms: int = 0
    next_tick_ns: int = 0


@dataclass
class HttpStreamState:
    """One HTTP stream as the proxy sees it: maps, the bytes passed on, pauses, local reply."""

    context_id: int
    root_context_id: int
    request_headers: Pairs | None = None
    request_trailers: Pairs | None = None
    response_headers: Pairs | None = None
    response_trailers: Pairs | None = None
    request_body: bytearray = field(default_factory=bytearray)
    response_body: bytearray = field(default_factory=bytearray)
    request_buffer: bytearray | None = None
    response_buffer: bytearray | None = None
    local_response: LocalResponse | None = None
    readable: set[int] = field(default_factory=set)
    logging: bool = False
    request_paused: bool = False
    response_paused: bool = False
    reset: bool = False
    deleted: bool = False
    properties: dict[tuple[str, ...], bytes] = field(default_factory=dict)


@dataclass
class TcpState:
    """One TCP connection: the bytes passed on in each direction, pauses and closes."""

    context_id: int
    root_context_id: int
    downstream_buffer: bytearray | None = None
    upstream_buffer: bytearray | None = None
    to_upstream: bytearray = field(default_factory=bytearray)
    to_downstream: bytearray = field(default_factory=bytearray)
    downstream_paused: bool = False
    upstream_paused: bool = False
    downstream_closed: bool = False
    upstream_closed: bool = False
    connection_closed: bool = False
    deleted: bool = False
    properties: dict[tuple[str, ...], bytes] = field(default_factory=dict)


@dataclass
class Scratch:
    """Maps and buffers that exist only during one callback (callout answers, configuration)."""

    maps: dict[int, Pairs] = field(default_factory=dict)
    buffers: dict[int, bytearray] = field(default_factory=dict)
    status: tuple[int, bytes] = (0, b"")


@dataclass
class Event:
    """Work the host does after the current callback returns (as Envoy defers it)."""

    kind: str
    context_id: int
    value: int = 0


def _insert(pairs: Pairs, key: str, value: str) -> None:
    """Append a header; pseudo-headers go after the last pseudo-header, as Envoy orders them."""
    if key.startswith(":"):
        position = sum(1 for name, _ in pairs if name.startswith(":"))
        pairs.insert(position, (key, value))
    else:
        pairs.append((key, value))


_GRPC_CONTENT_TYPE = "application/grpc"
# Envoy's gRPC status for a local reply's HTTP status, when the filter gave no valid one.
_GRPC_STATUS_OF_HTTP = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}
_GRPC_UNKNOWN = 2
_GRPC_MAX_STATUS = 16


def is_grpc_request(headers: Pairs | None) -> bool:
    """Whether Envoy answers the request as gRPC: it has a ``:path`` and a content-type of
    ``application/grpc`` or ``application/grpc+...``."""
    request = HeaderList(headers or [])
    content_type = request.get("content-type") or ""
    return request.get(":path") is not None and (
        content_type == _GRPC_CONTENT_TYPE or content_type.startswith(_GRPC_CONTENT_TYPE + "+"))


def _percent_encoded(data: bytes) -> str:
    """Envoy's grpc-message encoding: '%' and bytes outside ' '..'}' become %XX."""
    return "".join(chr(byte) if 0x20 <= byte < 0x7E and byte != 0x25 else f"%{byte:02X}"
                   for byte in data)


def _set_header(headers: Pairs, key: str, value: str) -> None:
    """Set ``key`` to one value: the first occurrence replaced in place, or appended."""
    positions = [index for index, (name, _) in enumerate(headers) if name == key]
    if not positions:
        headers.append((key, value))
        return
    headers[positions[0]] = (key, value)
    for index in reversed(positions[1:]):
        del headers[index]


def local_reply(reply: LocalResponse, request_headers: Pairs | None,
                body_suffix: bytes = b"") -> tuple[Pairs, bytes]:
    """The response Envoy sends for ``send_local_response``: its headers and body (a non-empty
    body gets ``body_suffix``: nginx appends a newline).

    A gRPC request gets a trailers-only 200 whose ``grpc-status`` is the filter's (or the one
    Envoy maps from the HTTP status) and whose ``grpc-message`` is the body, percent-encoded.
    """
    headers: Pairs = [(":status", str(reply.status)), *reply.headers]
    if is_grpc_request(request_headers):
        _set_header(headers, ":status", "200")
        _set_header(headers, "content-type", _GRPC_CONTENT_TYPE)
        if not any(name == "grpc-status" for name, _ in headers):
            status = reply.grpc_status if 0 <= reply.grpc_status <= _GRPC_MAX_STATUS else (
                _GRPC_STATUS_OF_HTTP.get(reply.status, _GRPC_UNKNOWN))
            headers.append(("grpc-status", str(status)))
        if reply.body:
            _set_header(headers, "grpc-message", _percent_encoded(reply.body))
        headers[:] = [pair for pair in headers if pair[0] != "content-length"]
        return headers, b""
    if not reply.body:
        headers[:] = [pair for pair in headers if pair[0] not in ("content-length", "content-type")]
        return headers, b""
    body = reply.body + body_suffix
    _set_header(headers, "content-length", str(len(body)))
    if not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", "text/plain"))
    return headers, body


def _as_i64(value: int) -> int:
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass
class Queue:
    """A shared queue: its items, and the plugin told when items arrive."""

    vm_id: str
    name: str
    items: list[bytes] = field(default_factory=list)
    owner: HostState | None = None
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
        self.vms: list[HostState] = []
        self._next_cas = 1

    def next_cas(self) -> int:
        """A new CAS value (never 0, which means "no check")."""
        cas = self._next_cas
        self._next_cas = self._next_cas % 0xFFFFFFFF + 1
        return cas


class HostState:
    """Everything the emulated proxy knows, and what each host call does to it."""

    def __init__(
        self,
        *,
        vm_id: str = "",
        vm_configuration: bytes = b"",
        properties: Mapping[Sequence[str] | str, bytes | str] | None = None,
        log_level: LogLevel = LogLevel.TRACE,
        time_ns: int = 1_700_000_000_000_000_000,
        clusters: Iterable[str] | None = None,
        proxy: ProxyState | None = None,
        profile: HostProfile = ENVOY,
    ) -> None:
        self.vm_id = vm_id
        self.profile = profile
        self.trapped: str | None = None
        """What the proxy said when it trapped the instance in the current callback."""
        self.proxy = proxy or ProxyState()
        self.proxy.vms.append(self)
        self.vm_configuration = vm_configuration
        self.properties: dict[tuple[str, ...], bytes] = {}
        for path, value in (properties or {}).items():
            key = tuple(path.split(".")) if isinstance(path, str) else tuple(path)
            self.properties[key] = value.encode() if isinstance(value, str) else bytes(value)
        self.log_level = log_level
        self.time_ns = time_ns
        self.clusters = None if clusters is None else frozenset(clusters)
        self.log_records: list[LogRecord] = []
        self.current_context = 0
        self.plugins: dict[int, Plugin] = {}
        self.streams: dict[int, HttpStreamState] = {}
        self.connections: dict[int, TcpState] = {}
        self.scratch = Scratch()
        self.http_calls: dict[int, HttpCall] = {}
        self.grpc_calls: dict[int, GrpcCall] = {}
        self.grpc_streams: dict[int, GrpcStream] = {}
        self.metrics: dict[int, Metric] = {}
        self.metric_ids: dict[str, int] = {}
        self.foreign_functions: dict[str, ForeignFunction] = {}
        self.done_contexts: list[int] = []
        self.events: list[Event] = []
        self.wake: Callable[[], None] | None = None
        """Set by the Host: runs the events another VM queued for this one (on_queue_ready)."""
        self._next_token = 1

    def trap(self, message: str) -> HostTrap:
        """The proxy traps the instance with ``message`` (raise what this returns)."""
        self.trapped = message
        return HostTrap(message)

    # Which context a host call acts on

    def _token(self) -> int:
        token, self._next_token = self._next_token, self._next_token + 1
        return token

    def root_of(self, context_id: int) -> int:
        """The root (plugin) context id of ``context_id``."""
        stream = self.streams.get(context_id) or self.connections.get(context_id)
        return stream.root_context_id if stream is not None else context_id

    def _stream(self) -> HttpStreamState:
        stream = self.streams.get(self.current_context)
        if stream is None:
            raise _fail(Status.BAD_ARGUMENT, "the current context is not an HTTP stream")
        return stream

    def _connection(self) -> TcpState:
        connection = self.connections.get(self.current_context)
        if connection is None:
            raise _fail(Status.BAD_ARGUMENT, "the current context is not a TCP connection")
        return connection

    # Logging, time, lifecycle

    def log(self, level: int, message: str) -> None:
        """proxy_log: keep the message if its level reaches the host's log level."""
        if not 0 <= level <= LogLevel.CRITICAL:
            raise _fail(Status.BAD_ARGUMENT, f"log level {level} does not exist")
        if level >= self.log_level:
            self.log_records.append(LogRecord(LogLevel(level), log_text(message)))

    def get_log_level(self) -> int:
        """proxy_get_log_level."""
        return int(self.log_level)

    def get_current_time_nanoseconds(self) -> int:
        """proxy_get_current_time_nanoseconds: the time the test set."""
        return self.time_ns

    def set_tick_period_milliseconds(self, period: int) -> None:
        """proxy_set_tick_period_milliseconds for the current plugin (0 stops the timer)."""
        plugin = self.plugins.get(self.root_of(self.current_context))
        if plugin is None:
            raise _fail(Status.BAD_ARGUMENT, "no plugin context is current")
        plugin.tick_period_ms = period
        plugin.next_tick_ns = self.time_ns + period * 1_000_000

    def done(self) -> None:
        """proxy_done: the current context finished what made its on_done answer False."""
        self.done_contexts.append(self.current_context)
        self.events.append(Event("done", self.current_context))

    def set_effective_context(self, context_id: int) -> None:
        """proxy_set_effective_context."""
        if not (context_id in self.plugins or context_id in self.streams
                or context_id in self.connections):
            raise _fail(Status.BAD_ARGUMENT, f"no context {context_id}")
        self.current_context = context_id

    # Buffers

    def _buffer(self, buffer_type: int) -> bytearray:
        if buffer_type in _SCRATCH_BUFFERS:
            buffer = self.scratch.buffers.get(buffer_type)
        elif buffer_type in (BufferType.HTTP_REQUEST_BODY, BufferType.HTTP_RESPONSE_BODY):
            stream = self.streams.get(self.current_context)
            if stream is None:
                buffer = None
            elif buffer_type == BufferType.HTTP_REQUEST_BODY:
                buffer = stream.request_buffer
            else:
                buffer = stream.response_buffer
        elif buffer_type in (BufferType.DOWNSTREAM_DATA, BufferType.UPSTREAM_DATA):
            connection = self.connections.get(self.current_context)
            if connection is None:
                buffer = None
            elif buffer_type == BufferType.DOWNSTREAM_DATA:
                buffer = connection.downstream_buffer
            else:
                buffer = connection.upstream_buffer
        else:
            raise _fail(Status.BAD_ARGUMENT, f"buffer type {buffer_type} does not exist")
        if buffer is None:
            raise _fail(Status.NOT_FOUND, f"buffer {BufferType(buffer_type).name} is not "
                        "available in this callback")
        return buffer

    def get_buffer_bytes(self, buffer_type: int, start: int, max_size: int) -> bytes:
        """proxy_get_buffer_bytes."""
        buffer = self._buffer(buffer_type)
        if start > len(buffer):
            raise _fail(Status.BAD_ARGUMENT, f"start {start} is past the buffer's end")
        return bytes(buffer[start:start + max_size])

    def set_buffer_bytes(self, buffer_type: int, start: int, size: int, value: bytes) -> None:
        """proxy_set_buffer_bytes with Envoy's rules: at 0 drop ``size`` bytes and prepend,
        at or past the end append; anywhere else is BAD_ARGUMENT."""
        if buffer_type in (BufferType.VM_CONFIGURATION, BufferType.PLUGIN_CONFIGURATION):
            raise _fail(Status.BAD_ARGUMENT, "configuration buffers are read-only")
        buffer = self._buffer(buffer_type)
        if start == 0:
            buffer[:size] = value
        elif start >= len(buffer):
            buffer.extend(value)
        else:
            raise _fail(Status.BAD_ARGUMENT, "a buffer can be changed only at its start or end")

    def get_buffer_status(self, buffer_type: int) -> tuple[int, int]:
        """proxy_get_buffer_status: (size, flags)."""
        return len(self._buffer(buffer_type)), 0

    # Header maps

    def _map(self, map_type: int) -> Pairs:
        if map_type in _SCRATCH_MAPS:
            pairs = self.scratch.maps.get(map_type)
        elif map_type in _STREAM_MAPS:
            stream = self.streams.get(self.current_context)
            readable = () if stream is None else (
                _LOG_MAPS if stream.logging else stream.readable)
            pairs = getattr(stream, _STREAM_MAPS[MapType(map_type)]) if (
                stream is not None and map_type in readable) else None
        else:
            raise _fail(Status.BAD_ARGUMENT, f"map type {map_type} does not exist")
        if pairs is None:
            raise _fail(Status.BAD_ARGUMENT, f"map {MapType(map_type).name} is not available "
                        "in this callback")
        return pairs

    def get_header_map_size(self, map_type: int) -> int:
        """proxy_get_header_map_size: Envoy's byte size, the sum of names' and values' sizes."""
        return sum(len(wire_bytes(key)) + len(wire_bytes(value))
                   for key, value in self._map(map_type))

    def get_header_map_pairs(self, map_type: int) -> Pairs:
        """proxy_get_header_map_pairs."""
        return list(self._map(map_type))

    def _header_name(self, key: str) -> str:
        """A header name as the proxy stores it (Envoy lower-cases, nginx keeps the case)."""
        return key.lower() if self.profile.lowercases_headers else key

    def set_header_map_pairs(self, map_type: int, pairs: Pairs) -> None:
        """proxy_set_header_map_pairs: replace the whole map."""
        current = self._map(map_type)
        current.clear()
        for key, value in pairs:
            _insert(current, self._header_name(key), value)

    def get_header_map_value(self, map_type: int, key: str) -> str:
        """proxy_get_header_map_value: the first value of ``key`` (names match in any case)."""
        wanted = key.lower()
        for name, value in self._map(map_type):
            if name.lower() == wanted:
                return value
        raise _fail(Status.NOT_FOUND, f"no header {key!r}")

    def add_header_map_value(self, map_type: int, key: str, value: str) -> None:
        """proxy_add_header_map_value: add a value, keeping existing ones."""
        _insert(self._map(map_type), self._header_name(key), value)

    def replace_header_map_value(self, map_type: int, key: str, value: str) -> None:
        """proxy_replace_header_map_value: the first value replaced in place, others removed."""
        pairs = self._map(map_type)
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
        pairs = self._map(map_type)
        pairs[:] = [pair for pair in pairs if pair[0].lower() != key.lower()]

    # Streams

    def continue_stream(self, stream_type: int) -> None:
        """proxy_continue_stream: resume a paused direction (applied after the callback).

        As in Envoy, resuming either HTTP direction makes the request's header maps
        unreadable from then on (the response's stay readable).
        """
        self._check_stream_type(stream_type)
        if stream_type == StreamType.UPSTREAM:
            raise _fail(Status.UNIMPLEMENTED, "Envoy cannot resume a TCP connection's upstream")
        if stream_type in (StreamType.HTTP_REQUEST, StreamType.HTTP_RESPONSE):
            self._stream().readable -= _REQUEST_MAPS
        self.events.append(Event("continue", self.current_context, stream_type))

    def close_stream(self, stream_type: int) -> None:
        """proxy_close_stream: reset the HTTP stream or close one side of the connection."""
        self._check_stream_type(stream_type)
        self.events.append(Event("close", self.current_context, stream_type))

    def _check_stream_type(self, stream_type: int) -> None:
        if stream_type in (StreamType.HTTP_REQUEST, StreamType.HTTP_RESPONSE):
            self._stream()
        elif stream_type in (StreamType.DOWNSTREAM, StreamType.UPSTREAM):
            self._connection()
        else:
            raise _fail(Status.BAD_ARGUMENT, f"stream type {stream_type} does not exist")

    def get_status(self) -> tuple[int, bytes]:
        """proxy_get_status: the status of the gRPC call or stream being reported."""
        return self.scratch.status

    def send_local_response(
        self, status_code: int, details: str, body: bytes, headers: Pairs, grpc_status: int
    ) -> None:
        """proxy_send_local_response: answer locally; the reply passes the filter afterwards."""
        stream = self._stream()
        if stream.local_response is not None:
            raise _fail(Status.BAD_ARGUMENT, "a local response was already sent")
        stream.local_response = LocalResponse(
            status_code, HeaderList(header_pairs(headers, self.profile.lowercases_headers)),
            bytes(body), details, grpc_status,
        )
        self.events.append(Event("local_response", stream.context_id))

    # Callouts

    def _check_cluster(self, upstream: str) -> None:
        if self.clusters is not None and upstream not in self.clusters:
            raise _fail(Status.BAD_ARGUMENT, f"unknown cluster {upstream!r}")

    def http_call(
        self, upstream: str, headers: Pairs, body: bytes, trailers: Pairs, timeout_ms: int
    ) -> int:
        """proxy_http_call: record the call; the test answers it. Where the upstream is
        host[:port] (nginx), one that does not resolve fails after this callback."""
        self._check_cluster(upstream)
        names = {name for name, _ in headers}
        missing = [name for name in _CALLOUT_HEADERS if name not in names]
        if missing:
            raise _fail(Status.BAD_ARGUMENT, f"the call lacks the headers {missing}")
        token = self._token()
        if self.profile.callout_host_port:
            upstream = upstream if ":" in upstream.rpartition("]")[2] else f"{upstream}:80"
            if not resolves(self.profile, upstream.rpartition(":")[0]):
                self.events.append(Event("http_call_failed", self.root_of(self.current_context),
                                         token))
                return token
        self.http_calls[token] = HttpCall(
            token, upstream, HeaderList(headers), bytes(body), HeaderList(trailers), timeout_ms,
            self.current_context, self.root_of(self.current_context),
        )
        return token

    def grpc_call(
        self, upstream: str, service: str, method: str, metadata: Pairs, message: bytes,
        timeout_ms: int,
    ) -> int:
        """proxy_grpc_call: record the call; the test answers it."""
        self._check_cluster(upstream)
        token = self._token()
        self.grpc_calls[token] = GrpcCall(
            token, upstream, service, method, HeaderList(metadata), bytes(message), timeout_ms,
            self.current_context, self.root_of(self.current_context),
        )
        return token

    def grpc_stream(self, upstream: str, service: str, method: str, metadata: Pairs) -> int:
        """proxy_grpc_stream: open a stream; the test sends its messages."""
        self._check_cluster(upstream)
        token = self._token()
        self.grpc_streams[token] = GrpcStream(
            token, upstream, service, method, HeaderList(metadata), self.current_context,
            self.root_of(self.current_context),
        )
        return token

    def _open_stream(self, token: int) -> GrpcStream:
        stream = self.grpc_streams.get(token)
        if stream is None or stream.cancelled:
            raise _fail(Status.NOT_FOUND, f"no open gRPC stream {token}")
        return stream

    def grpc_send(self, token: int, message: bytes, end_stream: bool) -> None:
        """proxy_grpc_send."""
        stream = self._open_stream(token)
        if stream.end_stream_sent:
            raise _fail(Status.BAD_ARGUMENT, f"gRPC stream {token} was half-closed")
        stream.sent.append(bytes(message))
        stream.end_stream_sent = end_stream

    def grpc_cancel(self, token: int) -> None:
        """proxy_grpc_cancel: no callback follows."""
        call = self.grpc_calls.pop(token, None)
        if call is not None:
            call.cancelled = True
            return
        self._open_stream(token).cancelled = True

    def grpc_close(self, token: int) -> None:
        """proxy_grpc_close: close a stream (or cancel a call) from the filter's side."""
        call = self.grpc_calls.pop(token, None)
        if call is not None:
            call.cancelled = True
            return
        self._open_stream(token).closed_by_filter = True

    # Shared data and queues (kept by the proxy, keyed by VM id as in Envoy)

    @property
    def shared_data(self) -> dict[str, tuple[bytes, int]]:
        """This VM id's shared key-value store: value and CAS by key."""
        return self.proxy.shared_data.setdefault(self.vm_id, {})

    def _check_shm_kv(self, key: str) -> None:
        zones = self.profile.shm_kv
        zone, slash, _ = key.partition("/")
        if not self.profile.shm_declared or "*" in zones or (slash and zone in zones):
            return
        declare = zone if slash else "*"
        raise self.trap(f"host trap (internal error): shared data key {key!r} needs a "
                        f"key/value zone: declare `shm_kv {declare} 1m;` in nginx's wasm{{}} "
                        "block")

    def _check_shm_queue(self, name: str) -> None:
        if self.profile.shm_declared and name not in self.profile.shm_queues:
            raise self.trap(f"host trap (internal error): no shm_queue zone {name!r}: declare "
                            f"`shm_queue {name} 1m;` in nginx's wasm{{}} block")

    def get_shared_data(self, key: str) -> tuple[bytes, int]:
        """proxy_get_shared_data: (value, cas)."""
        self._check_shm_kv(key)
        if key not in self.shared_data:
            raise _fail(Status.NOT_FOUND, f"no shared data {key!r}")
        return self.shared_data[key]

    def set_shared_data(self, key: str, value: bytes, cas: int) -> None:
        """proxy_set_shared_data: a non-zero ``cas`` must still be the key's (a key that does
        not exist yet is created whatever the ``cas``, as Envoy does)."""
        self._check_shm_kv(key)
        race = self.proxy.races.pop((self.vm_id, key), None) if cas else None
        if race is not None:
            self.set_shared_data(key, race, 0)
        current = self.shared_data.get(key)
        if cas and current is not None and current[1] != cas:
            raise _fail(Status.CAS_MISMATCH, f"shared data {key!r} changed")
        self.shared_data[key] = (bytes(value), self.proxy.next_cas())

    def register_shared_queue(self, name: str) -> int:
        """proxy_register_shared_queue: the current plugin is told when items arrive."""
        self._check_shm_queue(name)
        key = (self.vm_id, name)
        queue_id = self.proxy.queue_ids.get(key)
        if queue_id is None:
            queue_id = len(self.proxy.queue_ids) + 1
            self.proxy.queue_ids[key] = queue_id
            self.proxy.queues[queue_id] = Queue(self.vm_id, name)
        queue = self.proxy.queues[queue_id]
        queue.owner, queue.owner_context = self, self.root_of(self.current_context)
        return queue_id

    def resolve_shared_queue(self, vm_id: str, name: str) -> int:
        """proxy_resolve_shared_queue: any VM's queue, by that VM's id and the queue's name."""
        queue_id = self.proxy.queue_ids.get((vm_id, name))
        if queue_id is None:
            raise _fail(Status.NOT_FOUND, f"no queue {name!r} in VM {vm_id!r}")
        return queue_id

    def _queue(self, queue_id: int) -> Queue:
        queue = self.proxy.queues.get(queue_id)
        if queue is None:
            raise _fail(Status.NOT_FOUND, f"no queue {queue_id}")
        return queue

    def enqueue_shared_queue(self, queue_id: int, value: bytes) -> None:
        """proxy_enqueue_shared_queue: the owning plugin (in whichever VM) gets on_queue_ready
        after this callback, where its proxy calls it."""
        queue = self._queue(queue_id)
        queue.items.append(bytes(value))
        if queue.owner is not None and queue.owner.profile.queue_ready:
            queue.owner.events.append(Event("queue_ready", queue.owner_context, queue_id))

    def dequeue_shared_queue(self, queue_id: int) -> bytes:
        """proxy_dequeue_shared_queue: EMPTY when there is nothing."""
        queue = self._queue(queue_id)
        if not queue.items:
            raise _fail(Status.EMPTY, f"queue {queue_id} is empty")
        return queue.items.pop(0)

    # Metrics

    def define_metric(self, metric_type: int, name: str) -> int:
        """proxy_define_metric: the same name gives the same metric."""
        if metric_type not in tuple(MetricType):
            raise _fail(Status.BAD_ARGUMENT, f"metric type {metric_type} does not exist")
        metric_id = self.metric_ids.get(name)
        if metric_id is None:
            metric_id = len(self.metric_ids) + 1
            self.metric_ids[name] = metric_id
            self.metrics[metric_id] = Metric(MetricType(metric_type), name)
        return metric_id

    def _metric(self, metric_id: int) -> Metric:
        metric = self.metrics.get(metric_id)
        if metric is None:
            raise _fail(Status.NOT_FOUND, f"no metric {metric_id}")
        return metric

    def record_metric(self, metric_id: int, value: int) -> None:
        """proxy_record_metric as Envoy does it: set a gauge, sample a histogram, add ``value``
        to a counter."""
        metric = self._metric(metric_id)
        value = _as_i64(value)
        if metric.metric_type == MetricType.HISTOGRAM:
            metric.samples.append(value)
        elif metric.metric_type == MetricType.COUNTER:
            metric.value += value & 0xFFFFFFFFFFFFFFFF
        else:
            metric.value = value

    def increment_metric(self, metric_id: int, delta: int) -> None:
        """proxy_increment_metric: counters only go up (Envoy refuses 0 too); histograms cannot
        be incremented."""
        metric = self._metric(metric_id)
        delta = _as_i64(delta)
        if self.profile.counters_only_increment and metric.metric_type != MetricType.COUNTER:
            raise self.trap(f"host trap (internal error): could not increment metric id "
                            f"{metric_id}: metric not a counter")
        if metric.metric_type == MetricType.HISTOGRAM or (
            metric.metric_type == MetricType.COUNTER and delta <= 0
        ):
            raise _fail(Status.BAD_ARGUMENT, f"cannot add {delta} to {metric.name}")
        metric.value += delta

    def get_metric(self, metric_id: int) -> int:
        """proxy_get_metric: histograms have no single value."""
        metric = self._metric(metric_id)
        if metric.metric_type == MetricType.HISTOGRAM:
            raise _fail(Status.BAD_ARGUMENT, f"{metric.name} is a histogram")
        return metric.value & 0xFFFFFFFFFFFFFFFF

    # Properties and foreign functions

    def _local_properties(self) -> dict[tuple[str, ...], bytes] | None:
        stream = self.streams.get(self.current_context) or self.connections.get(
            self.current_context)
        return None if stream is None else stream.properties

    def get_property(self, path: Sequence[str]) -> bytes:
        """proxy_get_property: set by the filter, given by the test, or derived like Envoy."""
        key = tuple(path)
        local = self._local_properties()
        if local is not None and key in local:
            return local[key]
        if key in self.properties:
            return self.properties[key]
        derived = self._derived_property(key)
        if derived is None:
            raise _fail(Status.NOT_FOUND, f"no property {'.'.join(key)!r}")
        return derived

    def _derived_property(self, key: tuple[str, ...]) -> bytes | None:
        plugin = self.plugins.get(self.root_of(self.current_context))
        if plugin is not None and len(key) == 1:
            value = {"plugin_name": plugin.name, "plugin_root_id": plugin.root_id,
                     "plugin_vm_id": self.vm_id}.get(key[0])
            if value is not None:
                return value.encode()
        stream = self.streams.get(self.current_context)
        if stream is None or len(key) != 2:
            return None
        request = HeaderList(stream.request_headers or [])
        response = HeaderList(stream.response_headers or [])
        if key[0] == "request":
            path = request.get(":path")
            value = {
                "path": path, "url_path": None if path is None else path.partition("?")[0],
                "host": request.get(":authority"), "method": request.get(":method"),
                "scheme": request.get(":scheme"), "id": request.get("x-request-id"),
                "protocol": "HTTP/1.1", "useragent": request.get("user-agent"),
            }.get(key[1])
            return None if value is None else wire_bytes(value)
        if key == ("response", "code") and response.get(":status") is not None:
            code = int(response.get(":status") or 0)
            return (str(code).encode() if self.profile.string_properties
                    else code.to_bytes(8, "little", signed=True))
        return None

    def set_property(self, path: Sequence[str], value: bytes) -> None:
        """proxy_set_property: kept for the current stream (or the VM, outside streams)."""
        local = self._local_properties()
        (self.properties if local is None else local)[tuple(path)] = bytes(value)

    def call_foreign_function(self, name: str, arguments: bytes) -> bytes:
        """proxy_call_foreign_function: run the function the test registered (a name the
        profile's proxy does not know traps)."""
        known = self.profile.foreign_functions
        if known is not None and name not in known:
            raise self.trap(f"host trap (internal error): unknown foreign function {name!r}")
        function = self.foreign_functions.get(name)
        if function is None:
            raise _fail(Status.NOT_FOUND, f"no foreign function {name!r}")
        return bytes(function(bytes(arguments)))

