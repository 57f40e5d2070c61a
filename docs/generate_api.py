"""Write docs/api.md from the proxywasm SDK's signatures and docstrings.

Run `python docs/generate_api.py` after changing the SDK; a test checks the file is current.
"""

from __future__ import annotations

import ast
import enum
import inspect
import itertools
import textwrap
from pathlib import Path
from types import MethodType, ModuleType

import proxywasm
import proxywasm.config
import proxywasm.properties

API_PATH = Path(__file__).resolve().parent / "api.md"

HEADER = """# proxywasm API reference

Generated from the SDK by `docs/generate_api.py`; do not edit by hand.
Names mirror the Rust SDK's `proxy_wasm::traits` in snake_case. See the
[guide](guide.md) for how the pieces fit together.
"""


def _summary(item: object) -> str:
    doc = inspect.getdoc(item) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _function(name: str, function: object) -> str:
    try:
        signature = str(inspect.signature(function)).replace("'", "")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        signature = "(...)"
    inherited = inspect.getdoc(function) == inspect.getdoc(object.__init__)
    summary = "" if inherited else _summary(function)
    return f"- `{name}{signature}`" + (f": {summary}" if summary else "")


def _bound_method(name: str, method: MethodType, summary: str, self_first: bool = True) -> str:
    """A function with its first argument bound (``hostcalls.method``), shown as the ``def`` it
    stands for (``self`` first in a class) with the docstring written under its assignment."""
    signature = str(inspect.signature(method)).replace("'", "")
    if self_first:
        signature = "(self" + (", " if signature[1] != ")" else "") + signature[1:]
    return f"- `{name}{signature}`: {summary}"


def _attribute_docs(owner: type | ModuleType) -> dict[str, str]:
    """The docstrings written under a class's or module's attribute assignments, by name."""
    body = ast.parse(textwrap.dedent(inspect.getsource(owner))).body
    if inspect.isclass(owner):
        body = body[0].body  # type: ignore[attr-defined]
    return {
        statement.targets[0].id: " ".join(inspect.cleandoc(after.value.value).split())
        for statement, after in itertools.pairwise(body)
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name)
        and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
        and isinstance(after.value.value, str)
    }


def _class(name: str, cls: type) -> list[str]:
    lines = [f"### `{name}`", "", _summary(cls), ""]
    attribute_docs = _attribute_docs(cls)
    if issubclass(cls, enum.Enum):
        lines.append(", ".join(f"`{member.name}` = {member.value}" for member in cls))
        return [*lines, ""]
    bases = [base.__name__ for base in cls.__bases__ if base is not object]
    if bases:
        lines.extend([f"Extends {', '.join(f'`{base}`' for base in bases)}.", ""])
    for attribute, value in cls.__dict__.items():
        if attribute.startswith("_") and attribute != "__init__":
            continue
        if inspect.isfunction(value):
            lines.append(_function(attribute, value))
        elif isinstance(value, MethodType):
            lines.append(_bound_method(attribute, value, attribute_docs[attribute]))
        elif inspect.ismemberdescriptor(value):
            kind = cls.__annotations__.get(attribute, "attribute")
            lines.append(f"- `{attribute}: {kind}`")
        elif isinstance(value, property):
            lines.append(f"- `{attribute}` (property): {_summary(value)}")
        elif not callable(value) and not attribute.startswith("_"):
            lines.append(f"- `{attribute} = {value!r}`")
    return [*lines, ""]


def render() -> str:
    """The whole reference as Markdown."""
    functions, classes, enums, errors = [], [], [], []
    for name in proxywasm.__all__:
        item = getattr(proxywasm, name)
        if inspect.ismodule(item):
            continue
        if inspect.isclass(item) and issubclass(item, enum.Enum):
            enums.extend(_class(name, item))
        elif inspect.isclass(item) and issubclass(item, BaseException):
            errors.append(f"- `{name}`: {_summary(item)}")
        elif inspect.isclass(item):
            classes.extend(_class(name, item))
        elif isinstance(item, MethodType):
            docs = _attribute_docs(inspect.getmodule(item))  # type: ignore[arg-type]
            functions.append(_bound_method(name, item, docs[name], self_first=False))
        else:
            functions.append(_function(name, item))
    sections = [
        HEADER,
        "## Module functions\n",
        *functions,
        "\n## Contexts\n",
        *classes,
        "## Enums\n",
        *enums,
        "## Errors\n",
        *errors,
        *_module_section(proxywasm.hostcalls),
        *_module_section(proxywasm.config),
        *_module_section(proxywasm.properties),
        "",
    ]
    return "\n".join(sections)


def _module_section(module: object) -> list[str]:
    """A module's own public functions and exceptions, in source order."""
    name = getattr(module, "__name__", "")
    lines = ["", f"## `{name}`", "", _summary(module), ""]
    for attribute, value in vars(module).items():
        if attribute.startswith("_") or getattr(value, "__module__", None) != name:
            continue
        if inspect.isfunction(value) and value.__name__ != attribute:
            lines.append(f"- `{attribute}`: the same function as `{value.__name__}`")
        elif inspect.isfunction(value):
            lines.append(_function(attribute, value))
        elif inspect.isclass(value):
            lines.append(f"- `{attribute}`: {_summary(value)}")
    return lines


if __name__ == "__main__":
    API_PATH.write_text(render())
    print(f"wrote {API_PATH}")
