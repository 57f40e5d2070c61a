"""After the snapshot: cut the code that only build-time work reaches, then drop it.

The interpreter started, parsed and compiled every module at build time. In the snapshot,
the parser and compiler entry points and every built-in module's ``PyInit_*`` get a body that
calls a stub raising a clear error (runtime/removed.c); Binaryen's
``remove-unused-module-elements`` then drops every function no export, table entry or live code
reaches any more (parser, compiler, AST, start-up, finalization, unused C modules). Function
table indices stored in the snapshot's memory stay valid: the table is exported and kept whole.
"""

from __future__ import annotations

from . import binary, optimize
from .binary import Reader, Section, SectionId

COMPILER_STUB = "pywasm_removed_compiler"
MODULE_STUB = "pywasm_removed_module"
# Entry points of the parser, tokenizer, AST conversion, symbol table and bytecode compiler:
# each returns NULL or 0 with an exception set on failure, as the stub does.
COMPILER_ENTRY_POINTS = (
    "_PyParser_ASTFromString",
    "_PyParser_ASTFromFile",
    "_PyAST_Compile",
    "_PyAST_Validate",
    "PyAST_obj2mod",
    "PyAST_mod2obj",
    "_PySymtable_Build",
    "_Py_SymtableStringObjectFlags",
    "_PyTokenizer_FromString",
    "_PyTokenizer_FromUTF8",
    "_PyTokenizer_FromFile",
)
# Shutting the interpreter down never happens inside a proxy: these return 0 and do nothing.
NO_OPS = ("Py_FinalizeEx", "Py_EndInterpreter")
_MODULE_INIT_PREFIX = "PyInit_"
_FUNCTION_NAMES = 1
_END, _UNREACHABLE, _CALL, _I32_CONST = 0x0B, 0x00, 0x10, 0x41
_I32 = b"\x7f"


def function_names(sections: list[Section]) -> dict[int, str]:
    """Function index -> name, from the module's `name` custom section."""
    for section in sections:
        if section.custom_name != "name":
            continue
        reader = Reader(section.payload)
        reader.name()
        while not reader.at_end():
            subsection, size = reader.byte(), reader.u32()
            payload = reader.read(size)
            if subsection == _FUNCTION_NAMES:
                return _name_map(Reader(payload))
    raise ValueError("the runtime base has no function names; rebuild it")


def _name_map(reader: Reader) -> dict[int, str]:
    names: dict[int, str] = {}
    for _ in range(reader.u32()):
        function = reader.u32()
        names[function] = reader.name()
    return names


def _stub_body(results: tuple[bytes, ...], call: int | None) -> bytes:
    """A body without locals: ``call $stub`` (i32 result), or return 0 / nothing; else a trap."""
    if results == (_I32,):
        instructions = bytes([_CALL]) + binary.encode_uleb(call) if call is not None else (
            bytes([_I32_CONST, 0]))
    elif not results:
        instructions = b"" if call is None else bytes([_UNREACHABLE])
    else:
        instructions = bytes([_UNREACHABLE])
    body = b"\x00" + instructions + bytes([_END])
    return binary.encode_uleb(len(body)) + body


def _replace_bodies(sections: list[Section], replacements: dict[int, bytes]) -> list[Section]:
    imported = sum(1 for entry in _imports(sections) if entry.kind == binary.ExternKind.FUNC)
    code = binary.find_section(sections, SectionId.CODE)
    assert code is not None, "a runtime module has code"
    reader = Reader(code.payload)
    bodies = []
    for position in range(reader.u32()):
        start = reader.pos
        reader.read(reader.u32())
        bodies.append(replacements.get(imported + position, code.payload[start:reader.pos]))
    payload = binary.encode_uleb(len(bodies)) + b"".join(bodies)
    return binary.replace_section(sections, Section(SectionId.CODE, payload))


def _imports(sections: list[Section]) -> list[binary.Import]:
    section = binary.find_section(sections, SectionId.IMPORT)
    return binary.decode_imports(section.payload) if section else []


def _signatures(sections: list[Section]) -> dict[int, binary.FuncType]:
    """Function index -> type, for every defined function."""
    types_section = binary.find_section(sections, SectionId.TYPE)
    functions_section = binary.find_section(sections, SectionId.FUNCTION)
    assert types_section is not None and functions_section is not None
    types = binary.decode_types(types_section.payload)
    imported = sum(1 for entry in _imports(sections) if entry.kind == binary.ExternKind.FUNC)
    return {imported + position: types[type_index]
            for position, type_index in enumerate(binary.decode_functions(
                functions_section.payload))}


def _without_exports(sections: list[Section], names: set[str]) -> list[Section]:
    section = binary.find_section(sections, SectionId.EXPORT)
    assert section is not None
    exports = [entry for entry in binary.decode_exports(section.payload)
               if entry.name not in names]
    return binary.replace_section(sections, Section(SectionId.EXPORT,
                                                    binary.encode_exports(exports)))


def shrink(module: bytes) -> bytes:
    """The snapshot ``module`` without its build-time-only code, names stripped."""
    sections = binary.parse_module(module)
    names = function_names(sections)
    index = {name: function for function, name in names.items()}
    missing = [name for name in (COMPILER_STUB, MODULE_STUB) if name not in index]
    if missing:
        raise ValueError(f"the runtime base lacks {', '.join(missing)}; rebuild it")
    signatures = _signatures(sections)
    replacements: dict[int, bytes] = {}
    for function, name in names.items():
        if function not in signatures:
            continue
        results = signatures[function].results
        if name in COMPILER_ENTRY_POINTS:
            replacements[function] = _stub_body(results, index[COMPILER_STUB])
        elif name.startswith(_MODULE_INIT_PREFIX):
            replacements[function] = _stub_body(results, index[MODULE_STUB])
        elif name in NO_OPS:
            replacements[function] = _stub_body(results, None)
    sections = _replace_bodies(sections, replacements)
    sections = _without_exports(sections, {COMPILER_STUB, MODULE_STUB})
    return optimize.run(binary.encode_module(sections), ["remove-unused-module-elements"])
