"""proxywasm.properties: decoding what each proxy answers (Envoy's binary forms, WasmX's text,
encoded here as the emulator's profiles do), bytes of any shape, and what the build links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxywasm import properties
from proxywasm.properties import PropertyDecodeError
from proxywasm.testing import ENVOY, HostProfile, wasmx
from proxywasm.testing.attributes import encode_property, envoy_pairs
from pywasm_filter import linking
from pywasm_filter.wasm import packed
from tests.conftest import EXAMPLES

PROFILES = [ENVOY, wasmx()]
DECODERS: list[Callable[..., Any]] = [
    properties.decode_int, properties.decode_float, properties.decode_bool,
    properties.decode_time, properties.decode_duration, properties.decode_bytes_map,
    properties.decode_string_map,
]
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
# Envoy's 8 bytes of these are told from text by the value alone (module docstring)
UNAMBIGUOUS = st.integers(min_value=-(2**63), max_value=3 * 10**18)
TIMES = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2070, 1, 1),
                     timezones=st.just(UTC))
WHOLE_MILLISECONDS = st.integers(min_value=0, max_value=10**12).map(
    lambda ms: timedelta(milliseconds=ms))


@pytest.mark.parametrize("decode", DECODERS, ids=lambda decode: decode.__name__)
@given(value=st.binary(max_size=64))
def test_any_bytes_decode_or_fail_clearly(decode: Callable[..., Any], value: bytes) -> None:
    try:
        decode(value, "some.property")
    except PropertyDecodeError as error:
        assert str(error).startswith("some.property ")


@given(number=UNAMBIGUOUS, profile=st.sampled_from(PROFILES))
def test_integers_read_back_from_either_proxy(number: int, profile: HostProfile) -> None:
    assert properties.decode_int(encode_property(number, profile)) == number


@given(number=INT64)
def test_envoy_integers_of_any_size_read_back(number: int) -> None:
    encoded = encode_property(number, ENVOY)
    assert properties.decode_int(encoded) == number or properties._is_text_number(encoded)


@given(flag=st.booleans(), profile=st.sampled_from(PROFILES))
def test_booleans_read_back(flag: bool, profile: HostProfile) -> None:
    assert properties.decode_bool(encode_property(flag, profile)) is flag


@given(number=st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_numbers_read_back_from_envoy_doubles_and_text(number: float) -> None:
    assert properties.decode_float(encode_property(number, wasmx())) == number
    encoded = encode_property(number, ENVOY)
    assert properties.decode_float(encoded) == number or encoded.isascii()


@given(when=TIMES)
def test_envoy_times_read_back_to_the_microsecond(when: datetime) -> None:
    assert properties.decode_time(encode_property(when, ENVOY)) == when


@given(when=TIMES)
def test_wasmx_times_read_back_to_the_millisecond(when: datetime) -> None:
    decoded = properties.decode_time(encode_property(when, wasmx()))
    assert decoded == when.replace(microsecond=when.microsecond // 1000 * 1000)


@given(period=WHOLE_MILLISECONDS, profile=st.sampled_from(PROFILES))
def test_durations_read_back(period: timedelta, profile: HostProfile) -> None:
    assert properties.decode_duration(encode_property(period, profile)) == period


@given(pairs=st.dictionaries(st.text(), st.binary()))
def test_envoy_maps_read_back(pairs: dict[str, bytes]) -> None:
    assert properties.decode_bytes_map(envoy_pairs(list(pairs.items()))) == pairs


def test_a_repeated_map_key_joins_its_values() -> None:
    encoded = envoy_pairs([("accept", b"a/b"), ("accept", b"c/d")])
    assert properties.decode_string_map(encoded) == {"accept": "a/b,c/d"}


# xds.node.metadata as Envoy 1.40 answered it for the bootstrap metadata {nested: {k: v},
# b: true, n: 3, list: [x, y], team: payments}: a list is pairs with empty values.
ENVOY_1_40_NODE_METADATA = (
    b"\x05\x00\x00\x00\x06\x00\x00\x00\x10\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00"
    b"\x01\x00\x00\x00\x08\x00\x00\x00\x04\x00\x00\x00\x1a\x00\x00\x00\x04\x00\x00\x00"
    b"\x08\x00\x00\x00nested\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00k\x00v\x00"
    b"\x00b\x00\x01\x00n\x00\x00\x00\x00\x00\x00\x00\x08@\x00list\x00\x02\x00\x00\x00"
    b"\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00x\x00\x00y\x00\x00"
    b"\x00team\x00payments\x00")


def test_envoys_own_node_metadata_decodes() -> None:
    metadata = properties.decode_bytes_map(ENVOY_1_40_NODE_METADATA)
    assert properties.decode_string(metadata["team"]) == "payments"
    assert properties.decode_bool(metadata["b"]) is True
    assert properties.decode_float(metadata["n"]) == 3.0
    assert properties.decode_string_map(metadata["nested"]) == {"k": "v"}
    assert list(properties.decode_bytes_map(metadata["list"])) == ["x", "y"]


def test_envoy_node_metadata_keeps_each_value_typed() -> None:
    metadata = encode_property({"admin": True, "weight": 3.0, "team": "payments"}, ENVOY)
    decoded = properties.decode_bytes_map(metadata)
    assert properties.decode_bool(decoded["admin"]) is True
    assert properties.decode_float(decoded["weight"]) == 3.0
    assert properties.decode_string(decoded["team"]) == "payments"


@pytest.mark.parametrize(("value", "message"), [
    (b"\x01\x02\x03", "source.port b'\\x01\\x02\\x03': no integer: Envoy sends 8 little-endian"),
    (b"12.5", "source.port b'12.5': no integer"),
])
def test_an_undecodable_integer_names_the_property(value: bytes, message: str) -> None:
    with pytest.raises(PropertyDecodeError) as raised:
        properties.decode_int(value, ["source", "port"])
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(("address", "ip"), [
    ("127.0.0.1:5000", "127.0.0.1"), ("[::1]:5000", "::1"), ("127.0.0.1", "127.0.0.1"),
    ("::1", "::1"),
])
def test_the_ip_of_either_proxys_address(address: str, ip: str) -> None:
    assert properties.ip_of(address) == ip


@pytest.mark.parametrize(("use", "imports"), [
    ("properties.request_time()", {"datetime"}), ("properties.request_duration()", {"datetime"}),
    ("properties.source_port()", set()), ("properties.request_headers()", set()),
])
def test_only_time_readers_make_the_build_carry_datetime(tmp_path: Path, use: str,
                                                         imports: set[str]) -> None:
    filter_path = tmp_path / "uses.py"
    filter_path.write_text(f"from proxywasm import properties\n{use}\n")
    plan = linking.plan(filter_path)
    assert plan.imports == imports
    assert "proxy_get_property" in plan.linked


def test_only_a_filter_importing_properties_carries_its_code(
        built: Callable[[Path], Path]) -> None:
    def image(example: str) -> bytes:
        return packed.memory_image(built(EXAMPLES / example / f"{example}.py").read_bytes())

    assert b"decode_bytes_map" in image("properties")
    assert b"decode_bytes_map" not in image("http_headers")
