"""A fake ``_proxywasm`` for the SDK's unit tests: records calls and keeps maps and buffers.

Bind it with ``proxywasm._host.bind(FakeHost())``; ``installed()`` also resets the SDK's global
state afterwards. Host calls listed in ``fail`` raise through the SDK's error factory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from proxywasm import _contexts, _host, _log, _runtime, _targets
from proxywasm.types import LogLevel

Pair = tuple[str, str | bytes]


class FakeHost:
    """Stands in for the C module; every method has the ``_proxywasm`` signature."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.logs: list[tuple[int, str]] = []
        self.maps: dict[int, list[Pair]] = {kind: [] for kind in range(8)}
        self.buffers: dict[int, bytes] = {}
        self.shared: dict[str, tuple[bytes, int]] = {}
        self.properties: dict[tuple[str, ...], bytes] = {}
        self.queues: dict[int, list[bytes]] = {}
        self.metrics: dict[int, int] = {}
        self.fail: dict[str, int] = {}
        self.level = int(LogLevel.TRACE)
        self.nanoseconds = 0
        self.status: tuple[int, bytes] = (0, b"")
        self.next_token = 1
        self.factory: Callable[[int, str], BaseException] | None = None

    def _call(self, name: str, *args: object) -> None:
        self.calls.append((name, args))
        if name in self.fail:
            assert self.factory is not None
            raise self.factory(self.fail[name], "proxy_" + name)

    def called(self, name: str) -> list[tuple[object, ...]]:
        """Return the arguments of every call of host function ``name``."""
        return [args for called, args in self.calls if called == name]

    def _token(self) -> int:
        token, self.next_token = self.next_token, self.next_token + 1
        return token

    def set_error_factory(self, factory: Callable[[int, str], BaseException], /) -> None:
        self.factory = factory

    def log(self, level: int, message: str, /) -> None:
        self._call("log", level, message)
        self.logs.append((int(level), message))

    def get_log_level(self) -> int:
        self._call("get_log_level")
        return self.level

    def get_current_time_nanoseconds(self) -> int:
        return self.nanoseconds

    def set_tick_period_milliseconds(self, period: int, /) -> None:
        self._call("set_tick_period_milliseconds", period)

    def done(self) -> None:
        self._call("done")

    def set_effective_context(self, context_id: int, /) -> None:
        self._call("set_effective_context", context_id)

    def set_inherited_callbacks(self, context_id: int, inherited: int, /) -> None:
        self._call("set_inherited_callbacks", context_id, inherited)

    def get_buffer_bytes(self, buffer_type: int, start: int, max_size: int, /) -> bytes | None:
        self._call("get_buffer_bytes", buffer_type, start, max_size)
        data = self.buffers.get(buffer_type)
        return None if data is None else data[start : start + max_size]

    def set_buffer_bytes(self, buffer_type: int, start: int, size: int, value: bytes, /) -> None:
        self._call("set_buffer_bytes", buffer_type, start, size, value)
        data = self.buffers.get(buffer_type, b"")
        self.buffers[buffer_type] = data[:start] + value + data[start + size :]

    def get_buffer_status(self, buffer_type: int, /) -> tuple[int, int]:
        return len(self.buffers.get(buffer_type, b"")), 0

    def get_header_map_size(self, map_type: int, /) -> int:
        return len(self.maps[map_type])

    def get_header_map_pairs(self, map_type: int, /) -> list[tuple[str, str]]:
        return [(k, v if isinstance(v, str) else v.decode()) for k, v in self.maps[map_type]]

    def get_header_map_pairs_bytes(self, map_type: int, /) -> list[tuple[str, bytes]]:
        return [(k, v.encode() if isinstance(v, str) else v) for k, v in self.maps[map_type]]

    def set_header_map_pairs(self, map_type: int, pairs: Sequence[Pair], /) -> None:
        self._call("set_header_map_pairs", map_type, pairs)
        self.maps[map_type] = list(pairs)

    def get_header_map_value(self, map_type: int, key: str, /) -> str | None:
        value = self.get_header_map_value_bytes(map_type, key)
        return None if value is None else value.decode()

    def get_header_map_value_bytes(self, map_type: int, key: str, /) -> bytes | None:
        for name, value in self.get_header_map_pairs_bytes(map_type):
            if name == key:
                return value
        return None

    def add_header_map_value(self, map_type: int, key: str, value: str | bytes, /) -> None:
        self._call("add_header_map_value", map_type, key, value)
        self.maps[map_type].append((key, value))

    def replace_header_map_value(self, map_type: int, key: str, value: str | bytes, /) -> None:
        self._call("replace_header_map_value", map_type, key, value)
        self.maps[map_type] = [p for p in self.maps[map_type] if p[0] != key] + [(key, value)]

    def remove_header_map_value(self, map_type: int, key: str, /) -> None:
        self._call("remove_header_map_value", map_type, key)
        self.maps[map_type] = [p for p in self.maps[map_type] if p[0] != key]

    def continue_stream(self, stream_type: int, /) -> None:
        self._call("continue_stream", stream_type)

    def close_stream(self, stream_type: int, /) -> None:
        self._call("close_stream", stream_type)

    def get_status(self) -> tuple[int, bytes]:
        return self.status

    def send_local_response(
        self, status_code: int, details: str, body: bytes, headers: Sequence[Pair], grpc: int, /
    ) -> None:
        self._call("send_local_response", status_code, details, body, list(headers), grpc)

    def http_call(
        self,
        upstream: str,
        headers: Sequence[Pair],
        body: bytes,
        trailers: Sequence[Pair],
        timeout_ms: int,
        /,
    ) -> int:
        self._call("http_call", upstream, list(headers), body, list(trailers), timeout_ms)
        return self._token()

    def grpc_call(
        self,
        upstream: str,
        service: str,
        method: str,
        initial_metadata: Sequence[Pair],
        message: bytes,
        timeout_ms: int,
        /,
    ) -> int:
        self._call("grpc_call", upstream, service, method, message, timeout_ms)
        return self._token()

    def grpc_stream(
        self, upstream: str, service: str, method: str, initial_metadata: Sequence[Pair], /
    ) -> int:
        self._call("grpc_stream", upstream, service, method)
        return self._token()

    def grpc_send(self, token: int, message: bytes, end_stream: bool, /) -> None:
        self._call("grpc_send", token, message, end_stream)

    def grpc_cancel(self, token: int, /) -> None:
        self._call("grpc_cancel", token)

    def grpc_close(self, token: int, /) -> None:
        self._call("grpc_close", token)

    def get_shared_data(self, key: str, /) -> tuple[bytes | None, int]:
        value, cas = self.shared.get(key, (None, 0))
        return value, cas

    def set_shared_data(self, key: str, value: bytes | None, cas: int, /) -> None:
        self._call("set_shared_data", key, value, cas)
        current = self.shared.get(key, (b"", 0))[1]
        if cas and cas != current:
            assert self.factory is not None
            raise self.factory(8, "proxy_set_shared_data")
        self.shared[key] = (value or b"", current + 1)

    def register_shared_queue(self, name: str, /) -> int:
        queue_id = len(self.queues) + 1
        self.queues[queue_id] = []
        return queue_id

    def resolve_shared_queue(self, vm_id: str, name: str, /) -> int | None:
        return None

    def enqueue_shared_queue(self, queue_id: int, value: bytes, /) -> None:
        self.queues[queue_id].append(value)

    def dequeue_shared_queue(self, queue_id: int, /) -> bytes | None:
        queue = self.queues[queue_id]
        return queue.pop(0) if queue else None

    def define_metric(self, metric_type: int, name: str, /) -> int:
        self._call("define_metric", metric_type, name)
        metric_id = len(self.metrics) + 1
        self.metrics[metric_id] = 0
        return metric_id

    def record_metric(self, metric_id: int, value: int, /) -> None:
        self.metrics[metric_id] = value

    def increment_metric(self, metric_id: int, delta: int, /) -> None:
        self.metrics[metric_id] += delta

    def get_metric(self, metric_id: int, /) -> int:
        return self.metrics[metric_id]

    def get_property(self, path: Sequence[str], /) -> bytes | None:
        return self.properties.get(tuple(path))

    def set_property(self, path: Sequence[str], value: bytes, /) -> None:
        self.properties[tuple(path)] = value

    def call_foreign_function(self, name: str, arguments: bytes, /) -> bytes | None:
        self._call("call_foreign_function", name, arguments)
        return arguments[::-1]


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
