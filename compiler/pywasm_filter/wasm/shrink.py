"""After the snapshot: cut the code that only build-time work reaches, then drop it.

The interpreter started, parsed and compiled every module at build time. In the snapshot,
the parser and compiler entry points and every built-in module's ``PyInit_*`` get a body that
calls a stub raising a clear error (runtime/removed.c); Binaryen's
``remove-unused-module-elements`` then drops every function no export, table entry or live code
reaches any more (parser, compiler, AST, start-up, finalization, unused C modules). Function
table indices stored in the snapshot's memory stay valid: the table is exported and kept whole.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import binary, optimize
from .binary import Reader, Section, SectionId

COMPILER_STUB = "pywasm_removed_compiler"
MODULE_STUB = "pywasm_removed_module"
# Entry points of the parser, tokenizer, AST optimizer and bytecode compiler, and the
# `compile` builtin (the AST conversions are inlined into it): each returns NULL or 0 with an
# exception set on failure, as the stub does. Names the optimizer inlined away are skipped.
COMPILER_ENTRY_POINTS = (
    "_PyPegen_run_parser",
    "_PyParser_ASTFromString",
    "_PyParser_ASTFromFile",
    "_PyTokenizer_FromString",
    "_PyTokenizer_FromUTF8",
    "_PyTokenizer_FromFile",
    "_PyAST_Compile",
    "_PyAST_Optimize",
    "_PyAST_Validate",
    "PyAST_obj2mod",
    "PyAST_mod2obj",
    "builtin_compile",
    "tokenizeriter_new",
)
# The PEG parser's rules and helpers: passed around as function pointers (so kept by the
# table), never called once the parser's entry points are stubs. The traceback printer's one
# helper from the parser stays.
PARSER_SUFFIX = "_rule"
PARSER_PREFIX = "_PyPegen_"
PARSER_KEPT = ("_PyPegen_byte_offset_to_character_offset",)
# Conversions between the C AST and Python `ast` objects, also handed around by pointer.
AST_PREFIXES = ("ast2obj_", "obj2ast_")
# Built-in modules' exec slots run once, when the module is imported (at build time).
MODULE_EXEC_SUFFIXES = ("_exec", "_modexec")
MODULE_EXEC_KEPT = ("builtin_exec",)
# The path configuration's helpers (Modules/getpath.c) run once, when the interpreter starts.
GETPATH_PREFIX = "getpath_"
# Lazy one-time initializers `int f(struct state *)` whose state's first field is set once
# they have run (`ast_state.initialized`): the AST types (9 KB) are made when `ast` is first
# imported (at build time, if ever); at run time they exist, or nothing can reach them but
# the compiler (removed). In a built module the function returns 1 if its state was
# initialized, else fails as the compiler stub does.
INITIALIZED_ONCE = ("init_types",)
# Exiting or shutting down the interpreter never happens inside a proxy (the SDK's dispatcher
# catches SystemExit): these trap.
TRAPS = ("Py_Exit", "Py_FinalizeEx", "Py_EndInterpreter", "_PyInterpreterState_IDDecref")
_MODULE_INIT_PREFIX = "PyInit_"
_FUNCTION_NAMES = 1
_END, _UNREACHABLE, _CALL = 0x0B, 0x00, 0x10
_LOCAL_GET, _I32_LOAD, _I32_CONST, _IF, _ELSE = 0x20, 0x28, 0x41, 0x04, 0x05
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


def _in_parser(name: str) -> bool:
    return (name.endswith(PARSER_SUFFIX) or name.startswith(PARSER_PREFIX)) and (
        name not in PARSER_KEPT)


def _build_time_only(name: str) -> bool:
    """AST conversions, module exec slots and path configuration: no run-time path reaches
    them."""
    if name.startswith((*AST_PREFIXES, GETPATH_PREFIX)):
        return True
    return name.endswith(MODULE_EXEC_SUFFIXES) and name not in MODULE_EXEC_KEPT and (
        not name.startswith("_imp_"))


def _name_map(reader: Reader) -> dict[int, str]:
    names: dict[int, str] = {}
    for _ in range(reader.u32()):
        function = reader.u32()
        names[function] = reader.name()
    return names


def _stub_body(results: tuple[bytes, ...], stub: int) -> bytes:
    """A body without locals that returns what ``call $stub`` returns (NULL, exception set)."""
    if results != (_I32,):
        return _trap_body()
    return _body(bytes([_CALL]) + binary.encode_uleb(stub))


def _initialized_body(signature: binary.FuncType, stub: int) -> bytes | None:
    """``return state->initialized ? 1 : stub()`` for ``int f(struct state *state)``; None
    for another signature (the function is then kept whole)."""
    if signature.params != (_I32,) or signature.results != (_I32,):
        return None
    return _body(bytes([_LOCAL_GET, 0, _I32_LOAD, 2, 0, _IF, _I32[0], _I32_CONST, 1, _ELSE,
                        _CALL]) + binary.encode_uleb(stub) + bytes([_END]))


def _trap_body() -> bytes:
    return _body(bytes([_UNREACHABLE]))


def _body(instructions: bytes) -> bytes:
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


def shrink(module: bytes, stub_imports: Mapping[tuple[str, str], int] | None = None) -> bytes:
    """The snapshot ``module`` without its build-time-only code, names stripped.

    The imports in ``stub_imports`` become functions returning the given status (see
    ``optimize.run``), in the same Binaryen pass.
    """
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
        elif name in INITIALIZED_ONCE:
            body = _initialized_body(signatures[function], index[COMPILER_STUB])
            if body is not None:
                replacements[function] = body
        elif name in TRAPS or _in_parser(name) or _build_time_only(name):
            replacements[function] = _trap_body()
    sections = _replace_bodies(sections, replacements)
    sections = _without_exports(sections, {COMPILER_STUB, MODULE_STUB})
    return optimize.run(binary.encode_module(sections), ["remove-unused-module-elements"],
                        stub_imports=stub_imports)
