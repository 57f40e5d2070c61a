"""The VM-wide host calls and the emulated proxy's state: logging, time, timers, contexts,
callback-scoped buffers and maps, metrics, properties and foreign functions. The other
semantics (``host_http``, ``host_tcp``, ``host_callouts``, ``host_shared``) extend it with the
calls that act on a stream, a connection, an upstream or shared state; ``state.HostState`` is
all of them. Calls on a stream or connection reach them through the ``_context_*``,
``_resuming`` and ``_closing`` hooks, each answered by the semantics that owns the type."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from .. import hostcalls
from ..types import BufferType, LogLevel, MapType, MetricType, Status
from .attributes import (
    PropertyValue,
    encode_property,
    encoded_properties,
    envoy_pairs,
)
from .contexts import Event, EventKind, HttpStreamState, ProxyState, Scratch, TcpState
from .profiles import ENVOY, HostProfile, HostTrap
from .records import (
    ForeignFunction,
    GrpcCall,
    GrpcStream,
    HeaderList,
    HostStatusError,
    HttpCall,
    LogRecord,
    Metric,
    Pairs,
    Plugin,
    log_text,
    wire_bytes,
)

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



def _as_i64(value: int) -> int:
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


class RootSemantics:
    """What the emulated proxy knows VM-wide, and what each VM-wide host call does to it."""

    def __init__(
        self,
        *,
        vm_id: str = "",
        vm_configuration: bytes = b"",
        properties: Mapping[Sequence[str] | str, PropertyValue] | None = None,
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
        self.crashed = False
        """Whether that trap is a crash of the proxy's worker (``crash``), not of the call."""
        self.callback = ""
        """The export (``proxy_on_tick``...) the host is running, for calls that depend on it."""
        self.proxy = proxy or ProxyState()
        self.proxy.vms.append(self)
        self.vm_configuration = vm_configuration
        self.properties: dict[tuple[str, ...], bytes] = {}
        for path, value in (properties or {}).items():
            self.properties.update(encoded_properties(path, value, profile))
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

    def crash(self, message: str) -> HostTrap:
        """The proxy's worker crashes on this call (raise what this returns): the module stops
        like a trap, and the worker serves no more requests."""
        self.crashed = True
        return self.trap(message)

    # Which context a host call acts on

    def _token(self) -> int:
        token, self._next_token = self._next_token, self._next_token + 1
        return token

    def root_of(self, context_id: int) -> int:
        """The root (plugin) context id of ``context_id``."""
        stream = self.streams.get(context_id) or self.connections.get(context_id)
        return stream.root_context_id if stream is not None else context_id

    # Logging, time, lifecycle

    def log(self, level: int, message: str) -> None:
        """proxy_log: keep the message if its level reaches the host's log level."""
        if not 0 <= level <= LogLevel.CRITICAL:
            raise HostStatusError(Status.BAD_ARGUMENT, f"log level {level} does not exist")
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
            raise HostStatusError(Status.BAD_ARGUMENT, "no plugin context is current")
        if self.profile.tick_period_once:
            if self.current_context not in self.plugins:
                raise self.trap("can only set tick_period in root context")
            if period and plugin.tick_period_ms:
                raise self.trap("tick_period already set")
        plugin.tick_period_ms = period
        plugin.next_tick_ns = self.time_ns + period * 1_000_000

    def done(self) -> None:
        """proxy_done: the current context finished what made its on_done answer False."""
        self.done_contexts.append(self.current_context)
        self.events.append(Event(EventKind.DONE, self.current_context))

    def set_effective_context(self, context_id: int) -> None:
        """proxy_set_effective_context (where the profile's proxy ignores it: OK, nothing)."""
        if not self.profile.effective_context:
            return
        if not (context_id in self.plugins or context_id in self.streams
                or context_id in self.connections):
            raise HostStatusError(Status.BAD_ARGUMENT, f"no context {context_id}")
        self.current_context = context_id

    # Buffers

    def _buffer(self, buffer_type: int) -> bytearray:
        if buffer_type in _SCRATCH_BUFFERS:
            buffer = self.scratch.buffers.get(buffer_type)
        else:
            buffer = self._context_buffer(buffer_type)
        if buffer is None:
            raise HostStatusError(Status.NOT_FOUND, f"buffer {BufferType(buffer_type).name} is "
                                  "not available in this callback")
        return buffer

    def _context_buffer(self, buffer_type: int) -> bytearray | None:
        """The buffer of a stream or connection (HTTP and TCP semantics answer theirs)."""
        raise HostStatusError(Status.BAD_ARGUMENT, f"buffer type {buffer_type} does not exist")

    def get_buffer_bytes(self, buffer_type: int, start: int, max_size: int) -> bytes:
        """proxy_get_buffer_bytes."""
        buffer = self._buffer(buffer_type)
        if start > len(buffer):
            raise HostStatusError(Status.BAD_ARGUMENT, f"start {start} is past the buffer's end")
        return bytes(buffer[start:start + max_size])

    def set_buffer_bytes(self, buffer_type: int, start: int, size: int, value: bytes) -> None:
        """proxy_set_buffer_bytes with Envoy's rules: at 0 drop ``size`` bytes and prepend,
        at or past the end append; anywhere else is BAD_ARGUMENT."""
        if buffer_type in (BufferType.VM_CONFIGURATION, BufferType.PLUGIN_CONFIGURATION):
            raise HostStatusError(Status.BAD_ARGUMENT, "configuration buffers are read-only")
        buffer = self._buffer(buffer_type)
        if start == 0:
            buffer[:size] = value
        elif start >= len(buffer):
            buffer.extend(value)
        else:
            raise HostStatusError(Status.BAD_ARGUMENT,
                                  "a buffer can be changed only at its start or end")

    def get_buffer_status(self, buffer_type: int) -> tuple[int, int]:
        """proxy_get_buffer_status: (size, flags)."""
        return len(self._buffer(buffer_type)), 0

    # Header maps of callouts (the stream's maps: HttpSemantics)

    def _map(self, map_type: int) -> Pairs:
        if map_type in _SCRATCH_MAPS:
            pairs = self.scratch.maps.get(map_type)
        else:
            pairs = self._context_map(map_type)
        if pairs is None:
            raise HostStatusError(Status.BAD_ARGUMENT, f"map {MapType(map_type).name} is not "
                                  "available in this callback")
        return pairs

    def _context_map(self, map_type: int) -> Pairs | None:
        """A map of the current stream (HTTP semantics answers it)."""
        raise HostStatusError(Status.BAD_ARGUMENT, f"map type {map_type} does not exist")

    # Streams and connections (each checked and resumed by its own semantics)

    def continue_stream(self, stream_type: int) -> None:
        """proxy_continue_stream: resume a paused direction (applied after the callback)."""
        self._resuming(stream_type)
        self.events.append(Event(EventKind.CONTINUE, self.current_context, stream_type))

    def close_stream(self, stream_type: int) -> None:
        """proxy_close_stream: reset the HTTP stream or close one side of the connection."""
        self._closing(stream_type)
        self.events.append(Event(EventKind.CLOSE, self.current_context, stream_type))

    def _resuming(self, stream_type: int) -> None:
        """Check that the current context can resume ``stream_type``, as its proxy would."""
        raise HostStatusError(Status.BAD_ARGUMENT, f"stream type {stream_type} does not exist")

    def _closing(self, stream_type: int) -> None:
        """Check that the current context has the stream ``stream_type`` names."""
        raise HostStatusError(Status.BAD_ARGUMENT, f"stream type {stream_type} does not exist")

    def get_status(self) -> tuple[int, bytes]:
        """proxy_get_status: the status of the gRPC call or stream being reported."""
        return self.scratch.status

    # Metrics

    def define_metric(self, metric_type: int, name: str) -> int:
        """proxy_define_metric: the same name gives the same metric."""
        if metric_type not in tuple(MetricType):
            raise HostStatusError(Status.BAD_ARGUMENT, f"metric type {metric_type} does not exist")
        metric_id = self.metric_ids.get(name)
        if metric_id is None:
            metric_id = len(self.metric_ids) + 1
            self.metric_ids[name] = metric_id
            self.metrics[metric_id] = Metric(MetricType(metric_type), name)
        return metric_id

    def _metric(self, metric_id: int) -> Metric:
        metric = self.metrics.get(metric_id)
        if metric is None:
            raise HostStatusError(Status.NOT_FOUND, f"no metric {metric_id}")
        return metric

    def record_metric(self, metric_id: int, value: int) -> None:
        """proxy_record_metric: set a gauge, sample a histogram, add ``value`` to a counter
        (Envoy; WasmX traps on a counter)."""
        metric = self._metric(metric_id)
        value = _as_i64(value)
        if self.profile.counters_only_increment and metric.metric_type == MetricType.COUNTER:
            raise self.trap(f'host trap (internal error): could not record value in metric id '
                            f'"{metric_id}": metric is a counter')
        if metric.metric_type == MetricType.HISTOGRAM:
            metric.samples.append(value)
        elif metric.metric_type == MetricType.COUNTER:
            metric.value += value & 0xFFFFFFFFFFFFFFFF
        else:
            metric.value = value

    def increment_metric(self, metric_id: int, delta: int) -> None:
        """proxy_increment_metric: Envoy's counters only go up (0 is refused too) and its
        histograms cannot be incremented; WasmX adds any delta to a counter, traps on others."""
        metric = self._metric(metric_id)
        delta = _as_i64(delta)
        if self.profile.counters_only_increment:
            if metric.metric_type != MetricType.COUNTER:
                raise self.trap(f'host trap (internal error): could not increment metric id '
                                f'"{metric_id}": metric not a counter')
        elif metric.metric_type == MetricType.HISTOGRAM or (
            metric.metric_type == MetricType.COUNTER and delta <= 0
        ):
            raise HostStatusError(Status.BAD_ARGUMENT, f"cannot add {delta} to {metric.name}")
        metric.value += delta

    def get_metric(self, metric_id: int) -> int:
        """proxy_get_metric: histograms have no single value."""
        metric = self._metric(metric_id)
        if metric.metric_type == MetricType.HISTOGRAM:
            raise HostStatusError(Status.BAD_ARGUMENT, f"{metric.name} is a histogram")
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
            raise HostStatusError(Status.NOT_FOUND, f"no property {'.'.join(key)!r}")
        return derived

    def _derived_property(self, key: tuple[str, ...]) -> bytes | None:
        plugin = self.plugins.get(self.root_of(self.current_context))
        if plugin is not None and len(key) == 1:
            root_id = self.profile.plugin_root_id
            value = {"plugin_name": plugin.name,
                     "plugin_root_id": plugin.root_id if root_id is None else root_id,
                     "plugin_vm_id": self.vm_id if self.profile.plugin_vm_id else None,
                     }.get(key[0])
            if value is not None:
                return value.encode()
        stream = self.streams.get(self.current_context)
        if stream is None or len(key) != 2:
            return None
        request = HeaderList(stream.request.headers or [])
        response = HeaderList(stream.response.headers or [])
        if key[1] == "headers" and key[0] in ("request", "response"):
            headers = (stream.request if key[0] == "request" else stream.response).headers
            return (None if headers is None or self.profile.string_properties
                    else envoy_pairs([(name, wire_bytes(value)) for name, value in headers]))
        if key == ("request", "time"):
            return encode_property(hostcalls.datetime_from_ns(stream.started_ns), self.profile)
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
            return encode_property(int(response.get(":status") or 0), self.profile)
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
            raise HostStatusError(Status.NOT_FOUND, f"no foreign function {name!r}")
        return bytes(function(bytes(arguments)))

