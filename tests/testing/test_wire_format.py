"""The wasm engine's encoding of header maps, as the ABI specifies it."""

from __future__ import annotations

from proxywasm.testing.wasm_engine import decode_pairs, encode_pairs


def test_header_map_layout_is_count_sizes_then_nul_ended_strings() -> None:
    encoded = encode_pairs([("a", "1"), ("bc", "")])
    assert encoded == (b"\x02\x00\x00\x00" b"\x01\x00\x00\x00\x01\x00\x00\x00"
                       b"\x02\x00\x00\x00\x00\x00\x00\x00" b"a\x001\x00bc\x00\x00")


def test_header_map_round_trip_keeps_order_and_raw_bytes() -> None:
    pairs = [(":path", "/"), ("x", "caf\udce9"), ("x", "2")]
    assert decode_pairs(encode_pairs(pairs)) == pairs


def test_empty_buffer_is_an_empty_map() -> None:
    assert decode_pairs(b"") == []
