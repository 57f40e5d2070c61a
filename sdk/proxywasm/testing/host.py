"""``Host``: drives a filter like a proxy does (contexts, streams, callouts, timers) for tests.

The host's state lives in ``HostState``; an engine runs the filter (its source in this
interpreter, or its built module in wasmtime). Every method that runs filter code raises
``FilterError`` when the filter failed (a traceback was logged, or the module trapped), with the
filter's log lines, so a test fails at the filter's file and line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypedDict, Unpack

from .. import hostcalls
from ..types import Action, BufferType, LogLevel, MapType, MetricType, PeerType
from .attributes import PropertyValue
from .contexts import Event, EventKind, HttpStreamState, ProxyState, Scratch, TcpState
from .local_reply import local_reply
from .profiles import HostProfile, HostTrap, UnsupportedByHostError, host_profile
from .records import (
    ForeignFunction,
    GrpcCall,
    GrpcStream,
    HttpCall,
    LogRecord,
    Pairs,
    PairsInput,
    Plugin,
    header_pairs,
)
from .state import HostState
from .streams import HttpStream, TcpConnection, as_bytes

_TRACEBACK = "Traceback (most recent call last):"
_EMULATOR_FRAME = f'  File "{Path(__file__).parent}{os.sep}'
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What Envoy's proxy_get_status reports in the callback of an HTTP call that got no response.
_BROKEN_CONNECTION = 11
Configuration = bytes | str


class HostOptions(TypedDict, total=False):
    """What a Host may be given besides the filter's path and the engine."""

    plugin_configuration: Configuration | None
    vm_configuration: Configuration | None
    properties: Mapping[Sequence[str] | str, PropertyValue] | None
    root_id: str
    vm_id: str
    plugin_name: str
    log_level: LogLevel
    time: datetime | None
    clusters: Sequence[str] | None
    raise_filter_errors: bool
    proxy: ProxyState | None
    foreign_functions: Mapping[str, ForeignFunction] | None
    host: str | HostProfile
    link: LinkPlan | None


class LinkPlan(Protocol):
    """How a build links the filter, for the source engine to behave as that module does.

    ``pywasm_filter.linking.SourceLink(path)`` gives a default build's (the pytest plugin and
    ``pywasm-filter run`` pass it); without one, every host call is available and the SDK
    adapts to no host's quirks.
    """

    @property
    def quirks(self) -> frozenset[str]:
        """The target hosts' behaviours the SDK adapts to (``proxywasm._targets``)."""
        ...

    @property
    def unavailable(self) -> Mapping[str, str]:
        """Host function name -> why the module leaves it out (calling it raises
        HostCallUnavailableError with that reason)."""
        ...


class FilterError(AssertionError):
    """The filter failed while the emulator ran it: a callback raised (its traceback, with file
    and line, is in the message) or the module trapped. A test failure, not a build error."""


class Engine(Protocol):
    """What runs the filter: calls one ``proxy_on_*`` callback and returns its result."""

    name: str

    def call(self, export: str, *args: int) -> int:
        """Call the callback ``export`` with integer arguments."""
        ...

    def close(self) -> None:
        """Release the engine."""
        ...


def _milliseconds(period: int | timedelta) -> int:
    return period // timedelta(milliseconds=1) if isinstance(period, timedelta) else period


class Host:
    """An emulated proxy with one VM running the filter; see ``from_source``/``from_wasm``."""

    def __init__(self, path: Path | str, engine: str, **options: Unpack[HostOptions]) -> None:
        plugin_configuration = options.get("plugin_configuration")
        vm_configuration = options.get("vm_configuration")
        time = options.get("time")
        self.path = Path(path)
        self._link = options.get("link")
        self.raise_filter_errors = options.get("raise_filter_errors", True)
        self.profile = host_profile(options.get("host", "envoy"))
        """Which proxy this host plays (Envoy by default); see ``proxywasm.testing.wasmx``."""
        self.worker_exited: str | None = None
        """Why the (nginx) worker exited, when a failed start ended it."""
        self.state = HostState(
            vm_id=options.get("vm_id", ""), vm_configuration=as_bytes(vm_configuration),
            properties=options.get("properties"),
            log_level=options.get("log_level", LogLevel.TRACE), clusters=options.get("clusters"),
            proxy=options.get("proxy"), profile=self.profile,
        )
        self.state.wake = self._wake
        for name, function in (options.get("foreign_functions") or {}).items():
            self.register_foreign_function(name, function)
        if time is not None:
            self.time = time
        self._next_context = 1
        self._depth = 0
        self._awaiting_done: set[int] = set()
        self.failures: list[str] = []
        """Reports of callbacks that raised (kept even when ``raise_filter_errors`` is off)."""
        self.plugin = self.add_plugin(configuration=plugin_configuration,
                                      root_id=options.get("root_id", ""),
                                      name=options.get("plugin_name", ""))
        self.engine: Engine = self._engine(engine)

    def _engine(self, engine: str) -> Engine:
        if engine == "source":
            from .source_engine import SourceEngine

            return SourceEngine(self.path, self.state, self._link)
        if engine == "wasm":
            from .wasm_engine import WasmEngine

            if self.path.suffix != ".wasm":
                raise ValueError(f"{self.path}: the wasm engine runs a built .wasm module; build "
                                 "it with `pywasm-filter build` (the proxywasm_host fixture does)")

            return WasmEngine(self.path, self.state)
        raise ValueError(f"unknown engine {engine!r}: use 'source' or 'wasm'")

    @classmethod
    def from_source(cls, path: Path | str, **options: Unpack[HostOptions]) -> Host:
        """Run the filter's Python source in this interpreter (fast; breakpoints work).

        Every host call is available unless ``link=`` gives a build's plan
        (``pywasm_filter.linking.SourceLink(path)``; the ``proxywasm_host`` fixture passes it): then
        the calls that build leaves out raise HostCallUnavailableError, as in the module.
        """
        return cls(path, "source", **options)

    @classmethod
    def from_wasm(cls, path: Path | str, **options: Unpack[HostOptions]) -> Host:
        """Run a module built by ``pywasm-filter build`` in wasmtime."""
        return cls(path, "wasm", **options)

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the engine; the VM leaves its proxy."""
        self.engine.close()
        if self.state in self.state.proxy.vms:
            self.state.proxy.vms.remove(self.state)

    @property
    def proxy(self) -> ProxyState:
        """What this VM shares with other VMs of the proxy; pass it as ``proxy=`` to another
        Host to run a second plugin module (or a second worker of this one) beside it."""
        return self.state.proxy

    # Plugins

    def _context_id(self) -> int:
        context_id, self._next_context = self._next_context, self._next_context + 1
        return context_id

    def add_plugin(self, *, configuration: Configuration | None = None, root_id: str = "",
                   name: str = "") -> Plugin:
        """Add another plugin (root context) to the VM; start it with ``start(plugin)``."""
        return Plugin(self._context_id(), name, root_id, as_bytes(configuration))

    def start(self, plugin: Plugin | None = None) -> bool:
        """Create the plugin's root context, start the VM and configure it; True if accepted."""
        plugin = plugin or self.plugin
        root = plugin.root_context_id
        self.state.plugins[root] = plugin
        self.run_callback(root, "proxy_on_context_create", root, 0)
        vm_configuration = self.state.vm_configuration
        with self._scratch(Scratch(buffers={
                BufferType.VM_CONFIGURATION: bytearray(vm_configuration)})):
            started = self.run_callback(root, "proxy_on_vm_start", root, len(vm_configuration))
        if not started:
            return self._start_failed("on_vm_start")
        with self._scratch(Scratch(buffers={
                BufferType.PLUGIN_CONFIGURATION: bytearray(plugin.configuration)})):
            configured = self.run_callback(root, "proxy_on_configure", root,
                                           len(plugin.configuration))
        return True if configured else self._start_failed("on_configure")

    def _start_failed(self, callback: str) -> bool:
        """A plugin refused to start: Envoy rejects the configuration, nginx's worker exits."""
        if self.profile.start_failure_exits_worker:
            self.worker_exited = (f"{callback} failed: the {self.profile.label} worker exited "
                                  "(the master keeps accepting connections nobody serves)")
        return False

    def _started(self, plugin: Plugin | None) -> int:
        """The root context id of a started plugin."""
        root = (plugin or self.plugin).root_context_id
        if self.worker_exited is not None:
            raise UnsupportedByHostError(f"no request is served: {self.worker_exited}")
        if root not in self.state.plugins:
            raise RuntimeError("the plugin was not started: call host.start() (or "
                               "host.start(plugin)) before opening streams")
        return root

    def new_http_stream(self, plugin: Plugin | None = None) -> HttpStream:
        """Open an HTTP stream (a new HTTP context of the plugin)."""
        root = self._started(plugin)
        state = HttpStreamState(self._context_id(), root, started_ns=self.state.time_ns)
        self.state.streams[state.context_id] = state
        self.run_callback(state.context_id, "proxy_on_context_create", state.context_id, root)
        return HttpStream(self, state)

    def new_tcp_connection(self, plugin: Plugin | None = None) -> TcpConnection:
        """Open a TCP connection (a new stream context of the plugin)."""
        if not self.profile.tcp:
            raise UnsupportedByHostError(f"{self.profile.label} runs no TCP filters "
                                         "(`proxy_wasm` is not allowed in nginx's stream{} "
                                         "block)")
        root = self._started(plugin)
        state = TcpState(self._context_id(), root)
        self.state.connections[state.context_id] = state
        self.run_callback(state.context_id, "proxy_on_context_create", state.context_id, root)
        result = self.run_callback(state.context_id, "proxy_on_new_connection", state.context_id)
        return TcpConnection(self, state, Action(result) if result in tuple(Action)
                             else Action.CONTINUE)

    # Logs, time, timers

    @property
    def log_records(self) -> list[LogRecord]:
        """Every log line the filter wrote, with its level."""
        return list(self.state.log_records)

    def logs(self, level: LogLevel | None = None) -> list[str]:
        """The filter's log messages, all of them or those at exactly ``level``."""
        return [record.message for record in self.state.log_records
                if level is None or record.level == level]

    @property
    def time(self) -> datetime:
        """The host's clock (what ``get_current_time`` returns); the test may set it."""
        return hostcalls.datetime_from_ns(self.state.time_ns)

    @time.setter
    def time(self, value: datetime) -> None:
        self.state.time_ns = (value - _EPOCH) // timedelta(microseconds=1) * 1000

    def tick_period(self, plugin: Plugin | None = None) -> timedelta:
        """The plugin's tick period (zero when it set none)."""
        return timedelta(milliseconds=(plugin or self.plugin).tick_period_ms)

    def tick(self, plugin: Plugin | None = None) -> None:
        """Call on_tick now: on the given plugin, or on every plugin with a tick period."""
        plugins = [plugin] if plugin is not None else [
            item for item in self.state.plugins.values() if item.tick_period_ms > 0]
        for item in plugins:
            self.run_callback(item.root_context_id, "proxy_on_tick", item.root_context_id)

    def advance_time(self, period: int | timedelta) -> int:
        """Move the clock by ``period`` (ms or timedelta), firing due ticks; return how many."""
        end = self.state.time_ns + _milliseconds(period) * 1_000_000
        fired = 0
        while True:
            due = [plugin for plugin in self.state.plugins.values()
                   if plugin.tick_period_ms > 0 and plugin.next_tick_ns <= end]
            if not due:
                break
            plugin = min(due, key=lambda item: item.next_tick_ns)
            self.state.time_ns = max(self.state.time_ns, plugin.next_tick_ns)
            plugin.next_tick_ns += plugin.tick_period_ms * 1_000_000
            self.run_callback(plugin.root_context_id, "proxy_on_tick", plugin.root_context_id)
            fired += 1
        self.state.time_ns = end
        return fired

    # Metrics, shared data, queues, properties

    @property
    def metrics(self) -> dict[str, int]:
        """Counter and gauge values by name."""
        return {metric.name: metric.value for metric in self.state.metrics.values()
                if metric.metric_type != MetricType.HISTOGRAM}

    @property
    def histograms(self) -> dict[str, list[int]]:
        """Histogram samples by name."""
        return {metric.name: list(metric.samples) for metric in self.state.metrics.values()
                if metric.metric_type == MetricType.HISTOGRAM}

    @property
    def shared_data(self) -> dict[str, bytes]:
        """The VM's shared key-value store (values only)."""
        return {key: value for key, (value, _cas) in self.state.shared_data.items()}

    def set_shared_data(self, key: str, value: bytes | str) -> None:
        """Store a value as another VM or plugin would."""
        self.state.set_shared_data(key, as_bytes(value), 0)

    def race_shared_data(self, key: str, value: bytes | str) -> None:
        """Another worker stores ``value`` just before the filter's next compare-and-swap write
        of ``key``, which therefore fails with CAS_MISMATCH (tests a retry loop)."""
        self.state.proxy.races[(self.state.vm_id, key)] = as_bytes(value)

    def queue(self, name: str, vm_id: str | None = None) -> list[bytes]:
        """The items waiting in the shared queue ``name`` (of this VM, or of VM ``vm_id``)."""
        queue_id = self.state.resolve_shared_queue(self.state.vm_id if vm_id is None else vm_id,
                                                   name)
        return list(self.state.proxy.queues[queue_id].items)

    def enqueue(self, name: str, value: bytes | str, vm_id: str | None = None) -> None:
        """Push onto the shared queue ``name``; its plugin gets on_queue_ready."""
        queue_id = self.state.resolve_shared_queue(self.state.vm_id if vm_id is None else vm_id,
                                                   name)
        self.state.enqueue_shared_queue(queue_id, as_bytes(value))
        self._process_events()

    @property
    def properties(self) -> dict[tuple[str, ...], bytes]:
        """VM-wide properties (given by the test or set by the filter outside streams)."""
        return self.state.properties

    def register_foreign_function(self, name: str, function: object) -> None:
        """Let the filter call ``function(arguments: bytes) -> bytes`` by ``name``; raising
        ``HostStatusError`` fails the call with that status (see ``ENVOY_FOREIGN_FUNCTIONS``)."""
        if not callable(function):
            raise TypeError(f"a foreign function must be callable, not {function!r}")
        self.state.foreign_functions[name] = function

    def call_foreign_function(self, function_id: int, arguments: bytes | str = b"",
                              plugin: Plugin | None = None) -> None:
        """Invoke the plugin's on_foreign_function as the proxy would."""
        root = (plugin or self.plugin).root_context_id
        data = as_bytes(arguments)
        with self._scratch(Scratch(buffers={
                BufferType.FOREIGN_FUNCTION_ARGUMENTS: bytearray(data)})):
            self.run_callback(root, "proxy_on_foreign_function", root, function_id, len(data))

    # HTTP calls

    @property
    def http_calls(self) -> list[HttpCall]:
        """HTTP calls the filter dispatched that have no answer yet, oldest first."""
        return list(self.state.http_calls.values())

    def _http_call(self, call: HttpCall | int) -> HttpCall:
        token = call if isinstance(call, int) else call.token
        found = self.state.http_calls.pop(token, None)
        if found is None:
            raise LookupError(f"no pending HTTP call {token}")
        return found

    def respond_http_call(self, call: HttpCall | int, status: int = 200,
                          headers: PairsInput | None = None, body: bytes | str = b"",
                          trailers: PairsInput | None = None) -> None:
        """Answer an HTTP call; the filter's on_http_call_response runs."""
        found = self._http_call(call)
        pairs = header_pairs(headers, self.profile.lowercases_headers)
        if not any(name == ":status" for name, _ in pairs):
            pairs.insert(0, (":status", str(status)))
        self._http_response(found, pairs, as_bytes(body), header_pairs(trailers))

    def fail_http_call(self, call: HttpCall | int) -> None:
        """Fail an HTTP call (reset or timeout), as Envoy reports it: no headers, body or
        trailers exist in the callback, and ``get_status`` says BrokenConnection, "reset"."""
        found = self._http_call(call)
        root = found.root_context_id
        with self._scratch(Scratch(status=(_BROKEN_CONNECTION, b"reset"))):
            self.run_callback(self._answered(found.context_id, root),
                              "proxy_on_http_call_response", root, found.token, 0, 0, 0)

    def _answered(self, caller: int, root: int) -> int:
        """The context a callout's answer acts on: the plugin's root context, where the SDK
        makes the caller effective (Envoy), or the caller while it lives (WasmX)."""
        if self.profile.effective_context or caller not in self.state.streams:
            return root
        return caller

    def _http_response(self, call: HttpCall, headers: Pairs, body: bytes,
                       trailers: Pairs) -> None:
        scratch = Scratch(
            maps={MapType.HTTP_CALL_RESPONSE_HEADERS: headers,
                  MapType.HTTP_CALL_RESPONSE_TRAILERS: trailers},
            buffers={BufferType.HTTP_CALL_RESPONSE_BODY: bytearray(body)},
        )
        root = call.root_context_id
        with self._scratch(scratch):
            self.run_callback(self._answered(call.context_id, root),
                              "proxy_on_http_call_response", root, call.token, len(headers),
                              len(body), len(trailers))

    # gRPC

    @property
    def grpc_calls(self) -> list[GrpcCall]:
        """Unary gRPC calls waiting for an answer, oldest first."""
        return list(self.state.grpc_calls.values())

    @property
    def grpc_streams(self) -> list[GrpcStream]:
        """gRPC streams the filter opened that the server has not closed."""
        return list(self.state.grpc_streams.values())

    def respond_grpc_call(self, call: GrpcCall | int, message: bytes | str = b"",
                          status: int = 0, status_message: str = "") -> None:
        """Answer a unary call: a message (status 0) or a failure status."""
        self._check_grpc()
        token = call if isinstance(call, int) else call.token
        found = self.state.grpc_calls.pop(token, None)
        if found is None:
            raise LookupError(f"no pending gRPC call {token}")
        root = found.root_context_id
        if status == 0:
            data = as_bytes(message)
            with self._scratch(Scratch(buffers={BufferType.GRPC_CALL_MESSAGE: bytearray(data)})):
                self.run_callback(root, "proxy_on_grpc_receive", root, token, len(data))
            return
        with self._scratch(Scratch(status=(status, status_message.encode()))):
            self.run_callback(root, "proxy_on_grpc_close", root, token, status)

    def _check_grpc(self) -> None:
        if not self.profile.grpc:
            raise UnsupportedByHostError(f"{self.profile.label} never calls the gRPC "
                                         "callbacks (its gRPC calls are stubs that trap)")

    def _grpc_stream(self, token: int) -> GrpcStream:
        self._check_grpc()
        stream = self.state.grpc_streams.get(token)
        if stream is None:
            raise LookupError(f"no open gRPC stream {token}")
        return stream

    def send_grpc_stream_initial_metadata(self, token: int, metadata: PairsInput) -> None:
        """The server's initial metadata arrives on a stream."""
        root = self._grpc_stream(token).root_context_id
        pairs = header_pairs(metadata)
        with self._scratch(Scratch(maps={MapType.GRPC_CALL_INITIAL_METADATA: pairs})):
            self.run_callback(root, "proxy_on_grpc_receive_initial_metadata", root, token,
                              len(pairs))

    def send_grpc_stream_message(self, token: int, message: bytes | str) -> None:
        """A message from the server arrives on a stream."""
        root = self._grpc_stream(token).root_context_id
        data = as_bytes(message)
        with self._scratch(Scratch(buffers={BufferType.GRPC_CALL_MESSAGE: bytearray(data)})):
            self.run_callback(root, "proxy_on_grpc_receive", root, token, len(data))

    def send_grpc_stream_trailing_metadata(self, token: int, metadata: PairsInput) -> None:
        """The server's trailing metadata arrives on a stream."""
        root = self._grpc_stream(token).root_context_id
        pairs = header_pairs(metadata)
        with self._scratch(Scratch(maps={MapType.GRPC_CALL_TRAILING_METADATA: pairs})):
            self.run_callback(root, "proxy_on_grpc_receive_trailing_metadata", root, token,
                              len(pairs))

    def close_grpc_stream(self, token: int, status: int = 0, message: str = "") -> None:
        """The server ends a stream with ``status``; the filter's on_grpc_close runs."""
        root = self._grpc_stream(token).root_context_id
        del self.state.grpc_streams[token]
        with self._scratch(Scratch(status=(status, message.encode()))):
            self.run_callback(root, "proxy_on_grpc_close", root, token, status)

    # Running callbacks

    @contextmanager
    def _scratch(self, scratch: Scratch) -> Iterator[None]:
        saved, self.state.scratch = self.state.scratch, scratch
        try:
            yield
        finally:
            self.state.scratch = saved

    def run_callback(self, context_id: int, export: str, *args: int) -> int:
        """Run one callback as ``context_id``; at the outermost level, then apply its effects
        (resumed streams, local replies, callbacks the proxy defers). Raises ``FilterError``
        when the filter failed in it (see ``raise_filter_errors``)."""
        from .wasm_engine import ModuleTrapError

        outermost = self._depth == 0
        if outermost:
            self.state.trapped, self.state.crashed = None, False
        mark = len(self.state.log_records)
        previous = self.state.current_context, self.state.callback
        self.state.current_context, self.state.callback = context_id, export
        self._depth += 1
        try:
            result = self.engine.call(export, *args)
        except ModuleTrapError as trapped:
            raise FilterError(f"{trapped}\n{self._errors(mark)}") from None
        except HostTrap:
            pass
        finally:
            self._depth -= 1
            self.state.current_context, self.state.callback = previous
        if self.state.crashed:
            self.worker_exited = self.state.trapped
            raise FilterError(f"{self.state.trapped}\n{self._errors(mark)}")
        if self.state.trapped is not None:
            raise FilterError(f"{self.profile.label} trapped the module in {export}: "
                              f"{self.state.trapped}\n{self._errors(mark)}")
        if outermost:
            self._process_events()
            self._check(export, mark)
        return result

    def _errors(self, mark: int) -> str:
        """The ERROR lines since ``mark``, without the source engine's own frames."""
        return "\n".join(record.message for record in self.state.log_records[mark:]
                         if record.level >= LogLevel.ERROR
                         and not record.message.startswith(_EMULATOR_FRAME))

    def _check(self, export: str, mark: int) -> None:
        if not any(record.message.startswith(_TRACEBACK)
                   for record in self.state.log_records[mark:]
                   if record.level >= LogLevel.ERROR):
            return
        report = f"the filter failed in {export}:\n{self._errors(mark)}"
        self.failures.append(report)
        if self.raise_filter_errors:
            raise FilterError(report)

    def _process_events(self) -> None:
        """Apply this VM's deferred work, then let other VMs of the proxy run theirs."""
        while self.state.events:
            event = self.state.events.pop(0)
            self._apply(event)
        for vm in list(self.state.proxy.vms):
            if vm is not self.state and vm.events and vm.wake is not None:
                vm.wake()

    def _wake(self) -> None:
        """Run the events another VM queued here, unless this VM is inside a callback."""
        if self._depth == 0:
            self._process_events()

    def _apply(self, event: Event) -> None:
        {
            EventKind.DONE: self._done,
            EventKind.HTTP_CALL_FAILED: self._http_call_failed,
            EventKind.QUEUE_READY: self._queue_ready,
            EventKind.LOCAL_RESPONSE: self._deliver_local_response,
            EventKind.CONTINUE: self._continue,
            EventKind.CLOSE: self._close,
        }[event.kind](event)

    def _done(self, event: Event) -> None:
        """The filter finished a context whose on_done said "not yet": log and delete it."""
        if event.context_id in self._awaiting_done:
            self._delete(event.context_id)

    def _http_call_failed(self, event: Event) -> None:
        """An HTTP call failed at once: its callback runs without headers, body or trailers."""
        root = self.state.root_of(event.context_id)
        self.run_callback(self._answered(event.context_id, root),
                          "proxy_on_http_call_response", root,
                          event.value, 0, 0, 0)

    def _queue_ready(self, event: Event) -> None:
        """Items arrived on a queue the plugin registered: on_queue_ready."""
        self.run_callback(event.context_id, "proxy_on_queue_ready", event.context_id,
                          event.value)

    def _continue(self, event: Event) -> None:
        """A direction the filter resumed: its held data is passed on."""
        target = (self.state.streams.get(event.context_id)
                  or self.state.connections.get(event.context_id))
        if target is not None:
            side = target.direction(event.value)
            side.paused = False
            side.forward()

    def _close(self, event: Event) -> None:
        """The filter reset its stream, or closed a side of its connection (which closes the
        client connection, reported to the filter as a LOCAL close)."""
        stream = self.state.streams.get(event.context_id)
        if stream is not None:
            stream.reset = True
        connection = self.state.connections.get(event.context_id)
        if connection is not None:
            connection.direction(event.value).closed = True
            self.close_connection(connection.context_id, PeerType.LOCAL)

    def close_connection(self, context_id: int, peer: PeerType) -> None:
        """The client connection closes: on_downstream_close, once (closing either side from
        the filter closes Envoy's downstream connection, reported as a LOCAL close)."""
        connection = self.state.connections[context_id]
        if connection.connection_closed:
            return
        connection.connection_closed = True
        self.run_callback(context_id, "proxy_on_downstream_connection_close", context_id,
                          int(peer))

    def _deliver_local_response(self, event: Event) -> None:
        """Send the local reply to the client through the filter's response callbacks."""
        stream = self.state.streams.get(event.context_id)
        reply = None if stream is None else stream.local_response
        if stream is None or reply is None or stream.response.headers is not None:
            return
        headers, body = local_reply(reply, stream.request.headers,
                                    self.profile.local_body_suffix)
        stream.request.buffer = None
        stream.request.paused = False
        stream.response.headers = headers
        stream.readable.add(MapType.HTTP_RESPONSE_HEADERS)
        context = stream.context_id
        if self.run_callback(context, "proxy_on_response_headers", context, len(headers),
                             not body) == Action.CONTINUE:
            stream.readable.discard(MapType.HTTP_RESPONSE_HEADERS)
        if body:
            stream.response.buffer = bytearray(body)
            self.run_callback(context, "proxy_on_response_body", context, len(body), True)
            stream.response.forward()

    def complete_context(self, context_id: int) -> None:
        """on_done, then on_log and on_delete unless the filter finishes later (``done()``)."""
        self.state.done_contexts = [item for item in self.state.done_contexts
                                    if item != context_id]
        if self.run_callback(context_id, "proxy_on_done", context_id):
            self._delete(context_id)
        elif context_id in self.state.done_contexts:
            self._delete(context_id)
        else:
            self._awaiting_done.add(context_id)

    def _delete(self, context_id: int) -> None:
        """on_log (with the access log's header maps, as Envoy gives them), then on_delete."""
        self._awaiting_done.discard(context_id)
        http = self.state.streams.get(context_id)
        if http is not None:
            http.logging = True
        try:
            self.run_callback(context_id, "proxy_on_log", context_id)
        finally:
            if http is not None:
                http.logging = False
        self.run_callback(context_id, "proxy_on_delete", context_id)
        stream = http or self.state.connections.get(context_id)
        if stream is not None:
            stream.deleted = True
