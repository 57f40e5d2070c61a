"""Property values as each emulated proxy answers them: Envoy's binary forms, WasmX's text.

A test gives a property typed (``properties={"source.port": 5000, "request.time": when}``) and
the emulator encodes it the way the profile's proxy does, so that a filter's decoding is tested
against the bytes it will see: Envoy sends integers, timestamps and durations (nanoseconds) as
8 little-endian bytes, booleans as one byte, numbers as IEEE doubles and maps as pairs; WasmX
sends text (``5000``, ``true``, seconds as ``1700000000.123``) and serves no maps.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from .profiles import HostProfile, UnsupportedByHostError
from .records import wire_bytes

PropertyValue: TypeAlias = (
    bytes | str | bool | int | float | datetime | timedelta | Mapping[str, "PropertyValue"])
"""What a test may give as a property's value (a Mapping is a map, e.g. node metadata)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _nanoseconds(period: timedelta) -> int:
    return period // timedelta(microseconds=1) * 1000


def _seconds_text(nanoseconds: int) -> bytes:
    """Seconds with milliseconds, as nginx writes ``request.time`` and ``request.duration``."""
    sign = "-" if nanoseconds < 0 else ""
    milliseconds = abs(nanoseconds) // 1_000_000
    return f"{sign}{milliseconds // 1000}.{milliseconds % 1000:03d}".encode()


def envoy_pairs(pairs: Sequence[tuple[str, bytes]]) -> bytes:
    """Envoy's map form: a count, each pair's sizes, then each NUL-ended key and value."""
    encoded = [(wire_bytes(key), value) for key, value in pairs]
    sizes = b"".join(struct.pack("<II", len(key), len(value)) for key, value in encoded)
    return (struct.pack("<I", len(encoded)) + sizes
            + b"".join(key + b"\0" + value + b"\0" for key, value in encoded))


def _envoy(value: PropertyValue) -> bytes:
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        return value.to_bytes(8, "little", signed=True)
    if isinstance(value, float):
        return struct.pack("<d", value)
    if isinstance(value, datetime):
        return _nanoseconds(value - _EPOCH).to_bytes(8, "little", signed=True)
    if isinstance(value, timedelta):
        return _nanoseconds(value).to_bytes(8, "little", signed=True)
    if isinstance(value, Mapping):
        return envoy_pairs([(key, _envoy(item)) for key, item in value.items()])
    return wire_bytes(value) if isinstance(value, str) else bytes(value)


def _wasmx(value: PropertyValue) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int | float):
        return str(value).encode()
    if isinstance(value, datetime):
        return _seconds_text(_nanoseconds(value - _EPOCH))
    if isinstance(value, timedelta):
        return _seconds_text(_nanoseconds(value))
    if isinstance(value, Mapping):
        raise UnsupportedByHostError(
            "Nginx WasmX serves no map property (it has no node metadata, and serves headers "
            "one by one as request.headers.<name>): give this property to the Envoy profile "
            "only, or give its entries as separate string properties")
    return wire_bytes(value) if isinstance(value, str) else bytes(value)


def encode_property(value: PropertyValue, profile: HostProfile) -> bytes:
    """``value`` as the profile's proxy answers proxy_get_property (bytes are kept as given)."""
    return _wasmx(value) if profile.string_properties else _envoy(value)


def encoded_properties(path: str | Sequence[str], value: PropertyValue,
                       profile: HostProfile) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """The property at ``path`` (dotted, or its segments) encoded for the profile's proxy and,
    for a map, each entry under its own path, as Envoy serves ``xds.node.metadata.admin`` from
    the map ``xds.node.metadata``."""
    key = tuple(path.split(".")) if isinstance(path, str) else tuple(path)
    yield key, encode_property(value, profile)
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from encoded_properties((*key, name), item, profile)
