"""Typed host properties (Envoy's attributes): ``properties.source_port()`` is an ``int``,
``properties.request_time()`` a UTC ``datetime``, ``properties.request_headers()`` a dict.

Envoy answers a property in its binary form (an integer, timestamp or duration is 8 bytes,
little-endian: nanoseconds for the last two; a boolean one byte; a map Envoy's pairs, as header
maps); Nginx WasmX answers it as text (``"8080"``, ``"true"``, ``"1700000000.123"`` seconds).
The decoders tell the two apart by the value itself, not by the build's target hosts (a module
built for every host cannot know which one runs it), so one module reads both: text is
ASCII digits (with ``-`` or ``.``), and Envoy's 8 bytes of any integer below 3.2e18 (a
timestamp before 2072) hold a byte that no such text does. A value that is neither raises
``PropertyDecodeError``; an absent or empty one is ``None`` (a string may be empty).

A path is ``"source.port"`` or, for segments that contain dots (metadata filter names),
``["xds", "node", "metadata", "ssl.version"]``. Functions name the well-known attributes;
``get_int``/``get_string``/... read any other path with a type; ``hostcalls.get_property``
gives the raw bytes. ``datetime`` is imported only when a time or duration is read. This module
costs a filter nothing unless it imports it.
"""

from __future__ import annotations

from . import hostcalls

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta
    from typing import TypeAlias

    PropertyPath: TypeAlias = "str | Sequence[str]"
    """A property path: dotted text, or its segments."""

_INTEGER_SIZE = 8
_TEXT_NUMBER = frozenset(b"0123456789-.")
_TEXT_FLOAT = _TEXT_NUMBER | frozenset(b"+eE")
_NANOSECONDS = 1_000_000_000


class PropertyDecodeError(ValueError):
    """A property's bytes are in neither Envoy's binary form nor WasmX's text for its type."""


# Decoders: bytes as the host answers them -> Python values. ``path`` only names the property
# in an error's message.


def _segments(path: PropertyPath) -> Sequence[str]:
    return path.split(".") if isinstance(path, str) else path


def _error(value: bytes, path: PropertyPath, why: str) -> PropertyDecodeError:
    name = ".".join(_segments(path)) if path else "property value"
    return PropertyDecodeError(f"{name} {value[:40]!r}: {why}")


def _is_text_number(value: bytes) -> bool:
    return bool(value) and _TEXT_NUMBER.issuperset(value)


def _envoy_integer(value: bytes, path: PropertyPath, kind: str) -> int:
    if len(value) != _INTEGER_SIZE:
        raise _error(value, path, f"no {kind}: Envoy sends 8 little-endian bytes, WasmX "
                     "decimal text; hostcalls.get_property gives the raw bytes")
    return int.from_bytes(value, "little", signed=True)


def decode_int(value: bytes, path: PropertyPath = ()) -> int:
    """An integer from Envoy's 8 little-endian bytes or WasmX's decimal text."""
    if _is_text_number(value):
        try:
            return int(value)
        except ValueError:
            raise _error(value, path, "no integer") from None
    return _envoy_integer(value, path, "integer")


def decode_float(value: bytes, path: PropertyPath = ()) -> float:
    """A number from Envoy's 8-byte IEEE double or decimal text (``1.5``, ``1e+16``)."""
    if value and _TEXT_FLOAT.issuperset(value):
        try:
            return float(value)
        except ValueError:
            raise _error(value, path, "no number") from None
    _envoy_integer(value, path, "number")
    return float(memoryview(value).cast("d")[0])


def decode_bool(value: bytes, path: PropertyPath = ()) -> bool:
    """A boolean from Envoy's one byte (0 or 1) or WasmX's ``true``/``false``."""
    if value in (b"\x01", b"true"):
        return True
    if value in (b"\x00", b"false"):
        return False
    raise _error(value, path, "no boolean: Envoy sends one byte 0 or 1, WasmX true or false")


def _nanoseconds(value: bytes, path: PropertyPath, kind: str) -> int:
    """Envoy's int64 nanoseconds, or WasmX's seconds with a fraction, as nanoseconds."""
    if not _is_text_number(value):
        return _envoy_integer(value, path, kind)
    whole, _, fraction = value.partition(b".")
    digits = whole.removeprefix(b"-")
    if not digits.isdigit() or not (fraction.isdigit() or fraction == b""):
        raise _error(value, path, f"no {kind}: WasmX sends seconds like 1700000000.123")
    try:
        nanos = int(digits) * _NANOSECONDS + int(fraction[:9].ljust(9, b"0"))
    except ValueError:
        raise _error(value, path, f"too many digits for a {kind}") from None
    return -nanos if whole.startswith(b"-") else nanos


def decode_time(value: bytes, path: PropertyPath = ()) -> datetime:
    """A UTC time from Envoy's nanoseconds since 1970 or WasmX's seconds (``1700000000.123``)."""
    nanos = _nanoseconds(value, path, "time")
    try:
        return hostcalls.datetime_from_ns(nanos)
    except OverflowError:
        raise _error(value, path, "a time out of datetime's range") from None


def decode_duration(value: bytes, path: PropertyPath = ()) -> timedelta:
    """A duration from Envoy's nanoseconds or WasmX's seconds (``0.012``)."""
    from datetime import timedelta

    nanos = _nanoseconds(value, path, "duration")
    try:
        return timedelta(microseconds=nanos // 1000)
    except OverflowError:
        raise _error(value, path, "a duration out of timedelta's range") from None


def decode_string(value: bytes) -> str:
    """Text as the host sent it (bytes that are not UTF-8 kept as surrogates, as headers)."""
    return value.decode("utf-8", "surrogateescape")


def decode_bytes_map(value: bytes, path: PropertyPath = ()) -> dict[str, bytes]:
    """A map in Envoy's pairs form (a count, the sizes, then each NUL-ended key and value):
    each value stays in its own encoding (a string's text, a number's 8 bytes, a nested map's
    pairs); a key given twice keeps its values joined by ``,``, as HTTP headers combine."""
    if len(value) < 4:
        raise _error(value, path, "no map: shorter than the 4-byte count of Envoy's pairs")
    count = int.from_bytes(value[:4], "little")
    position = 4 + 8 * count
    if position > len(value):
        raise _error(value, path, f"no map: too short for the sizes of {count} pairs")
    result: dict[str, bytes] = {}
    for index in range(count):
        sizes = value[4 + 8 * index:12 + 8 * index]
        key_end = position + int.from_bytes(sizes[:4], "little")
        end = key_end + int.from_bytes(sizes[4:], "little") + 2
        if end > len(value) or value[key_end] or value[end - 1]:
            raise _error(value, path, f"no map: pair {index} overruns it or lacks a NUL end")
        key, item = decode_string(value[position:key_end]), value[key_end + 1:end - 1]
        result[key] = result[key] + b"," + item if key in result else item
        position = end
    if position != len(value):
        raise _error(value, path, f"no map: {len(value) - position} bytes follow the pairs")
    return result


def decode_string_map(value: bytes, path: PropertyPath = ()) -> dict[str, str]:
    """A map of strings (request or response headers) in Envoy's pairs form."""
    return {key: decode_string(item) for key, item in decode_bytes_map(value, path).items()}


# Reading a path with a type (the decoders are called by name, so that the build sees that
# only the time and duration readers import datetime)


def _nonempty(path: PropertyPath) -> bytes | None:
    """The property's bytes, or None when the host has none or an empty one."""
    return hostcalls.get_property(_segments(path)) or None


def get_string(path: PropertyPath) -> str | None:
    """The property at ``path`` as text, or None if the host has none."""
    value = hostcalls.get_property(_segments(path))
    return None if value is None else decode_string(value)


def get_int(path: PropertyPath) -> int | None:
    """The property at ``path`` as an integer (``decode_int``), or None."""
    value = _nonempty(path)
    return None if value is None else decode_int(value, path)


def get_float(path: PropertyPath) -> float | None:
    """The property at ``path`` as a number (e.g. a metadata number), or None."""
    value = _nonempty(path)
    return None if value is None else decode_float(value, path)


def get_bool(path: PropertyPath) -> bool | None:
    """The property at ``path`` as a boolean (``decode_bool``), or None."""
    value = _nonempty(path)
    return None if value is None else decode_bool(value, path)


def get_time(path: PropertyPath) -> datetime | None:
    """The property at ``path`` as an aware UTC datetime, or None."""
    value = _nonempty(path)
    return None if value is None else decode_time(value, path)


def get_duration(path: PropertyPath) -> timedelta | None:
    """The property at ``path`` as a timedelta, or None."""
    value = _nonempty(path)
    return None if value is None else decode_duration(value, path)


def get_string_map(path: PropertyPath) -> dict[str, str] | None:
    """The map property at ``path`` (Envoy only: WasmX serves no maps) as text, or None."""
    value = _nonempty(path)
    return None if value is None else decode_string_map(value, path)


def get_bytes_map(path: PropertyPath) -> dict[str, bytes] | None:
    """The map property at ``path`` with each value in its own encoding, or None."""
    value = _nonempty(path)
    return None if value is None else decode_bytes_map(value, path)


def ip_of(address: str) -> str:
    """The IP of an address as either host gives it: Envoy's ``127.0.0.1:5000`` and
    ``[::1]:5000``, WasmX's ``127.0.0.1`` and ``::1``."""
    if address.startswith("["):
        return address[1:].partition("]")[0]
    return address.rpartition(":")[0] if address.count(":") == 1 else address


# The well-known attributes


def request_path() -> str | None:
    """The request's path with its query (``request.path``)."""
    return get_string("request.path")


def request_url_path() -> str | None:
    """The request's path without its query (``request.url_path``)."""
    return get_string("request.url_path")


def request_host() -> str | None:
    """The request's host (``request.host``; WasmX gives nginx's host name)."""
    return get_string("request.host")


def request_method() -> str | None:
    """The request's method (``request.method``)."""
    return get_string("request.method")


def request_scheme() -> str | None:
    """The request's scheme (``request.scheme``)."""
    return get_string("request.scheme")


def request_protocol() -> str | None:
    """The request's protocol, e.g. ``HTTP/1.1`` (``request.protocol``)."""
    return get_string("request.protocol")


def request_id() -> str | None:
    """The request's ``x-request-id`` (``request.id``)."""
    return get_string("request.id")


def request_headers() -> dict[str, str] | None:
    """All request headers (``request.headers``; Envoy only: WasmX serves one header by
    name, ``get_string(["request", "headers", name])``)."""
    return get_string_map("request.headers")


def request_time() -> datetime | None:
    """When the request's first byte arrived, UTC (``request.time``)."""
    return get_time("request.time")


def request_duration() -> timedelta | None:
    """How long the request took (``request.duration``; known once it is complete, on_log)."""
    return get_duration("request.duration")


def request_size() -> int | None:
    """The request body's size (``request.size``)."""
    return get_int("request.size")


def request_total_size() -> int | None:
    """The request's size with its headers (``request.total_size``)."""
    return get_int("request.total_size")


def response_code() -> int | None:
    """The response's status code (``response.code``)."""
    return get_int("response.code")


def response_code_details() -> str | None:
    """Why the response has its code, e.g. ``via_upstream`` (``response.code_details``;
    Envoy only)."""
    return get_string("response.code_details")


def response_size() -> int | None:
    """The response body's size (``response.size``)."""
    return get_int("response.size")


def response_total_size() -> int | None:
    """The response's size with its headers (``response.total_size``)."""
    return get_int("response.total_size")


def response_headers() -> dict[str, str] | None:
    """All response headers (``response.headers``; Envoy only)."""
    return get_string_map("response.headers")


def source_address() -> str | None:
    """The client's address (``source.address``: Envoy ``ip:port``, WasmX ``ip``)."""
    return get_string("source.address")


def source_ip() -> str | None:
    """The client's IP, without the port Envoy adds (``ip_of(source_address())``)."""
    address = source_address()
    return None if address is None else ip_of(address)


def source_port() -> int | None:
    """The client's port (``source.port``)."""
    return get_int("source.port")


def destination_address() -> str | None:
    """The address the client connected to (``destination.address``)."""
    return get_string("destination.address")


def destination_port() -> int | None:
    """The port the client connected to: the listener's (``destination.port``)."""
    return get_int("destination.port")


def connection_id() -> int | None:
    """The downstream connection's id (``connection.id``)."""
    return get_int("connection.id")


def connection_mtls() -> bool | None:
    """Whether the client presented a verified certificate (``connection.mtls``)."""
    return get_bool("connection.mtls")


def connection_tls_version() -> str | None:
    """The client connection's TLS version, e.g. ``TLSv1.3``; None over plain TCP."""
    return get_string("connection.tls_version")


def connection_requested_server_name() -> str | None:
    """The SNI the client asked for (``connection.requested_server_name``)."""
    return get_string("connection.requested_server_name")


def upstream_address() -> str | None:
    """The upstream host's address (``upstream.address``; once the request is routed)."""
    return get_string("upstream.address")


def upstream_port() -> int | None:
    """The upstream host's port (``upstream.port``)."""
    return get_int("upstream.port")


def plugin_name() -> str | None:
    """The plugin's name in the proxy's configuration (``plugin_name``)."""
    return get_string("plugin_name")


def plugin_root_id() -> str | None:
    """The plugin's root id (``plugin_root_id``; WasmX gives its root context's number)."""
    return get_string("plugin_root_id")


def plugin_vm_id() -> str | None:
    """The VM's id (``plugin_vm_id``; Envoy only)."""
    return get_string("plugin_vm_id")


def node_id() -> str | None:
    """Envoy's node id from its bootstrap (``xds.node.id``; WasmX has no node)."""
    return get_string("xds.node.id")


def node_cluster() -> str | None:
    """Envoy's node cluster (``xds.node.cluster``)."""
    return get_string("xds.node.cluster")


def node_metadata() -> dict[str, bytes] | None:
    """Envoy's node metadata (``xds.node.metadata``), each value in its own encoding; read one
    key typed with e.g. ``get_bool(["xds", "node", "metadata", key])``."""
    return get_bytes_map("xds.node.metadata")


def route_name() -> str | None:
    """The name of the route the request matched (``xds.route_name``)."""
    return get_string("xds.route_name")


def cluster_name() -> str | None:
    """The upstream cluster's name (``xds.cluster_name``; once the request is routed)."""
    return get_string("xds.cluster_name")
