"""Wasmtime fuel per Proxy-Wasm callback: a deterministic, noise-free cost of each module.

A minimal host answers the calls the benchmark filters make (headers, logs); every other
``env.proxy_*`` import returns NotFound. Requests are replayed as Envoy drives them for a
direct response: context create, request headers, response headers and body, done, log, delete.
The second request is measured, as under load: the first one also pays one-time costs (the
interpreter specializing the bytecode it runs for the first time).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from pathlib import Path

from wasmtime import (
    Caller,
    Config,
    Engine,
    Func,
    FuncType,
    Linker,
    Memory,
    Module,
    Store,
    WasiConfig,
)

_OK, _NOT_FOUND = 0, 1
_REQUEST_HEADERS = {":path": "/", ":method": "GET", ":authority": "bench",
                    ":scheme": "http", "user-agent": "wrk"}
ROOT_ID, WARM_UP_ID, STREAM_ID = 1, 2, 3


def request(stream_id: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """One request as Envoy replays it: (callback, arguments)."""
    return (
        ("proxy_on_context_create", (stream_id, ROOT_ID)),
        ("proxy_on_request_headers", (stream_id, len(_REQUEST_HEADERS), 1)),
        ("proxy_on_response_headers", (stream_id, 3, 0)),
        ("proxy_on_response_body", (stream_id, 3, 1)),
        ("proxy_on_done", (stream_id,)),
        ("proxy_on_log", (stream_id,)),
        ("proxy_on_delete", (stream_id,)),
    )


_START: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("proxy_on_context_create", (ROOT_ID, 0)),
    ("proxy_on_vm_start", (ROOT_ID, 0)),
    ("proxy_on_configure", (ROOT_ID, 0)),
)


class _Host:
    """The host side: guest memory access and the few imports the filters use."""

    def _memory(self, caller: Caller) -> Memory:
        memory = caller.get("memory")
        assert isinstance(memory, Memory)
        return memory

    def _read(self, caller: Caller, pointer: int, size: int) -> bytes:
        return bytes(self._memory(caller).read(caller, pointer, pointer + size))

    def _give(self, caller: Caller, value: bytes, pointer_out: int, size_out: int) -> int:
        """Copy ``value`` into guest memory allocated by the guest; write its address and size."""
        allocate = caller.get("proxy_on_memory_allocate")
        assert isinstance(allocate, Func)
        address = allocate(caller, len(value))
        assert isinstance(address, int)
        memory = self._memory(caller)
        memory.write(caller, value, address)
        memory.write(caller, struct.pack("<I", address), pointer_out)
        memory.write(caller, struct.pack("<I", len(value)), size_out)
        return _OK

    def get_header_map_value(self, caller: Caller, map_type: int, key: int, key_size: int,
                             value_out: int, size_out: int) -> int:
        name = self._read(caller, key, key_size).decode()
        value = _REQUEST_HEADERS.get(name) if map_type == 0 else None
        if value is None:
            return _NOT_FOUND
        return self._give(caller, value.encode(), value_out, size_out)

    def get_log_level(self, caller: Caller, level_out: int) -> int:
        self._memory(caller).write(caller, struct.pack("<I", 2), level_out)
        return _OK

    def get_current_time(self, caller: Caller, out: int) -> int:
        self._memory(caller).write(caller, struct.pack("<Q", 0), out)
        return _OK

    def handler(self, name: str) -> Callable[..., int]:
        """The Python function behind import ``env.name``."""
        known: dict[str, Callable[..., int]] = {
            "proxy_get_header_map_value": self.get_header_map_value,
            "proxy_get_log_level": self.get_log_level,
            "proxy_get_current_time_nanoseconds": self.get_current_time,
        }
        if name in known:
            return known[name]
        if name in ("proxy_log", "proxy_replace_header_map_value", "proxy_add_header_map_value",
                    "proxy_set_tick_period_milliseconds", "proxy_set_effective_context"):
            return lambda caller, *args: _OK
        return _not_found


def _discarding(handler: Callable[..., int]) -> Callable[..., None]:
    """The handler for an import declared without a result."""

    def call(caller: Caller, *args: int) -> None:
        handler(caller, *args)

    return call


def _not_found(caller: Caller, *args: int) -> int:
    return _NOT_FOUND


def instantiate(module_path: Path) -> tuple[Store, Mapping[str, object]]:
    """An instance of ``module_path`` against the minimal host, started as Envoy starts a VM.

    Fuel is on (and plentiful): read ``store.get_fuel()`` around calls to measure them.
    """
    config = Config()
    config.consume_fuel = True
    engine = Engine(config)
    store = Store(engine)
    module = Module.from_file(engine, str(module_path))
    store.set_fuel(10**15)
    return store, start(store, module)


def start(store: Store, module: Module) -> Mapping[str, object]:
    """Instantiate ``module`` in ``store`` against the minimal host, run ``_initialize`` and
    start the root context as Envoy starts a VM; the instance's exports."""
    store.set_wasi(WasiConfig())
    linker = Linker(store.engine)
    linker.define_wasi()
    host = _Host()
    for entry in module.imports:
        if entry.name is None or entry.module == "wasi_snapshot_preview1":
            continue
        if not isinstance(entry.type, FuncType):
            raise ValueError(f"unexpected import {entry.module}.{entry.name}")
        handler = host.handler(entry.name)
        linker.define_func(entry.module, entry.name, entry.type,
                           handler if entry.type.results else _discarding(handler),
                           access_caller=True)
    instance = linker.instantiate(store, module)
    exports = dict(instance.exports(store))
    initialize = exports.get("_initialize")
    if isinstance(initialize, Func):
        initialize(store)
    for name, args in _START:
        _call(store, exports.get(name), *args)
    return exports


def fuel_per_callback(module_path: Path) -> dict[str, int]:
    """Fuel each callback of one request costs in ``module_path`` (after a warm-up request)."""
    store, exports = instantiate(module_path)
    for name, args in request(WARM_UP_ID):
        _call(store, exports.get(name), *args)
    costs: dict[str, int] = {}
    for name, args in request(STREAM_ID):
        before = store.get_fuel()
        _call(store, exports.get(name), *args)
        costs[name.removeprefix("proxy_on_")] = before - store.get_fuel()
    costs["total"] = sum(costs.values())
    return costs


def _call(store: Store, function: object, *args: int) -> None:
    if isinstance(function, Func):
        function(store, *args)
