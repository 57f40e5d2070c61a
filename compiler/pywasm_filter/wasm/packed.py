"""The snapshot's memory stored as one LZMA stream, expanded by the module when instantiated.

Memory holding a snapshot is mostly zeros and repeats (object headers, code objects, strings):
a header filter's 9.4 MB from the first to the last non-zero byte fit in 0.67 MB (DEFLATE at
zlib's level 9: 1.00 MB; the price is decoding time, about 0.1 s per VM against 0.05 s). Each
run of memory between zero gaps of at least four wasm pages is one stream, in an active data
segment. The first is at the end of where its bytes go (expanded in place, so its pages are
pages the memory needs anyway: one stream for the whole memory would end in its sparse tail
and leave half a MiB of zeroed but resident pages per VM); the next ones, small, follow it,
below their bytes, so the segments stay together (Wasmtime maps data segments that lie close
together copy-on-write, and otherwise builds a larger image per module). The module's start
function (added here) calls the runtime's decoder (runtime/expand.c) once per stream with
where it is, where its bytes go and a scratch area, before the host can call anything else.
"""

from __future__ import annotations

import lzma
from collections.abc import Sequence

from . import binary
from .binary import Section, SectionId

# The runtime's decoder (runtime/expand.c): (out, in, size, scratch) -> nothing.
EXPAND_EXPORT = "__pywasm_expand"
# Bytes of scratch the decoder needs for its probabilities (runtime/expand.c asserts it fits).
EXPAND_SCRATCH = 10240
PAGE = 65536
# No literal context bits, two bits of position for literals and matches (memory holds
# 4-byte-aligned words): 0.4 % smaller than LZMA's defaults. Every match length is tried
# (`nice_len`); a dictionary of 4 MiB finds the repeats there are (more gains nothing).
_LC, _LP, _PB = 0, 2, 2
_FILTERS = ({"id": lzma.FILTER_LZMA1, "preset": 9, "lc": _LC, "lp": _LP, "pb": _PB,
             "dict_size": 1 << 22, "nice_len": 273},)
# The stream's header (runtime/expand.c): the properties byte, then the expanded size.
_HEADER = 5
_I32_CONST, _CALL, _END = 0x41, 0x10, 0x0B
# Granularity of the in-place distance computation.
_CHUNK = 1024
# Zeros between two streams: four wasm pages or more. Splitting at every gap of one page cuts
# the dense heap too, and a stream loses the repeats the other holds (+20 KB for http_headers).
_GAP = 4 * PAGE


def compress(data: bytes | bytearray | memoryview) -> bytes:
    """`data` as the header and raw LZMA stream that runtime/expand.c reads."""
    properties = _LC + 9 * _LP + 45 * _PB
    header = bytes([properties]) + len(data).to_bytes(4, "little")
    return header + lzma.compress(data, format=lzma.FORMAT_RAW, filters=_FILTERS)


def decompress(stream: bytes) -> bytes:
    """What `compress` made `stream` of."""
    size = int.from_bytes(stream[1:_HEADER], "little")
    return _decompressor().decompress(stream[_HEADER:], size)


def pack(
    sections: Sequence[Section],
    memory: bytearray,
    spans: Sequence[tuple[int, int]],
    pages: int,
    expand: int,
    empty_type: int,
) -> tuple[list[Section], int]:
    """`sections` with memory's non-zero `spans` as compressed segments and a start function.

    `pages` is the memory's size in the snapshot, `expand` the decoder's function index and
    `empty_type` the index of the type `[] -> []`; `spans` must not be empty. Returns the
    sections and the memory's new minimum in pages (a stream may end, and the decoder's
    scratch area lies, past the snapshot's last non-zero byte).
    """
    segments: list[tuple[int, bytes]] = []
    outputs = []
    free = 0  # where the next stream may start: past the previous stream and expanded bytes
    ceiling: int | None = None  # the lowest byte the streams below their bytes expand to
    for first, last in _groups(spans):
        stream = compress(memoryview(memory)[first:last])
        below = (free + 7) & ~7
        if segments and below + len(stream) <= min(first, ceiling or first):
            at = below  # next to the previous stream, below its bytes: the segments stay close
            ceiling = ceiling or first
            free = at + len(stream)
        else:
            at = max((first + _in_place_distance(stream)) & ~7, first) + 8
            if at < free:
                raise ValueError("two compressed streams overlap; the gap between is too short")
            ceiling, free = None, max(at + len(stream), last)
        segments.append((at, stream))
        outputs.append(first)
    scratch = (max(at + len(stream) for at, stream in segments) + 7) & ~7
    minimum = max(pages, -(-(scratch + EXPAND_SCRATCH) // PAGE))

    result = binary.replace_section(
        sections, Section(SectionId.DATA, binary.encode_active_data(segments)))
    if binary.find_section(result, SectionId.DATA_COUNT):
        result = binary.replace_section(
            result, Section(SectionId.DATA_COUNT, binary.encode_data_count(len(segments))))
    calls = [(out, at, len(stream), scratch)
             for out, (at, stream) in zip(outputs, segments, strict=True)]
    return _with_start(result, _call_body(expand, calls), empty_type), minimum


def _groups(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` merged into runs whose gaps of zeros are shorter than `_GAP`."""
    groups = [spans[0]]
    for first, last in spans[1:]:
        if first - groups[-1][1] < _GAP:
            groups[-1] = (groups[-1][0], last)
        else:
            groups.append((first, last))
    return groups


def _in_place_distance(stream: bytes) -> int:
    """How far past the output's start the stream must begin for expansion in place.

    The decoder writes the bytes decoded from the first `c` bytes of the stream only after
    reading past them, so the stream may start `d` bytes into the output if, for every `c`,
    the output decoded from `c + _CHUNK` bytes ends before `d + c`.
    """
    decoder = _decompressor()
    produced = distance = 0
    for consumed in range(_HEADER, len(stream), _CHUNK):
        produced += len(decoder.decompress(stream[consumed:consumed + _CHUNK]))
        distance = max(distance, produced - consumed)
    return distance


def _decompressor() -> lzma.LZMADecompressor:
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=_FILTERS)


def _call_body(function: int, calls: Sequence[Sequence[int]]) -> bytes:
    """A function body without locals that calls `function` with each constant i32 arguments."""
    code = bytearray([0])  # no locals
    for arguments in calls:
        for value in arguments:
            code += bytes([_I32_CONST]) + binary.encode_sleb(binary.wrap_signed(value, 32))
        code += bytes([_CALL]) + binary.encode_uleb(function)
    code += bytes([_END])
    return binary.encode_uleb(len(code)) + bytes(code)


def _with_start(sections: list[Section], body: bytes, type_index: int) -> list[Section]:
    """Append a function of type `type_index` with `body` and make it the start function."""
    imports = binary.find_section(sections, SectionId.IMPORT)
    imported = sum(entry.kind == binary.ExternKind.FUNC
                   for entry in binary.decode_imports(imports.payload)) if imports else 0
    functions = binary.find_section(sections, SectionId.FUNCTION)
    code = binary.find_section(sections, SectionId.CODE)
    if functions is None or code is None:
        raise ValueError("a module with the runtime's decoder has functions")
    types = binary.decode_functions(functions.payload)
    reader = binary.Reader(code.payload)
    count = reader.u32()
    new_index = imported + len(types)
    sections = binary.replace_section(sections, Section(
        SectionId.FUNCTION, binary.encode_uleb(len(types) + 1) + b"".join(
            binary.encode_uleb(index) for index in [*types, type_index])))
    sections = binary.replace_section(sections, Section(
        SectionId.CODE, binary.encode_uleb(count + 1) + code.payload[reader.pos:] + body))
    return binary.replace_section(sections, Section(SectionId.START,
                                                    binary.encode_uleb(new_index)))


def memory_image(module: bytes) -> bytes:
    """The memory a VM of a packed `module` holds after its start function: for inspection."""
    sections = binary.parse_module(module)
    start, code, functions = (binary.find_section(sections, section_id) for section_id in (
        SectionId.START, SectionId.CODE, SectionId.FUNCTION))
    if start is None or code is None or functions is None:
        raise ValueError("the module does not expand its data in a start function")
    imports = binary.find_section(sections, SectionId.IMPORT)
    imported = sum(entry.kind == binary.ExternKind.FUNC
                   for entry in binary.decode_imports(imports.payload)) if imports else 0
    reader = binary.Reader(code.payload)
    reader.u32()  # the number of bodies
    for _ in range(binary.decode_uleb(start.payload)[0] - imported + 1):
        body = reader.read(reader.u32())
    data = binary.find_section(sections, SectionId.DATA)
    assert data is not None, "a packed module has its streams in data segments"
    image = bytearray()
    segments = {segment.offset: segment.data for segment in binary.decode_data(data.payload)}
    position = 1  # past the empty locals vector
    while body[position] != _END:
        arguments = []
        for _ in range(4):
            if body[position] != _I32_CONST:
                raise ValueError("the start function is not a call of the runtime's decoder")
            value, position = binary.decode_sleb(body, position + 1)
            arguments.append(value & 0xFFFFFFFF)
        if body[position] != _CALL:
            raise ValueError("the start function is not a call of the runtime's decoder")
        position = binary.decode_uleb(body, position + 1)[1]
        out, source, size, _scratch = arguments
        assert len(segments[source]) == size, "each call expands one data segment"
        expanded = decompress(segments[source])
        image.extend(bytes(max(0, out + len(expanded) - len(image))))
        image[out:out + len(expanded)] = expanded
    return bytes(image)
