"""Checks every built module before it is written: valid, complete exports, and imports that
each target host links with the same signature and implements (``abi``'s tables)."""

from __future__ import annotations

from collections.abc import Sequence

from .abi import ABI_MARKER, CALLBACK_EXPORTS, HOSTS, Host, Signature
from .errors import PywasmFilterError
from .wasm import binary


class VerificationError(PywasmFilterError):
    """The built module would not load or run in a target host; a bug in pywasm-filter."""


def import_signatures(module: bytes) -> list[tuple[str, str, Signature | None]]:
    """(module, name, signature) of every import; the signature is None for a non-function."""
    sections = binary.parse_module(module)
    type_section = binary.find_section(sections, binary.SectionId.TYPE)
    import_section = binary.find_section(sections, binary.SectionId.IMPORT)
    types = binary.decode_types(type_section.payload) if type_section else []
    found = []
    for entry in binary.decode_imports(import_section.payload) if import_section else []:
        signature = None
        if entry.kind == binary.ExternKind.FUNC and isinstance(entry.desc, int):
            function_type = types[entry.desc]
            signature = Signature(tuple(map(_value_name, function_type.params)),
                                  tuple(map(_value_name, function_type.results)))
        found.append((entry.module, entry.name, signature))
    return found


_VALUE_NAMES = {binary.I32: "i32", binary.I64: "i64", binary.F32: "f32", binary.F64: "f64"}


def _value_name(value_type: bytes) -> str:
    return _VALUE_NAMES.get(value_type, value_type.hex())


def host_problems(module: bytes, host: Host) -> list[str]:
    """Why ``host`` would refuse ``module`` or trap calling one of its imports, one per import."""
    problems = []
    for module_name, name, signature in import_signatures(module):
        lacking = (host.lacks(module_name, name, signature) if signature is not None
                   else f"{host.name} provides no {module_name}.{name} of that kind")
        if lacking:
            problems.append(f"{module_name}.{name}: {lacking}")
    return problems


def verify(module: bytes, hosts: Sequence[Host] | None = None) -> None:
    """Raise VerificationError unless ``module`` is a valid Proxy-Wasm 0.2.1 module that every
    host of ``hosts`` links and runs; without ``hosts``, at least one host must."""
    binary.validate(module)
    exported = {name for name, _kind, _index in binary.exports(module)}
    missing = [name for name in (ABI_MARKER, "memory", *CALLBACK_EXPORTS) if name not in exported]
    if missing:
        raise VerificationError(f"the module does not export {', '.join(missing)}")
    problems = {host: host_problems(module, host) for host in (hosts or HOSTS)}
    failing = [host for host, found in problems.items() if found]
    if (hosts and failing) or (not hosts and len(failing) == len(HOSTS)):
        raise VerificationError("the module does not link in "
                                + "; ".join(f"{host.name}: {', '.join(problems[host])}"
                                            for host in failing))
