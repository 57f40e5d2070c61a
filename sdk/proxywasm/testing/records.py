"""The records a test reads from the emulator: log lines, local replies, callouts, metrics,
plugins, header lists, and how header and log text maps to the bytes on the wire."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..types import LogLevel, MetricType, Status

Pairs = list[tuple[str, str]]
PairsInput = Mapping[str, str | bytes] | Iterable[tuple[str | bytes, str | bytes]]
ForeignFunction = Callable[[bytes], bytes]

class HostStatusError(Exception):
    """A host call ends with a status other than OK (the engines turn it into that status)."""

    def __init__(self, status: Status, why: str) -> None:
        super().__init__(f"{status.name}: {why}")
        self.status = status


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
