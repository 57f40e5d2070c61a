"""The source engine: the filter runs in this interpreter, host calls go to the emulator.

Each engine imports its own fresh copy of the filter with ``proxywasm._host`` bound to an
``EmulatedHostModule``. Callbacks enter the SDK where the C runtime does (``Router``). The SDK
keeps its run-time state in one object (``proxywasm._state.state``), so when several engines
exist the active one swaps its own state in before each callback.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TextIO

from .. import _contexts, _host, _targets, errors
from .._state import SdkState, state
from ..types import LogLevel, Status
from .guards import guarded
from .interfaces import ENV, host_function
from .profiles import MISSING_FUNCTION, STUB_TRAP
from .records import HostStatusError, Pairs, log_text
from .router import Router
from .state import HostState

if TYPE_CHECKING:
    from .host import LinkPlan

# Statuses the C module reports as a None result instead of raising.
_ABSENT: dict[str, frozenset[Status]] = {
    "get_buffer_bytes": frozenset({Status.NOT_FOUND}),
    "get_header_map_value": frozenset({Status.NOT_FOUND}),
    "get_header_map_value_bytes": frozenset({Status.NOT_FOUND}),
    "get_property": frozenset({Status.NOT_FOUND}),
    "resolve_shared_queue": frozenset({Status.NOT_FOUND}),
    "dequeue_shared_queue": frozenset({Status.EMPTY}),
    "call_foreign_function": frozenset({Status.NOT_FOUND}),
}
def _text(value: str | bytes) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    if isinstance(value, str):
        if not value.isascii():
            value.encode("utf-8", "surrogateescape")  # as the runtime: other lone surrogates fail
        return value
    raise TypeError(f"expected str or bytes, got {type(value).__name__}")


def _data(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"expected str or bytes, got {type(value).__name__}")


def _pairs(pairs: Sequence[tuple[str, str | bytes]]) -> Pairs:
    result: Pairs = []
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError("each header must be a (name, value) tuple")
        result.append((_text(pair[0]), _text(pair[1])))
    return result


def _u32(value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise TypeError(f"expected an unsigned 32-bit int, got {value!r}")
    return value


class EmulatedHostModule:
    """A Python ``_proxywasm``: the same functions, argument checks and status handling."""

    def __init__(self, state: HostState, router: Router | None = None) -> None:
        self._state = state
        self._router = router
        self._factory: Callable[[int, str], BaseException] = errors.error_for
        interface = state.profile.interface
        if interface is None:
            return
        for method in vars(EmulatedHostModule):
            name = host_function(method)
            if name is None:
                continue
            function = interface.functions.get((ENV, name))
            if function is None:
                setattr(self, method, self._trap(MISSING_FUNCTION.format(module=ENV, name=name)))
            elif function.stub:
                setattr(self, method, self._trap(STUB_TRAP.format(name=name)))

    def _trap(self, message: str) -> Callable[..., None]:
        """A host call the profile's proxy lacks or stubs: calling it traps the instance."""

        def trap(*args: object) -> None:
            raise self._state.trap(message)

        return trap

    def _run(self, name: str, call: Callable[[], object]) -> object:
        try:
            return call()
        except HostStatusError as failed:
            if failed.status in _ABSENT.get(name, frozenset()):
                return None
            raise self._factory(int(failed.status), "proxy_" + name) from None

    def set_error_factory(self, factory: Callable[[int, str], BaseException], /) -> None:
        """Install the SDK's exception factory."""
        self._factory = factory

    def log(self, level: int, message: str, /) -> None:
        """proxy_log."""
        self._run("log", lambda: self._state.log(_u32(level), _text(message)))

    def get_log_level(self) -> int:
        """proxy_get_log_level."""
        return self._state.get_log_level()

    def get_current_time_nanoseconds(self) -> int:
        """proxy_get_current_time_nanoseconds."""
        return self._state.get_current_time_nanoseconds()

    def set_tick_period_milliseconds(self, period: int, /) -> None:
        """proxy_set_tick_period_milliseconds."""
        self._run("set_tick_period_milliseconds",
                  lambda: self._state.set_tick_period_milliseconds(_u32(period)))

    def done(self) -> None:
        """proxy_done."""
        self._state.done()

    def set_effective_context(self, context_id: int, /) -> None:
        """proxy_set_effective_context."""
        self._run("set_effective_context",
                  lambda: self._state.set_effective_context(_u32(context_id)))

    def set_inherited_callbacks(self, context_id: int, inherited: int, /) -> None:
        """Not a host call: the runtime's record of the callbacks a context inherits (kept by
        the source engine's router; without one, only checked)."""
        context_id, inherited = _u32(context_id), _u32(inherited)
        if self._router is not None:
            self._router.set_inherited(context_id, inherited)

    def get_buffer_bytes(self, buffer_type: int, start: int, max_size: int, /) -> bytes | None:
        """proxy_get_buffer_bytes."""
        result = self._run("get_buffer_bytes", lambda: self._state.get_buffer_bytes(
            _u32(buffer_type), _u32(start), _u32(max_size)))
        return result if isinstance(result, bytes) else None

    def set_buffer_bytes(self, buffer_type: int, start: int, size: int, value: bytes, /) -> None:
        """proxy_set_buffer_bytes."""
        self._run("set_buffer_bytes", lambda: self._state.set_buffer_bytes(
            _u32(buffer_type), _u32(start), _u32(size), _data(value)))

    def get_buffer_status(self, buffer_type: int, /) -> tuple[int, int]:
        """proxy_get_buffer_status."""
        result = self._run("get_buffer_status",
                           lambda: self._state.get_buffer_status(_u32(buffer_type)))
        assert isinstance(result, tuple)
        return result

    def get_header_map_size(self, map_type: int, /) -> int:
        """proxy_get_header_map_size."""
        result = self._run("get_header_map_size",
                           lambda: self._state.get_header_map_size(_u32(map_type)))
        assert isinstance(result, int)
        return result

    def get_header_map_pairs(self, map_type: int, /) -> list[tuple[str, str]]:
        """proxy_get_header_map_pairs."""
        result = self._run("get_header_map_pairs",
                           lambda: self._state.get_header_map_pairs(_u32(map_type)))
        assert isinstance(result, list)
        return result

    def get_header_map_pairs_bytes(self, map_type: int, /) -> list[tuple[str, bytes]]:
        """proxy_get_header_map_pairs with values as bytes."""
        return [(key, _data(value)) for key, value in self.get_header_map_pairs(map_type)]

    def set_header_map_pairs(self, map_type: int, pairs: Sequence[tuple[str, str | bytes]],
                             /) -> None:
        """proxy_set_header_map_pairs."""
        self._run("set_header_map_pairs",
                  lambda: self._state.set_header_map_pairs(_u32(map_type), _pairs(pairs)))

    def get_header_map_value(self, map_type: int, key: str, /) -> str | None:
        """proxy_get_header_map_value."""
        result = self._run("get_header_map_value",
                           lambda: self._state.get_header_map_value(_u32(map_type), _text(key)))
        return result if isinstance(result, str) else None

    def get_header_map_value_bytes(self, map_type: int, key: str, /) -> bytes | None:
        """proxy_get_header_map_value with the value as bytes."""
        value = self.get_header_map_value(map_type, key)
        return None if value is None else _data(value)

    def add_header_map_value(self, map_type: int, key: str, value: str | bytes, /) -> None:
        """proxy_add_header_map_value."""
        self._run("add_header_map_value", lambda: self._state.add_header_map_value(
            _u32(map_type), _text(key), _text(value)))

    def replace_header_map_value(self, map_type: int, key: str, value: str | bytes, /) -> None:
        """proxy_replace_header_map_value."""
        self._run("replace_header_map_value", lambda: self._state.replace_header_map_value(
            _u32(map_type), _text(key), _text(value)))

    def remove_header_map_value(self, map_type: int, key: str, /) -> None:
        """proxy_remove_header_map_value."""
        self._run("remove_header_map_value",
                  lambda: self._state.remove_header_map_value(_u32(map_type), _text(key)))

    def set_header_map_value(self, map_type: int, key: str, value: str | bytes | None, /) -> None:
        """replace_header_map_value, or remove_header_map_value when ``value`` is None."""
        if value is None:
            self.remove_header_map_value(map_type, key)
        else:
            self.replace_header_map_value(map_type, key, value)

    def continue_stream(self, stream_type: int, /) -> None:
        """proxy_continue_stream."""
        self._run("continue_stream", lambda: self._state.continue_stream(_u32(stream_type)))

    def close_stream(self, stream_type: int, /) -> None:
        """proxy_close_stream."""
        self._run("close_stream", lambda: self._state.close_stream(_u32(stream_type)))

    def get_status(self) -> tuple[int, bytes]:
        """proxy_get_status."""
        return self._state.get_status()

    def send_local_response(self, status_code: int, details: str, body: bytes,
                            headers: Sequence[tuple[str, str | bytes]], grpc_status: int,
                            /) -> None:
        """proxy_send_local_response."""
        self._run("send_local_response", lambda: self._state.send_local_response(
            _u32(status_code), _text(details), _data(body), _pairs(headers), int(grpc_status)))

    def http_call(self, upstream: str, headers: Sequence[tuple[str, str | bytes]], body: bytes,
                  trailers: Sequence[tuple[str, str | bytes]], timeout_ms: int, /) -> int:
        """proxy_http_call."""
        result = self._run("http_call", lambda: self._state.http_call(
            _text(upstream), _pairs(headers), _data(body), _pairs(trailers), _u32(timeout_ms)))
        assert isinstance(result, int)
        return result

    def grpc_call(self, upstream: str, service: str, method: str,
                  initial_metadata: Sequence[tuple[str, str | bytes]], message: bytes,
                  timeout_ms: int, /) -> int:
        """proxy_grpc_call."""
        result = self._run("grpc_call", lambda: self._state.grpc_call(
            _text(upstream), _text(service), _text(method), _pairs(initial_metadata),
            _data(message), _u32(timeout_ms)))
        assert isinstance(result, int)
        return result

    def grpc_stream(self, upstream: str, service: str, method: str,
                    initial_metadata: Sequence[tuple[str, str | bytes]], /) -> int:
        """proxy_grpc_stream."""
        result = self._run("grpc_stream", lambda: self._state.grpc_stream(
            _text(upstream), _text(service), _text(method), _pairs(initial_metadata)))
        assert isinstance(result, int)
        return result

    def grpc_send(self, token: int, message: bytes, end_stream: bool, /) -> None:
        """proxy_grpc_send."""
        self._run("grpc_send", lambda: self._state.grpc_send(
            _u32(token), _data(message), bool(end_stream)))

    def grpc_cancel(self, token: int, /) -> None:
        """proxy_grpc_cancel."""
        self._run("grpc_cancel", lambda: self._state.grpc_cancel(_u32(token)))

    def grpc_close(self, token: int, /) -> None:
        """proxy_grpc_close."""
        self._run("grpc_close", lambda: self._state.grpc_close(_u32(token)))

    def get_shared_data(self, key: str, /) -> tuple[bytes | None, int]:
        """proxy_get_shared_data."""
        try:
            return self._state.get_shared_data(_text(key))
        except HostStatusError as failed:
            if failed.status == Status.NOT_FOUND:
                return None, 0
            raise self._factory(int(failed.status), "proxy_get_shared_data") from None

    def set_shared_data(self, key: str, value: bytes | None, cas: int, /) -> None:
        """proxy_set_shared_data."""
        self._run("set_shared_data",
                  lambda: self._state.set_shared_data(_text(key), _data(value), _u32(cas)))

    def register_shared_queue(self, name: str, /) -> int:
        """proxy_register_shared_queue."""
        return self._state.register_shared_queue(_text(name))

    def resolve_shared_queue(self, vm_id: str, name: str, /) -> int | None:
        """proxy_resolve_shared_queue."""
        result = self._run("resolve_shared_queue",
                           lambda: self._state.resolve_shared_queue(_text(vm_id), _text(name)))
        return result if isinstance(result, int) else None

    def enqueue_shared_queue(self, queue_id: int, value: bytes, /) -> None:
        """proxy_enqueue_shared_queue."""
        self._run("enqueue_shared_queue",
                  lambda: self._state.enqueue_shared_queue(_u32(queue_id), _data(value)))

    def dequeue_shared_queue(self, queue_id: int, /) -> bytes | None:
        """proxy_dequeue_shared_queue."""
        result = self._run("dequeue_shared_queue",
                           lambda: self._state.dequeue_shared_queue(_u32(queue_id)))
        return result if isinstance(result, bytes) else None

    def define_metric(self, metric_type: int, name: str, /) -> int:
        """proxy_define_metric."""
        result = self._run("define_metric",
                           lambda: self._state.define_metric(_u32(metric_type), _text(name)))
        assert isinstance(result, int)
        return result

    def record_metric(self, metric_id: int, value: int, /) -> None:
        """proxy_record_metric."""
        self._run("record_metric", lambda: self._state.record_metric(_u32(metric_id), value))

    def increment_metric(self, metric_id: int, delta: int, /) -> None:
        """proxy_increment_metric."""
        self._run("increment_metric",
                  lambda: self._state.increment_metric(_u32(metric_id), delta))

    def get_metric(self, metric_id: int, /) -> int:
        """proxy_get_metric."""
        result = self._run("get_metric", lambda: self._state.get_metric(_u32(metric_id)))
        assert isinstance(result, int)
        return result

    def get_property(self, path: Sequence[str], /) -> bytes | None:
        """proxy_get_property."""
        result = self._run("get_property",
                           lambda: self._state.get_property([_text(part) for part in path]))
        return result if isinstance(result, bytes) else None

    def set_property(self, path: Sequence[str], value: bytes, /) -> None:
        """proxy_set_property."""
        self._run("set_property", lambda: self._state.set_property(
            [_text(part) for part in path], _data(value)))

    def call_foreign_function(self, name: str, arguments: bytes, /) -> bytes | None:
        """proxy_call_foreign_function; an empty result is None, as the C module reports it."""
        result = self._run("call_foreign_function",
                           lambda: self._state.call_foreign_function(_text(name), _data(arguments)))
        return result if isinstance(result, bytes) and result else None


class _TeeWriter(io.TextIOBase):
    """stdout/stderr during a callback: shown as usual (pdb works) and logged line by line."""

    def __init__(self, state: HostState, level: LogLevel, stream: TextIO) -> None:
        super().__init__()
        self._state = state
        self._level = level
        self._stream = stream
        self._pending = ""

    def writable(self) -> bool:
        """Return True: this stream can be written."""
        return True

    def write(self, text: str) -> int:
        """Pass ``text`` on and log each line it completes (bytes that are not UTF-8 escaped,
        as the runtime logs them)."""
        self._stream.write(log_text(text))
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            self._state.log(self._level, line)
        return len(text)

    def flush(self) -> None:
        """Flush the underlying stream."""
        self._stream.flush()


def _link(module: EmulatedHostModule, link: LinkPlan | None) -> tuple[frozenset[str],
                                                                       dict[str, str]]:
    """Make ``module`` and the SDK behave as the module ``link`` describes: the host calls it
    leaves out raise HostCallUnavailableError, the SDK adapts to its targets' quirks. Without a
    plan every host call is linked and the SDK has no quirks (a module built for Envoy only).
    Returns the quirks and unlinked functions, for ``_targets`` when the engine is activated."""
    quirks, unavailable = (frozenset(), {}) if link is None else (
        frozenset(link.quirks), dict(link.unavailable))
    _targets.configure(quirks, unavailable)
    for method in dir(module):
        function = host_function(method)
        if function in unavailable:
            setattr(module, method, _unlinked(module, function))
    return quirks, unavailable


def _unlinked(module: EmulatedHostModule, function: str) -> Callable[..., object]:
    def call(*args: object) -> object:
        raise module._factory(_targets.UNLINKED_STATUS, function)

    return call


_active: SourceEngine | None = None
# Modules imported from filters' own directories: dropped before each import of a filter.
_filter_modules: set[str] = set()


def _own_modules(names: set[str], directory: Path) -> set[str]:
    """The modules among ``names`` whose files are in ``directory`` (the filter's own)."""
    prefix = f"{directory}{os.sep}"
    return {name for name in names
            if str(getattr(sys.modules.get(name), "__file__", "") or "").startswith(prefix)}


def _filter_files(path: Path) -> tuple[Path, str, Path]:
    """(file to import, module name, directory put on sys.path) for a filter path."""
    path = path.resolve()
    if path.is_dir():
        init = path / "__init__.py"
        if not init.is_file():
            raise FileNotFoundError(f"{path}: a filter package needs an __init__.py")
        return init, path.name, path.parent
    if path.suffix != ".py" or not path.is_file():
        raise FileNotFoundError(f"{path}: give a filter .py file or a package directory")
    return path, path.stem, path.parent


class SourceEngine:
    """Runs the filter's Python source with host calls bound to ``state``."""

    name = "source"

    def __init__(self, path: Path, state: HostState, link: LinkPlan | None = None) -> None:
        self.path = path
        self._state = state
        self._link = link
        self._router = Router()
        self._module = EmulatedHostModule(state, self._router)
        self._parked = SdkState()
        """This engine's SDK state while another engine's is swapped in."""
        self._targets: tuple[frozenset[str], dict[str, str]] = (frozenset(), {})
        self.filter_module = self._load()

    def _load(self) -> ModuleType:
        global _active
        if _active is not None and _active is not self:
            state.swap(_active._parked)
        _active = None
        _contexts.reset()
        _host.bind(self._module)
        self._module_state_reset()
        file, module_name, search_root = _filter_files(self.path)
        for name in _filter_modules:
            sys.modules.pop(name, None)
        before = set(sys.modules)
        spec = importlib.util.spec_from_file_location(
            module_name, file, submodule_search_locations=[str(file.parent)]
            if file.name == "__init__.py" else None)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import the filter {self.path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        sys.path.insert(0, str(search_root))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(search_root))
            _filter_modules.update(_own_modules(set(sys.modules) - before, search_root))
            _filter_modules.add(module_name)
        _contexts.prepare()
        self._targets = _link(self._module, self._link)
        _host.bind(self._module)
        if not _contexts.registered():
            raise RuntimeError(
                f"{self.path}: the filter registered no context; call "
                "proxywasm.set_root_context(...) or proxywasm.set_http_context(...) at module level"
            )
        _active = self
        return module

    @staticmethod
    def _module_state_reset() -> None:
        """Start each filter with the SDK's default log threshold.

        The run-time set-up is marked done: it would send stdout/stderr to the log for good,
        while this engine does so only during callbacks (``_TeeWriter``).
        """
        from .. import _runtime

        _runtime.reset()
        state.started = True
        state.log_threshold = LogLevel.TRACE

    def activate(self) -> None:
        """Make this engine's filter and emulator the ones the SDK talks to."""
        global _active
        if _active is self:
            return
        if _active is not None:
            state.swap(_active._parked)
        state.swap(self._parked)
        _host.bind(self._module)
        _targets.configure(*self._targets)
        _active = self

    def call(self, export: str, *args: int) -> int:
        """Run the callback ``export`` (``proxy_on_*``), entering the SDK as the runtime does."""
        self.activate()
        saved = sys.stdout, sys.stderr
        sys.stdout = _TeeWriter(self._state, LogLevel.INFO, saved[0])
        sys.stderr = _TeeWriter(self._state, LogLevel.ERROR, saved[1])
        try:
            with guarded():
                return self._router.call(export, *args)
        finally:
            sys.stdout, sys.stderr = saved

    def close(self) -> None:
        """Forget this engine (its SDK state is dropped)."""
        global _active
        if _active is self:
            _host.bind(None)
            _contexts.reset()
            _active = None
