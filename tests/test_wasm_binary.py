"""Tests of the minimal WebAssembly binary reader/writer and of module validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from wasmtime import wat2wasm

from pywasm_filter.wasm import binary
from pywasm_filter.wasm.binary import (
    F64,
    FUNCREF,
    I32,
    I64,
    ExternKind,
    FuncType,
    GlobalType,
    InvalidModuleError,
    Limits,
    Section,
    SectionId,
    TableType,
    WasmFormatError,
    validate,
)

SAMPLE_WAT = r"""
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "base" (global $base i64))
  (import "env" "table" (table 1 funcref))
  (memory (export "memory") 2 10)
  (global $sp (mut i32) (i32.const 1024))
  (global $ratio f64 (f64.const 1.5))
  (func $noop (export "noop"))
  (func $add (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (export "sp" (global $sp))
  (data (i32.const 16) "hello")
  (data $greeting "passive")
)
"""


@pytest.fixture(scope="module")
def sample() -> bytes:
    return bytes(wat2wasm(SAMPLE_WAT))


def section(module: bytes, section_id: SectionId) -> bytes:
    found = binary.find_section(binary.parse_module(module), section_id)
    assert found is not None
    return found.payload


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (624485, b"\xe5\x8e\x26")],
)
def test_uleb_known_encodings(value: int, encoded: bytes) -> None:
    assert binary.encode_uleb(value) == encoded
    assert binary.decode_uleb(encoded) == (value, len(encoded))


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, b"\x00"), (-1, b"\x7f"), (63, b"\x3f"), (64, b"\xc0\x00"), (-123456, b"\xc0\xbb\x78")],
)
def test_sleb_known_encodings(value: int, encoded: bytes) -> None:
    assert binary.encode_sleb(value) == encoded
    assert binary.decode_sleb(encoded) == (value, len(encoded))


@pytest.mark.parametrize("value", [0, 1, 2**31 - 1, -(2**31), -65, 2**20])
def test_sleb_round_trip(value: int) -> None:
    assert binary.decode_sleb(binary.encode_sleb(value)) == (value, len(binary.encode_sleb(value)))


def test_uleb_round_trip_64_bit() -> None:
    value = 2**64 - 1
    assert binary.decode_uleb(binary.encode_uleb(value), bits=64)[0] == value


@pytest.mark.parametrize(
    "data", [b"", b"\x80", b"\x80\x80\x80\x80\x80\x01", b"\xff\xff\xff\xff\x7f"]
)
def test_uleb_rejects_malformed(data: bytes) -> None:
    with pytest.raises(WasmFormatError):
        binary.decode_uleb(data)


def test_uleb_rejects_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        binary.encode_uleb(-1)


def test_wrap_signed() -> None:
    assert binary.wrap_signed(2**32 - 1, 32) == -1
    assert binary.wrap_signed(2**31, 32) == -(2**31)
    assert binary.wrap_signed(5, 32) == 5


def test_parse_and_encode_round_trip(sample: bytes) -> None:
    assert binary.encode_module(binary.parse_module(sample)) == sample


def test_parse_rejects_bad_magic() -> None:
    with pytest.raises(WasmFormatError, match="magic"):
        binary.parse_module(b"\0asm\x02\0\0\0")


def test_parse_rejects_truncated_section(sample: bytes) -> None:
    with pytest.raises(WasmFormatError, match="data ends first"):
        binary.parse_module(sample[:-3])


def test_decode_types(sample: bytes) -> None:
    types = binary.decode_types(section(sample, SectionId.TYPE))
    assert FuncType((I32, I32, I32), (I32,)) in types
    assert FuncType((), ()) in types
    assert FuncType((I32, I32), (I32,)) in types


def test_decode_imports(sample: bytes) -> None:
    imports = binary.decode_imports(section(sample, SectionId.IMPORT))
    assert [(entry.module, entry.name, entry.kind) for entry in imports] == [
        ("env", "proxy_log", ExternKind.FUNC),
        ("env", "base", ExternKind.GLOBAL),
        ("env", "table", ExternKind.TABLE),
    ]
    assert isinstance(imports[0].desc, int)
    assert imports[1].desc == GlobalType(I64, mutable=False)
    assert imports[2].desc == TableType(FUNCREF, Limits(1))


def test_decode_functions_memories_globals(sample: bytes) -> None:
    assert len(binary.decode_functions(section(sample, SectionId.FUNCTION))) == 2
    assert binary.decode_memories(section(sample, SectionId.MEMORY)) == [Limits(2, 10)]
    globals_ = binary.decode_globals(section(sample, SectionId.GLOBAL))
    assert [g.type for g in globals_] == [GlobalType(I32, True), GlobalType(F64, False)]
    assert globals_[0].init == binary.encode_const(I32, 1024) == b"\x41\x80\x08\x0b"
    assert globals_[1].init == binary.encode_const(F64, 1.5)


def test_decode_data(sample: bytes) -> None:
    active, passive = binary.decode_data(section(sample, SectionId.DATA))
    assert (active.memory, active.offset, active.data, active.passive) == (0, 16, b"hello", False)
    assert (passive.offset, passive.data, passive.passive) == (None, b"passive", True)


def test_data_count() -> None:
    module = bytes(wat2wasm('(module (memory 1) (data (i32.const 0) "a") (func data.drop 0))'))
    assert binary.decode_data_count(section(module, SectionId.DATA_COUNT)) == 1
    assert binary.encode_data_count(1) == b"\x01"


def test_module_helpers(sample: bytes) -> None:
    assert binary.imports(sample) == [
        ("env", "proxy_log", "func"),
        ("env", "base", "global"),
        ("env", "table", "table"),
    ]
    assert binary.exports(sample) == [
        ("memory", "memory", 0),
        ("noop", "func", 1),
        ("add", "func", 2),
        ("sp", "global", 1),
    ]
    assert binary.code_size(sample) == len(section(sample, SectionId.CODE))
    assert binary.data_size(sample) == len(section(sample, SectionId.DATA))
    assert binary.data_size(bytes(wat2wasm("(module)"))) == 0


@pytest.mark.parametrize(
    ("section_id", "decode", "encode"),
    [
        (SectionId.MEMORY, binary.decode_memories, binary.encode_memories),
        (SectionId.GLOBAL, binary.decode_globals, binary.encode_globals),
        (SectionId.EXPORT, binary.decode_exports, binary.encode_exports),
    ],
)
def test_encoders_invert_decoders(
    sample: bytes,
    section_id: SectionId,
    decode: Callable[[bytes], list[Any]],
    encode: Callable[[list[Any]], bytes],
) -> None:
    payload = section(sample, section_id)
    assert encode(decode(payload)) == payload


def test_tables_round_trip() -> None:
    module = bytes(wat2wasm("(module (table 2 5 funcref) (table 1 externref))"))
    payload = section(module, SectionId.TABLE)
    tables = binary.decode_tables(payload)
    assert [table.type for table in tables] == [
        TableType(FUNCREF, Limits(2, 5)),
        TableType(b"\x6f", Limits(1)),
    ]
    assert binary.encode_tables(tables) == payload


@pytest.mark.parametrize(
    "limits",
    [
        Limits(1),
        Limits(1, 2),
        Limits(3, 4, shared=True),
        Limits(1, None, is_64=True),
        Limits(0, 7, page_size_log2=0),
    ],
)
def test_limits_round_trip(limits: Limits) -> None:
    assert binary.Reader(limits.encode()).limits() == limits


def test_active_data_encoding_wraps_high_offsets() -> None:
    payload = binary.encode_active_data([(8, b"ab"), (2**31 + 4, memoryview(b"xyz"))])
    segments = binary.decode_data(payload)
    assert [(s.offset, s.data) for s in segments] == [(8, b"ab"), (-(2**31) + 4, b"xyz")]


def test_encode_const() -> None:
    assert binary.encode_const(I32, 2**32 - 1) == b"\x41\x7f\x0b"
    assert binary.encode_const(I64, -2) == b"\x42\x7e\x0b"
    assert binary.encode_const(binary.F32, 0.5) == b"\x43\x00\x00\x00\x3f\x0b"
    with pytest.raises(ValueError, match="no constant encoding"):
        binary.encode_const(binary.V128, 0)


def test_replace_section_inserts_in_order(sample: bytes) -> None:
    sections = binary.remove_section(binary.parse_module(sample), SectionId.EXPORT)
    assert binary.find_section(sections, SectionId.EXPORT) is None
    exports = Section(SectionId.EXPORT, binary.encode_exports([]))
    restored = binary.replace_section(sections, exports)
    ids = [s.id for s in restored]
    assert ids.index(SectionId.GLOBAL) < ids.index(SectionId.EXPORT) < ids.index(SectionId.CODE)
    validate(binary.encode_module(restored))
    replaced = binary.replace_section(restored, exports)
    assert len(replaced) == len(restored)


def test_custom_sections_and_name_subsections() -> None:
    module = bytes(wat2wasm('(module $m (memory 1) (func $f) (data $d (i32.const 0) "x"))'))
    names = [s for s in binary.parse_module(module) if s.custom_name == "name"]
    assert len(names) == 1
    payload = names[0].payload
    stripped = binary.without_name_subsections(payload, {9})
    assert len(stripped) < len(payload)
    assert binary.without_name_subsections(stripped, {9}) == stripped
    reader = binary.Reader(stripped)
    assert reader.name() == "name"
    subsections = []
    while not reader.at_end():
        subsections.append(reader.byte())
        reader.read(reader.u32())
    assert 9 not in subsections and 1 in subsections


def test_validate(sample: bytes) -> None:
    validate(sample)
    broken = bytes(wat2wasm("(module (func (result i32) i32.const 1))"))
    broken = broken.replace(b"\x41\x01\x0b", b"\x01\x01\x0b")
    with pytest.raises(InvalidModuleError, match="invalid"):
        validate(broken)
