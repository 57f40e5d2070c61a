"""Minimal WebAssembly binary reader and writer, plus validation through wasmtime.

Covers only what build-time pre-initialization rewrites: sections are kept as raw payloads and
decoded or re-encoded one at a time, so unknown sections pass through untouched.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from wasmtime import Engine, Module, WasmtimeError

BytesLike = bytes | bytearray | memoryview
_T = TypeVar("_T")

MAGIC = b"\0asm\x01\0\0\0"

I32 = b"\x7f"
I64 = b"\x7e"
F32 = b"\x7d"
F64 = b"\x7c"
V128 = b"\x7b"
FUNCREF = b"\x70"
NUMERIC_TYPES = (I32, I64, F32, F64)

_END = 0x0B
_REF_TYPES_WITH_HEAP_TYPE = (0x63, 0x64)
# Numeric types, v128, and the abbreviated reference types (funcref, externref, anyref, ...).
_ABBREVIATED_TYPES = frozenset({0x7F, 0x7E, 0x7D, 0x7C, 0x7B, *range(0x69, 0x75)})
_EXTENDED_CONST_OPS = frozenset({0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E})
_SIMD_PREFIX = 0xFD
_V128_CONST = 12
_NAME_SECTION = "name"


class WasmFormatError(ValueError):
    """Raised when bytes are not a WebAssembly module, or use encodings this reader lacks."""


class InvalidModuleError(ValueError):
    """Raised by validate() when a WebAssembly binary does not validate."""


class SectionId(enum.IntEnum):
    """Identifiers of the WebAssembly binary sections."""

    CUSTOM = 0
    TYPE = 1
    IMPORT = 2
    FUNCTION = 3
    TABLE = 4
    MEMORY = 5
    GLOBAL = 6
    EXPORT = 7
    START = 8
    ELEMENT = 9
    CODE = 10
    DATA = 11
    DATA_COUNT = 12
    TAG = 13


# Position of each non-custom section in a valid module (tags sit between memory and global).
_SECTION_ORDER = {
    section: rank
    for rank, section in enumerate(
        (
            SectionId.TYPE,
            SectionId.IMPORT,
            SectionId.FUNCTION,
            SectionId.TABLE,
            SectionId.MEMORY,
            SectionId.TAG,
            SectionId.GLOBAL,
            SectionId.EXPORT,
            SectionId.START,
            SectionId.ELEMENT,
            SectionId.DATA_COUNT,
            SectionId.CODE,
            SectionId.DATA,
        )
    )
}


class ExternKind(enum.IntEnum):
    """Kinds of imported and exported entities."""

    FUNC = 0
    TABLE = 1
    MEMORY = 2
    GLOBAL = 3
    TAG = 4


# LEB128 ---------------------------------------------------------------------------------------


def encode_uleb(value: int) -> bytes:
    """Encode a non-negative integer as unsigned LEB128."""
    if value < 0:
        raise ValueError(f"unsigned LEB128 cannot encode the negative number {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value == 0:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def encode_sleb(value: int) -> bytes:
    """Encode an integer as signed LEB128."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _decode_leb(data: BytesLike, pos: int, bits: int, signed: bool) -> tuple[int, int]:
    result = 0
    shift = 0
    max_bytes = -(-bits // 7)
    for _ in range(max_bytes):
        if pos >= len(data):
            raise WasmFormatError("unexpected end of data inside a LEB128 number")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    else:
        raise WasmFormatError(f"LEB128 number longer than {max_bytes} bytes at offset {pos}")
    if signed:
        if byte & 0x40:
            result -= 1 << shift
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        low, high = 0, (1 << bits) - 1
    if not low <= result <= high:
        raise WasmFormatError(f"LEB128 number {result} does not fit in {bits} bits")
    return result, pos


def decode_uleb(data: BytesLike, pos: int = 0, bits: int = 32) -> tuple[int, int]:
    """Decode an unsigned LEB128 number at `pos`; return it and the offset just past it."""
    return _decode_leb(data, pos, bits, signed=False)


def decode_sleb(data: BytesLike, pos: int = 0, bits: int = 32) -> tuple[int, int]:
    """Decode a signed LEB128 number at `pos`; return it and the offset just past it."""
    return _decode_leb(data, pos, bits, signed=True)


def wrap_signed(value: int, bits: int) -> int:
    """Reinterpret `value` modulo 2**bits as a two's-complement signed number."""
    half = 1 << (bits - 1)
    return (value + half) % (1 << bits) - half


# Entities -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Size bounds of a memory or table, with the memory flags (shared, 64-bit, page size)."""

    minimum: int
    maximum: int | None = None
    shared: bool = False
    is_64: bool = False
    page_size_log2: int | None = None

    def encode(self) -> bytes:
        """Encode these limits, flags byte first."""
        flags = (
            (self.maximum is not None)
            | self.shared << 1
            | self.is_64 << 2
            | (self.page_size_log2 is not None) << 3
        )
        parts = [bytes([flags]), encode_uleb(self.minimum)]
        if self.maximum is not None:
            parts.append(encode_uleb(self.maximum))
        if self.page_size_log2 is not None:
            parts.append(encode_uleb(self.page_size_log2))
        return b"".join(parts)


@dataclass(frozen=True)
class FuncType:
    """A function signature; value types are kept in their binary encoding (e.g. I32)."""

    params: tuple[bytes, ...]
    results: tuple[bytes, ...]


@dataclass(frozen=True)
class GlobalType:
    """The value type and mutability of a global."""

    valtype: bytes
    mutable: bool

    def encode(self) -> bytes:
        """Encode this global type."""
        return self.valtype + bytes([self.mutable])


@dataclass(frozen=True)
class TableType:
    """The reference type and limits of a table."""

    reftype: bytes
    limits: Limits

    def encode(self) -> bytes:
        """Encode this table type."""
        return self.reftype + self.limits.encode()


@dataclass(frozen=True)
class Table:
    """A module-defined table: its type and, if given, its init expression (`end` included)."""

    type: TableType
    init: bytes | None = None

    def encode(self) -> bytes:
        """Encode this table as it appears in the table section."""
        if self.init is None:
            return self.type.encode()
        return b"\x40\x00" + self.type.encode() + self.init


@dataclass(frozen=True)
class Import:
    """An import; `desc` is a type index (func, tag), TableType, Limits or GlobalType."""

    module: str
    name: str
    kind: ExternKind
    desc: int | TableType | Limits | GlobalType


@dataclass(frozen=True)
class Global:
    """A module-defined global: its type and its init expression, `end` opcode included."""

    type: GlobalType
    init: bytes

    def encode(self) -> bytes:
        """Encode this global as it appears in the global section."""
        return self.type.encode() + self.init


@dataclass(frozen=True)
class Export:
    """An export: name, kind and index in the index space of that kind."""

    name: str
    kind: ExternKind
    index: int


@dataclass(frozen=True)
class DataSegment:
    """A data segment; `memory` and `offset_expr` are None for passive segments."""

    memory: int | None
    offset_expr: bytes | None
    data: bytes

    @property
    def passive(self) -> bool:
        """Whether this segment is only copied by memory.init, not at instantiation."""
        return self.memory is None

    @property
    def offset(self) -> int | None:
        """The offset if the offset expression is a plain i32.const, else None."""
        if self.offset_expr is None or self.offset_expr[0] != 0x41:
            return None
        value, end = decode_sleb(self.offset_expr, 1)
        return value if self.offset_expr[end:] == bytes([_END]) else None


# Reading --------------------------------------------------------------------------------------


class Reader:
    """Sequential decoder over a section payload; raises WasmFormatError on malformed input."""

    def __init__(self, data: BytesLike, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def at_end(self) -> bool:
        """Whether all bytes have been consumed."""
        return self.pos >= len(self.data)

    def byte(self) -> int:
        """Read one byte."""
        if self.pos >= len(self.data):
            raise WasmFormatError(f"unexpected end of data at offset {self.pos}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def read(self, size: int) -> bytes:
        """Read `size` raw bytes."""
        end = self.pos + size
        if end > len(self.data):
            raise WasmFormatError(f"{size} bytes needed at offset {self.pos}, data ends first")
        value = bytes(self.data[self.pos : end])
        self.pos = end
        return value

    def u32(self) -> int:
        """Read an unsigned 32-bit LEB128 number."""
        value, self.pos = decode_uleb(self.data, self.pos)
        return value

    def u64(self) -> int:
        """Read an unsigned 64-bit LEB128 number."""
        value, self.pos = decode_uleb(self.data, self.pos, 64)
        return value

    def sleb(self, bits: int) -> int:
        """Read a signed LEB128 number of the given width."""
        value, self.pos = decode_sleb(self.data, self.pos, bits)
        return value

    def name(self) -> str:
        """Read a length-prefixed UTF-8 name."""
        raw = self.read(self.u32())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise WasmFormatError(f"name is not valid UTF-8: {raw!r}") from error

    def vector(self, item: Callable[[], _T]) -> list[_T]:
        """Read a count-prefixed vector, decoding each element with `item`."""
        return [item() for _ in range(self.u32())]

    def valtype(self) -> bytes:
        """Read a value type, returned in its binary encoding."""
        start = self.pos
        code = self.byte()
        if code in _REF_TYPES_WITH_HEAP_TYPE:
            self.sleb(33)
        elif code not in _ABBREVIATED_TYPES:
            raise WasmFormatError(f"unknown value type 0x{code:02x} at offset {start}")
        return bytes(self.data[start : self.pos])

    def limits(self) -> Limits:
        """Read memory or table limits."""
        flags = self.byte()
        if flags > 0x0F:
            raise WasmFormatError(f"unknown limits flags 0x{flags:02x}")
        is_64 = bool(flags & 0x04)
        number = self.u64 if is_64 else self.u32
        minimum = number()
        maximum = number() if flags & 0x01 else None
        page_size_log2 = self.u32() if flags & 0x08 else None
        return Limits(minimum, maximum, bool(flags & 0x02), is_64, page_size_log2)

    def table_type(self) -> TableType:
        """Read a table type."""
        return TableType(self.valtype(), self.limits())

    def global_type(self) -> GlobalType:
        """Read a global type."""
        valtype = self.valtype()
        mutability = self.byte()
        if mutability > 1:
            raise WasmFormatError(f"unknown global mutability {mutability}")
        return GlobalType(valtype, bool(mutability))

    def const_expr(self) -> bytes:
        """Read a constant expression up to and including its `end` opcode."""
        start = self.pos
        while (opcode := self.byte()) != _END:
            if opcode == 0x41:
                self.sleb(32)
            elif opcode == 0x42:
                self.sleb(64)
            elif opcode == 0x43:
                self.read(4)
            elif opcode == 0x44:
                self.read(8)
            elif opcode in (0x23, 0xD2):
                self.u32()
            elif opcode == 0xD0:
                self.sleb(33)
            elif opcode == _SIMD_PREFIX and self.u32() == _V128_CONST:
                self.read(16)
            elif opcode not in _EXTENDED_CONST_OPS:
                raise WasmFormatError(f"unsupported opcode 0x{opcode:02x} in constant expression")
        return bytes(self.data[start : self.pos])


def _expect_end(reader: Reader, what: str) -> None:
    if not reader.at_end():
        raise WasmFormatError(f"{len(reader.data) - reader.pos} unexpected bytes after {what}")


# Sections -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One section of a module: its id and raw payload."""

    id: int
    payload: bytes

    @property
    def custom_name(self) -> str | None:
        """The name of a custom section, or None for other sections."""
        if self.id != SectionId.CUSTOM:
            return None
        return Reader(self.payload).name()


def parse_module(data: BytesLike) -> list[Section]:
    """Split a module into its sections, in order, payloads kept as raw bytes."""
    if bytes(data[: len(MAGIC)]) != MAGIC:
        raise WasmFormatError("not a WebAssembly 1.0 module: wrong magic number or version")
    reader = Reader(data, len(MAGIC))
    sections = []
    while not reader.at_end():
        section_id = reader.byte()
        if section_id > max(SectionId):
            raise WasmFormatError(f"unknown section id {section_id} at offset {reader.pos - 1}")
        sections.append(Section(section_id, reader.read(reader.u32())))
    return sections


def encode_module(sections: Iterable[Section]) -> bytes:
    """Assemble sections into a module binary."""
    parts = [MAGIC]
    for section in sections:
        parts += (bytes([section.id]), encode_uleb(len(section.payload)), section.payload)
    return b"".join(parts)


def find_section(sections: Sequence[Section], section_id: int) -> Section | None:
    """The first section with this id, or None."""
    return next((section for section in sections if section.id == section_id), None)


def replace_section(sections: Sequence[Section], new: Section) -> list[Section]:
    """Replace the non-custom section with `new`'s id, or insert `new` where the order needs it."""
    if new.id == SectionId.CUSTOM:
        raise ValueError("custom sections are not unique; edit the list directly")
    result = list(sections)
    for index, section in enumerate(result):
        if section.id == new.id:
            result[index] = new
            return result
    rank = _SECTION_ORDER[SectionId(new.id)]
    for index, section in enumerate(result):
        if section.id != SectionId.CUSTOM and _SECTION_ORDER[SectionId(section.id)] > rank:
            result.insert(index, new)
            return result
    result.append(new)
    return result


def remove_section(sections: Sequence[Section], section_id: int) -> list[Section]:
    """All sections except those with this id."""
    return [section for section in sections if section.id != section_id]


# Section decoders -----------------------------------------------------------------------------


def decode_types(payload: BytesLike) -> list[FuncType]:
    """Decode the type section; only plain function types (no GC rec groups) are supported."""
    reader = Reader(payload)

    def functype() -> FuncType:
        form = reader.byte()
        if form != 0x60:
            raise WasmFormatError(f"unsupported type form 0x{form:02x}; only function types")
        return FuncType(tuple(reader.vector(reader.valtype)), tuple(reader.vector(reader.valtype)))

    types = reader.vector(functype)
    _expect_end(reader, "the type section")
    return types


def decode_imports(payload: BytesLike) -> list[Import]:
    """Decode the import section."""
    reader = Reader(payload)

    def entry() -> Import:
        module, name = reader.name(), reader.name()
        kind_code = reader.byte()
        desc: int | TableType | Limits | GlobalType
        if kind_code == ExternKind.FUNC:
            desc = reader.u32()
        elif kind_code == ExternKind.TABLE:
            desc = reader.table_type()
        elif kind_code == ExternKind.MEMORY:
            desc = reader.limits()
        elif kind_code == ExternKind.GLOBAL:
            desc = reader.global_type()
        elif kind_code == ExternKind.TAG:
            reader.byte()
            desc = reader.u32()
        else:
            raise WasmFormatError(f"unknown import kind {kind_code} for {module}.{name}")
        return Import(module, name, ExternKind(kind_code), desc)

    imports = reader.vector(entry)
    _expect_end(reader, "the import section")
    return imports


def decode_functions(payload: BytesLike) -> list[int]:
    """Decode the function section: the type index of each defined function."""
    reader = Reader(payload)
    functions = reader.vector(reader.u32)
    _expect_end(reader, "the function section")
    return functions


def decode_tables(payload: BytesLike) -> list[Table]:
    """Decode the table section."""
    reader = Reader(payload)

    def entry() -> Table:
        if reader.data[reader.pos : reader.pos + 1] != b"\x40":
            return Table(reader.table_type())
        reader.pos += 1
        if reader.byte() != 0:
            raise WasmFormatError("malformed table with init expression")
        return Table(reader.table_type(), reader.const_expr())

    tables = reader.vector(entry)
    _expect_end(reader, "the table section")
    return tables


def decode_memories(payload: BytesLike) -> list[Limits]:
    """Decode the memory section."""
    reader = Reader(payload)
    memories = reader.vector(reader.limits)
    _expect_end(reader, "the memory section")
    return memories


def decode_globals(payload: BytesLike) -> list[Global]:
    """Decode the global section."""
    reader = Reader(payload)
    globals_ = reader.vector(lambda: Global(reader.global_type(), reader.const_expr()))
    _expect_end(reader, "the global section")
    return globals_


def decode_exports(payload: BytesLike) -> list[Export]:
    """Decode the export section."""
    reader = Reader(payload)

    def entry() -> Export:
        name = reader.name()
        kind_code = reader.byte()
        if kind_code > max(ExternKind):
            raise WasmFormatError(f"unknown export kind {kind_code} for {name}")
        return Export(name, ExternKind(kind_code), reader.u32())

    exports = reader.vector(entry)
    _expect_end(reader, "the export section")
    return exports


def decode_data_count(payload: BytesLike) -> int:
    """Decode the data count section."""
    reader = Reader(payload)
    count = reader.u32()
    _expect_end(reader, "the data count section")
    return count


def decode_data(payload: BytesLike) -> list[DataSegment]:
    """Decode the data section."""
    reader = Reader(payload)

    def segment() -> DataSegment:
        flags = reader.u32()
        if flags == 1:
            return DataSegment(None, None, reader.read(reader.u32()))
        if flags not in (0, 2):
            raise WasmFormatError(f"unknown data segment flags {flags}")
        memory = reader.u32() if flags == 2 else 0
        offset_expr = reader.const_expr()
        return DataSegment(memory, offset_expr, reader.read(reader.u32()))

    segments = reader.vector(segment)
    _expect_end(reader, "the data section")
    return segments


# Section encoders -----------------------------------------------------------------------------


def encode_vector(items: Sequence[bytes]) -> bytes:
    """Encode already-encoded items as a count-prefixed vector."""
    return b"".join([encode_uleb(len(items)), *items])


def encode_name(name: str) -> bytes:
    """Encode a length-prefixed UTF-8 name."""
    raw = name.encode("utf-8")
    return encode_uleb(len(raw)) + raw


def encode_tables(tables: Sequence[Table]) -> bytes:
    """Encode a table section payload."""
    return encode_vector([table.encode() for table in tables])


def encode_memories(memories: Sequence[Limits]) -> bytes:
    """Encode a memory section payload."""
    return encode_vector([limits.encode() for limits in memories])


def encode_globals(globals_: Sequence[Global]) -> bytes:
    """Encode a global section payload."""
    return encode_vector([global_.encode() for global_ in globals_])


def encode_exports(exports: Sequence[Export]) -> bytes:
    """Encode an export section payload."""
    return encode_vector(
        [
            encode_name(export.name) + bytes([export.kind]) + encode_uleb(export.index)
            for export in exports
        ]
    )


def encode_data_count(count: int) -> bytes:
    """Encode a data count section payload."""
    return encode_uleb(count)


def encode_active_data(segments: Iterable[tuple[int, BytesLike]]) -> bytes:
    """Encode a data section of active segments for memory 0 at i32.const offsets."""
    parts: list[BytesLike] = [b""]
    count = 0
    for offset, data in segments:
        parts += (b"\x00\x41", encode_sleb(wrap_signed(offset, 32)), b"\x0b")
        parts += (encode_uleb(len(data)), data)
        count += 1
    parts[0] = encode_uleb(count)
    return b"".join(parts)


def encode_const(valtype: bytes, value: float) -> bytes:
    """Encode a constant expression producing `value` of a numeric type."""
    if valtype == I32:
        return b"\x41" + encode_sleb(wrap_signed(int(value), 32)) + b"\x0b"
    if valtype == I64:
        return b"\x42" + encode_sleb(wrap_signed(int(value), 64)) + b"\x0b"
    if valtype == F32:
        return b"\x43" + struct.pack("<f", value) + b"\x0b"
    if valtype == F64:
        return b"\x44" + struct.pack("<d", value) + b"\x0b"
    raise ValueError(f"no constant encoding for value type 0x{valtype.hex()}")


def without_name_subsections(payload: bytes, drop: Container[int]) -> bytes:
    """Copy of a `name` custom section payload without the subsections whose ids are in `drop`."""
    reader = Reader(payload)
    if reader.name() != _NAME_SECTION:
        raise ValueError("not a name section")
    parts = [payload[: reader.pos]]
    while not reader.at_end():
        start = reader.pos
        subsection = reader.byte()
        reader.read(reader.u32())
        if subsection not in drop:
            parts.append(payload[start : reader.pos])
    return b"".join(parts)


# Whole-module helpers -------------------------------------------------------------------------


def code_size(module: BytesLike) -> int:
    """Size in bytes of the code section payload (0 if there is none)."""
    section = find_section(parse_module(module), SectionId.CODE)
    return len(section.payload) if section else 0


def data_size(module: BytesLike) -> int:
    """Size in bytes of the data section payload (0 if there is none)."""
    section = find_section(parse_module(module), SectionId.DATA)
    return len(section.payload) if section else 0


def imports(module: BytesLike) -> list[tuple[str, str, str]]:
    """The module's imports as (module, name, kind), kind being e.g. "func" or "memory"."""
    section = find_section(parse_module(module), SectionId.IMPORT)
    entries = decode_imports(section.payload) if section else []
    return [(entry.module, entry.name, entry.kind.name.lower()) for entry in entries]


def exports(module: BytesLike) -> list[tuple[str, str, int]]:
    """The module's exports as (name, kind, index), kind being e.g. "func" or "global"."""
    section = find_section(parse_module(module), SectionId.EXPORT)
    entries = decode_exports(section.payload) if section else []
    return [(entry.name, entry.kind.name.lower(), entry.index) for entry in entries]


def validate(module: BytesLike, engine: Engine | None = None) -> None:
    """Check with wasmtime (default features) that `module` is valid, so bad output fails early."""
    try:
        Module.validate(engine or Engine(), bytes(module))
    except WasmtimeError as error:
        raise InvalidModuleError(f"the WebAssembly module is invalid: {error}") from error
