"""The wasm engine: a built module runs in wasmtime, its ``env.proxy_*`` imports hit the emulator.

Arguments and results cross linear memory as the ABI says: strings as (pointer, size), header
maps in the ABI's serialization, property paths joined by NUL bytes, and results written into
memory the module allocates with ``proxy_on_memory_allocate``. The compiled module is cached
per file (path, size and modification time), so each Host only instantiates it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from wasmtime import (
    Caller,
    Engine,
    ExitTrap,
    Func,
    FuncType,
    Instance,
    Linker,
    Memory,
    Module,
    Store,
    Trap,
    WasiConfig,
    WasmtimeError,
)

from ..types import LogLevel, Status
from .interfaces import ENV as _ENV
from .interfaces import WASI as _WASI
from .interfaces import HostInterface, Signature
from .profiles import MISSING_FUNCTION, STUB_TRAP, HostLinkError
from .records import HostStatusError, Pairs
from .state import HostState

_ALLOCATE = "proxy_on_memory_allocate"
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

# The callbacks nginx calls on every HTTP request without checking that the module has them.
_HTTP_STEPS = frozenset({
    "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_headers",
    "proxy_on_response_body",
})

_engine: Engine | None = None
_modules: dict[tuple[str, int, int], Module] = {}


class ModuleTrapError(Exception):
    """The module trapped or exited inside a callback."""


def compiled(path: Path) -> Module:
    """The compiled module for ``path``, compiled once per file version and process."""
    global _engine
    if _engine is None:
        _engine = Engine()
    path = path.resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    module = _modules.get(key)
    if module is None:
        module = Module(_engine, path.read_bytes())
        _modules[key] = module
    return module


def encode_pairs(pairs: Pairs) -> bytes:
    """Serialize header pairs: count, (key size, value size) pairs, then NUL-ended strings."""
    encoded = [(key.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
               for key, value in pairs]
    sizes = b"".join(struct.pack("<II", len(key), len(value)) for key, value in encoded)
    data = b"".join(key + b"\0" + value + b"\0" for key, value in encoded)
    return _U32.pack(len(encoded)) + sizes + data


def decode_pairs(data: bytes) -> Pairs:
    """Parse the ABI's header map serialization (an empty buffer is an empty map)."""
    if len(data) < 4:
        return []
    (count,) = _U32.unpack_from(data, 0)
    if 4 + 8 * count > len(data):
        raise HostStatusError(Status.BAD_ARGUMENT, "malformed header map")
    at = 4 + 8 * count
    pairs: Pairs = []
    for index in range(count):
        key_size, value_size = struct.unpack_from("<II", data, 4 + 8 * index)
        if at + key_size + value_size + 2 > len(data):
            raise HostStatusError(Status.BAD_ARGUMENT, "malformed header map")
        key = data[at:at + key_size].decode("utf-8", "surrogateescape")
        at += key_size + 1
        value = data[at:at + value_size].decode("utf-8", "surrogateescape")
        at += value_size + 1
        pairs.append((key, value))
    return pairs


class _LineLog:
    """WASI stdout/stderr: each complete line goes to the proxy log, as Envoy does."""

    def __init__(self, state: HostState, level: LogLevel) -> None:
        self._state = state
        self._level = level
        self._pending = b""

    def write(self, data: bytes) -> None:
        """Log every line ``data`` completes."""
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            self._state.log(self._level, line.decode("utf-8", "replace"))


HostFunction = Callable[..., int]


class WasmEngine:
    """One instance of a built module, wired to ``state``."""

    name = "wasm"

    def __init__(self, path: Path, state: HostState) -> None:
        self.path = path
        self._state = state
        module = compiled(path)
        assert _engine is not None
        self._store = Store(_engine)
        wasi = WasiConfig()
        wasi.stdout_custom = _LineLog(state, LogLevel.INFO).write
        wasi.stderr_custom = _LineLog(state, LogLevel.ERROR).write
        self._store.set_wasi(wasi)
        linker = Linker(_engine)
        linker.allow_shadowing = True
        linker.define_wasi()
        interface = state.profile.interface
        if interface is not None:
            self._link_host(linker, module, interface, state.profile.host_interface)
        for entry in module.imports:
            if entry.module == _WASI or interface is not None:
                continue
            implementation = getattr(self, f"_{entry.name}", None)
            if entry.module != _ENV or implementation is None or not isinstance(
                    entry.type, FuncType):
                raise ValueError(f"{path}: the module imports {entry.module}.{entry.name}, "
                                 "which is not a Proxy-Wasm 0.2.1 host function")
            linker.define_func(_ENV, entry.name or "", entry.type,
                               self._guarded(implementation, entry.type), access_caller=True)
        self._instance: Instance = linker.instantiate(self._store, module)
        exports = self._instance.exports(self._store)
        memory = exports["memory"]
        allocate = exports[_ALLOCATE]
        if not isinstance(memory, Memory) or not isinstance(allocate, Func):
            raise ValueError(f"{path}: not a Proxy-Wasm module (no memory or {_ALLOCATE})")
        self._memory = memory
        self._allocate = allocate
        self._exports = exports
        initialize = exports.get("_initialize")
        if isinstance(initialize, Func):
            self._invoke(initialize, "_initialize", ())

    def _link_host(self, linker: Linker, module: Module, interface: HostInterface,
                   host_interface: str) -> None:
        """Link the imports as ``interface``'s host does: each must exist there with exactly
        its type (else ``HostLinkError`` in the host's words); a stub traps when called."""
        refused = []
        for entry in module.imports:
            module_name, name = entry.module, entry.name or ""
            function = interface.functions.get((module_name, name))
            if not isinstance(entry.type, FuncType) or function is None:
                refused.append(MISSING_FUNCTION.format(module=module_name, name=name))
                continue
            imported = Signature(tuple(str(param) for param in entry.type.params),
                                 tuple(str(result) for result in entry.type.results))
            if imported != function.signature:
                refused.append(f"incompatible import type for {module_name}::{name}: expected "
                               f"type {imported.wat}, found type {function.signature.wat}")
            elif function.stub:
                linker.define_func(module_name, name, entry.type, self._stub(name),
                                   access_caller=True)
            elif module_name == _ENV:
                implementation = getattr(self, f"_{name}", None)
                if implementation is None:
                    raise ValueError(f"{self.path}: the emulator does not implement {name}")
                linker.define_func(_ENV, name, entry.type,
                                   self._guarded(implementation, entry.type), access_caller=True)
        if refused:
            lines = "\n".join(f"  [error] [wasm] {line}" for line in refused)
            raise HostLinkError(
                f"{self.path}: {interface.name} refuses to load this module:\n{lines}\n"
                f'  [emerg] [wasm] failed linking "{self.path.stem}" module with '
                f'"{host_interface}" host interface: incompatible host interface\n'
                f"Build it for {interface.name} too (`pywasm-filter build --hosts "
                "envoy,wasmx` names the calls it lacks).")

    def _stub(self, name: str) -> Callable[..., int]:
        """A host function that links but traps the instance when called."""

        def trap(caller: Caller, *args: int) -> int:
            raise self._state.trap(STUB_TRAP.format(name=name))

        return trap

    # Calling the module

    def call(self, export: str, *args: int) -> int:
        """Call the callback ``export`` (``proxy_on_*``); a missing export answers 0 (where the
        profile's proxy checks exports)."""
        function = self._exports.get(export)
        if not isinstance(function, Func):
            if self._state.profile.requires_exports and export in _HTTP_STEPS:
                raise ModuleTrapError(f"the {self._state.profile.label} worker crashed "
                                      f"(SIGSEGV): the module does not export {export}")
            return 0
        return self._invoke(function, export, args)

    def _invoke(self, function: Func, export: str, args: tuple[int, ...]) -> int:
        try:
            result = function(self._store, *args)
        except ExitTrap as exited:
            raise ModuleTrapError(f"the module exited (code {exited.code}) in {export}") from None
        except (Trap, WasmtimeError) as trapped:
            raise ModuleTrapError(f"the module trapped in {export}: {trapped}") from None
        return int(result) if isinstance(result, int) else 0

    def close(self) -> None:
        """Nothing to release: the instance goes with its store."""

    # Memory

    def _guarded(self, implementation: HostFunction, signature: FuncType) -> Callable[..., int]:
        """The import: i32 arguments read as unsigned, a failing status returned as such."""
        masks = [0xFFFFFFFF if str(param) == "i32" else -1 for param in signature.params]

        def host_call(caller: Caller, *args: int) -> int:
            try:
                implementation(caller, *(arg & mask for arg, mask in zip(args, masks,
                                                                           strict=True)))
            except HostStatusError as failed:
                return int(failed.status)
            return int(Status.OK)

        return host_call

    def _read(self, caller: Caller, pointer: int, size: int) -> bytes:
        if pointer + size > self._memory.data_len(caller):
            raise HostStatusError(Status.INVALID_MEMORY_ACCESS, "read past the memory's end")
        return bytes(self._memory.read(caller, pointer, pointer + size))

    def _text(self, caller: Caller, pointer: int, size: int) -> str:
        return self._read(caller, pointer, size).decode("utf-8", "surrogateescape")

    def _write(self, caller: Caller, pointer: int, data: bytes) -> None:
        if pointer + len(data) > self._memory.data_len(caller):
            raise HostStatusError(Status.INVALID_MEMORY_ACCESS, "write past the memory's end")
        self._memory.write(caller, data, pointer)

    def _return_u32(self, caller: Caller, pointer: int, value: int) -> None:
        self._write(caller, pointer, _U32.pack(value & 0xFFFFFFFF))

    def _return_bytes(self, caller: Caller, data: bytes, data_pointer: int,
                      size_pointer: int) -> None:
        """Copy ``data`` into memory the module allocates; empty data is (0, 0), as in Envoy."""
        if not data:
            self._return_u32(caller, data_pointer, 0)
            self._return_u32(caller, size_pointer, 0)
            return
        address = self._allocate(caller, len(data))
        if not isinstance(address, int) or address == 0:
            raise HostStatusError(Status.INTERNAL_FAILURE, f"{_ALLOCATE} failed")
        self._write(caller, address, data)
        self._return_u32(caller, data_pointer, address)
        self._return_u32(caller, size_pointer, len(data))

    def _path(self, caller: Caller, pointer: int, size: int) -> list[str]:
        return self._text(caller, pointer, size).split("\0")

    # env.proxy_* imports, in the order of runtime/proxy_abi.h

    def _proxy_done(self, caller: Caller) -> None:
        self._state.done()

    def _proxy_set_effective_context(self, caller: Caller, context_id: int) -> None:
        self._state.set_effective_context(context_id)

    def _proxy_log(self, caller: Caller, level: int, pointer: int, size: int) -> None:
        self._state.log(level, self._text(caller, pointer, size))

    def _proxy_get_log_level(self, caller: Caller, result: int) -> None:
        self._return_u32(caller, result, self._state.get_log_level())

    def _proxy_get_current_time_nanoseconds(self, caller: Caller, result: int) -> None:
        self._write(caller, result, _U64.pack(self._state.get_current_time_nanoseconds()))

    def _proxy_set_tick_period_milliseconds(self, caller: Caller, period: int) -> None:
        self._state.set_tick_period_milliseconds(period)

    def _proxy_get_buffer_bytes(self, caller: Caller, buffer_type: int, start: int,
                                max_size: int, data: int, size: int) -> None:
        value = self._state.get_buffer_bytes(buffer_type, start, max_size)
        self._return_bytes(caller, value, data, size)

    def _proxy_set_buffer_bytes(self, caller: Caller, buffer_type: int, start: int, size: int,
                                data: int, data_size: int) -> None:
        value = self._read(caller, data, data_size)
        self._state.set_buffer_bytes(buffer_type, start, size, value)

    def _proxy_get_buffer_status(self, caller: Caller, buffer_type: int, size: int,
                                 flags: int) -> None:
        length, status_flags = self._state.get_buffer_status(buffer_type)
        self._return_u32(caller, size, length)
        self._return_u32(caller, flags, status_flags)

    def _proxy_get_header_map_size(self, caller: Caller, map_type: int, size: int) -> None:
        self._return_u32(caller, size, self._state.get_header_map_size(map_type))

    def _proxy_get_header_map_pairs(self, caller: Caller, map_type: int, data: int,
                                    size: int) -> None:
        pairs = self._state.get_header_map_pairs(map_type)
        self._return_bytes(caller, encode_pairs(pairs), data, size)

    def _proxy_set_header_map_pairs(self, caller: Caller, map_type: int, data: int,
                                    size: int) -> None:
        pairs = decode_pairs(self._read(caller, data, size))
        self._state.set_header_map_pairs(map_type, pairs)

    def _proxy_get_header_map_value(self, caller: Caller, map_type: int, key: int,
                                    key_size: int, data: int, size: int) -> None:
        value = self._state.get_header_map_value(map_type, self._text(caller, key, key_size))
        self._return_bytes(caller, value.encode("utf-8", "surrogateescape"), data, size)

    def _proxy_add_header_map_value(self, caller: Caller, map_type: int, key: int,
                                    key_size: int, value: int, value_size: int) -> None:
        self._state.add_header_map_value(map_type, self._text(caller, key, key_size),
                                         self._text(caller, value, value_size))

    def _proxy_replace_header_map_value(self, caller: Caller, map_type: int, key: int,
                                        key_size: int, value: int, value_size: int) -> None:
        self._state.replace_header_map_value(map_type, self._text(caller, key, key_size),
                                             self._text(caller, value, value_size))

    def _proxy_remove_header_map_value(self, caller: Caller, map_type: int, key: int,
                                       key_size: int) -> None:
        self._state.remove_header_map_value(map_type, self._text(caller, key, key_size))

    def _proxy_continue_stream(self, caller: Caller, stream_type: int) -> None:
        self._state.continue_stream(stream_type)

    def _proxy_close_stream(self, caller: Caller, stream_type: int) -> None:
        self._state.close_stream(stream_type)

    def _proxy_get_status(self, caller: Caller, code: int, data: int, size: int) -> None:
        status, message = self._state.get_status()
        self._return_u32(caller, code, status)
        self._return_bytes(caller, message, data, size)

    def _proxy_send_local_response(self, caller: Caller, status_code: int, details: int,
                                   details_size: int, body: int, body_size: int, headers: int,
                                   headers_size: int, grpc_status: int) -> None:
        self._state.send_local_response(
            status_code, self._text(caller, details, details_size),
            self._read(caller, body, body_size),
            decode_pairs(self._read(caller, headers, headers_size)),
            grpc_status - (1 << 32) if grpc_status >= 1 << 31 else grpc_status,
        )

    def _proxy_http_call(self, caller: Caller, upstream: int, upstream_size: int, headers: int,
                         headers_size: int, body: int, body_size: int, trailers: int,
                         trailers_size: int, timeout: int, token: int) -> None:
        result = self._state.http_call(
            self._text(caller, upstream, upstream_size),
            decode_pairs(self._read(caller, headers, headers_size)),
            self._read(caller, body, body_size),
            decode_pairs(self._read(caller, trailers, trailers_size)), timeout,
        )
        self._return_u32(caller, token, result)

    def _proxy_grpc_call(self, caller: Caller, upstream: int, upstream_size: int, service: int,
                         service_size: int, method: int, method_size: int, metadata: int,
                         metadata_size: int, message: int, message_size: int, timeout: int,
                         token: int) -> None:
        result = self._state.grpc_call(
            self._text(caller, upstream, upstream_size),
            self._text(caller, service, service_size), self._text(caller, method, method_size),
            decode_pairs(self._read(caller, metadata, metadata_size)),
            self._read(caller, message, message_size), timeout,
        )
        self._return_u32(caller, token, result)

    def _proxy_grpc_stream(self, caller: Caller, upstream: int, upstream_size: int,
                           service: int, service_size: int, method: int, method_size: int,
                           metadata: int, metadata_size: int, token: int) -> None:
        result = self._state.grpc_stream(
            self._text(caller, upstream, upstream_size),
            self._text(caller, service, service_size), self._text(caller, method, method_size),
            decode_pairs(self._read(caller, metadata, metadata_size)),
        )
        self._return_u32(caller, token, result)

    def _proxy_grpc_send(self, caller: Caller, token: int, message: int, size: int,
                         end_stream: int) -> None:
        self._state.grpc_send(token, self._read(caller, message, size), end_stream != 0)

    def _proxy_grpc_cancel(self, caller: Caller, token: int) -> None:
        self._state.grpc_cancel(token)

    def _proxy_grpc_close(self, caller: Caller, token: int) -> None:
        self._state.grpc_close(token)

    def _proxy_get_shared_data(self, caller: Caller, key: int, key_size: int, data: int,
                               size: int, cas: int) -> None:
        value, version = self._state.get_shared_data(self._text(caller, key, key_size))
        self._return_bytes(caller, value, data, size)
        self._return_u32(caller, cas, version)

    def _proxy_set_shared_data(self, caller: Caller, key: int, key_size: int, value: int,
                               value_size: int, cas: int) -> None:
        self._state.set_shared_data(self._text(caller, key, key_size),
                                    self._read(caller, value, value_size), cas)

    def _proxy_register_shared_queue(self, caller: Caller, name: int, name_size: int,
                                     queue_id: int) -> None:
        result = self._state.register_shared_queue(self._text(caller, name, name_size))
        self._return_u32(caller, queue_id, result)

    def _proxy_resolve_shared_queue(self, caller: Caller, vm_id: int, vm_id_size: int,
                                    name: int, name_size: int, queue_id: int) -> None:
        result = self._state.resolve_shared_queue(self._text(caller, vm_id, vm_id_size),
                                                  self._text(caller, name, name_size))
        self._return_u32(caller, queue_id, result)

    def _proxy_enqueue_shared_queue(self, caller: Caller, queue_id: int, value: int,
                                    size: int) -> None:
        self._state.enqueue_shared_queue(queue_id, self._read(caller, value, size))

    def _proxy_dequeue_shared_queue(self, caller: Caller, queue_id: int, data: int,
                                    size: int) -> None:
        self._return_bytes(caller, self._state.dequeue_shared_queue(queue_id), data, size)

    def _proxy_define_metric(self, caller: Caller, metric_type: int, name: int, name_size: int,
                             metric_id: int) -> None:
        result = self._state.define_metric(metric_type, self._text(caller, name, name_size))
        self._return_u32(caller, metric_id, result)

    def _proxy_record_metric(self, caller: Caller, metric_id: int, value: int) -> None:
        self._state.record_metric(metric_id, value)

    def _proxy_increment_metric(self, caller: Caller, metric_id: int, delta: int) -> None:
        self._state.increment_metric(metric_id, delta)

    def _proxy_get_metric(self, caller: Caller, metric_id: int, result: int) -> None:
        self._write(caller, result, _U64.pack(self._state.get_metric(metric_id)))

    def _proxy_get_property(self, caller: Caller, path: int, path_size: int, data: int,
                            size: int) -> None:
        value = self._state.get_property(self._path(caller, path, path_size))
        self._return_bytes(caller, value, data, size)

    def _proxy_set_property(self, caller: Caller, path: int, path_size: int, value: int,
                            value_size: int) -> None:
        self._state.set_property(self._path(caller, path, path_size),
                                 self._read(caller, value, value_size))

    def _proxy_call_foreign_function(self, caller: Caller, name: int, name_size: int,
                                     arguments: int, arguments_size: int, data: int,
                                     size: int) -> None:
        result = self._state.call_foreign_function(self._text(caller, name, name_size),
                                                   self._read(caller, arguments, arguments_size))
        self._return_bytes(caller, result, data, size)
