"""Typed plugin configuration: load JSON into a dataclass, with errors that name the field.

Typical use, in ``on_configure``::

    @dataclass
    class Settings:
        header: str
        limit: int = 10

        def __post_init__(self) -> None:
            if self.limit < 1:
                raise ValueError(f"limit must be at least 1, got {self.limit}")

    def on_configure(self, size: int) -> bool:
        self.settings = proxywasm.config.load(Settings, self.get_plugin_configuration())
        return True

A bad configuration raises ``ConfigError``; raised from ``on_configure`` it refuses the
configuration (Envoy keeps the previous one, or refuses to start) and logs one line:
``rejecting the plugin configuration: configuration: limit must be at least 1, got 0``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import types

from .errors import ConfigError as ConfigError  # re-exported: proxywasm.config.ConfigError

# Not `typing` at run time: it adds about 0.3 MB to a module. Annotations that use it come from
# the filter's own module, which then imported it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, TypeVar

    T = TypeVar("T")

_SCALARS: dict[type, str] = {str: "a string", bool: "true or false", int: "an integer"}


def load(cls: type[T], data: bytes | str | None) -> T:
    """Parse the JSON object ``data`` into the dataclass ``cls``; raise ConfigError if it is bad."""
    if not data:
        data = b"{}"
    try:
        value = json.loads(data)
    except ValueError as error:
        raise ConfigError(f"the plugin configuration is not valid JSON: {error}") from None
    result: Any = _convert(cls, value, "configuration")
    return result  # type: ignore[no-any-return]


def _convert(hint: object, value: object, where: str) -> object:
    """Check ``value`` against the type ``hint`` and build dataclasses, recursively."""
    origin, arguments = _parts(hint)
    if hint is _ANY or _is_typing(hint, "Any"):
        return value
    if origin is types.UnionType or _is_typing(origin, "Union"):
        options = arguments
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, where)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: no type matches {value!r}")
    if origin is list:
        (item,) = arguments or (_ANY,)
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return [_convert(item, element, f"{where}[{i}]") for i, element in enumerate(value)]
    if origin is dict:
        _, item = arguments or (str, _ANY)
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be an object, got {value!r}")
        return {key: _convert(item, element, f"{where}.{key}") for key, element in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, value, where)
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if isinstance(hint, type) and hint in _SCALARS:
        if type(value) is hint:
            return value
        raise ConfigError(f"{where} must be {_SCALARS[hint]}, got {value!r}")
    raise ConfigError(f"{where}: the type {hint!r} is not supported in configurations")


_ANY = object()
"""Stands for ``typing.Any`` where a bare ``list``/``dict`` leaves the item type open."""


class _Union:
    """A union parsed from a string annotation (``X | Y``, ``Optional[X]``)."""

    def __init__(self, options: tuple[object, ...]) -> None:
        self.options = options


def _is_typing(hint: object, name: str) -> bool:
    """Whether ``hint`` is ``typing.<name>`` (only possible if the filter imported typing)."""
    typing_module = sys.modules.get("typing")
    return typing_module is not None and hint is getattr(typing_module, name, _ANY)


def _parts(hint: object) -> tuple[object, tuple[object, ...]]:
    """``hint``'s origin and arguments, as ``typing.get_origin``/``get_args`` give them."""
    if isinstance(hint, types.UnionType):
        return types.UnionType, hint.__args__
    if isinstance(hint, _Union):
        return types.UnionType, hint.options
    origin = getattr(hint, "__origin__", None)
    return origin, tuple(getattr(hint, "__args__", ())) if origin is not None else ()


def _dataclass(cls: type, value: object, where: str) -> object:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a JSON object, got {value!r}")
    namespace = vars(sys.modules[cls.__module__])
    hints = {field.name: _resolve(field.type, namespace) for field in dataclasses.fields(cls)}
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    for key in value:
        if key not in fields:
            close = _closest(key, fields)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise ConfigError(
                f"{where}: unknown field {key!r}{hint}; expected {', '.join(sorted(fields))}"
            )
    arguments = {}
    for name, field in fields.items():
        if name in value:
            arguments[name] = _convert(hints[name], value[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: the field {name!r} is required")
    try:
        return cls(**arguments)
    except ConfigError:
        raise
    except ValueError as error:  # the dataclass's own checks, in __post_init__
        raise ConfigError(f"{where}: {error}") from None


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn ``a`` into ``b``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo of ``name`` most likely meant (without difflib: it costs the module
    about 0.1 MB), or None when none is close."""
    best = min(candidates, key=lambda candidate: _distance(name, candidate), default=None)
    if best is None or _distance(name, best) > max(1, len(best) // 3):
        return None
    return best


_TOKEN = re.compile(r"\s*([\w.]+|[\[\],|])")
_NAMES: dict[str, object] = {
    "str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict,
    "None": None, "Any": _ANY, "typing.Any": _ANY,
    "List": list, "typing.List": list, "Dict": dict, "typing.Dict": dict,
}
_OPTIONAL = ("Optional", "typing.Optional")


def _resolve(annotation: object, namespace: dict[str, object]) -> object:
    """Turn a string annotation into a type without ``eval``, which a built module lacks.

    Understands names, ``X | Y``, and subscripts such as ``list[str]`` or ``Optional[int]``.
    """
    if not isinstance(annotation, str):
        return annotation
    tokens = _TOKEN.findall(annotation)
    if "".join(tokens) != "".join(annotation.split()):
        raise ConfigError(f"the annotation {annotation!r} is not supported in configurations")
    position, value = _union(tokens, 0, namespace)
    if position != len(tokens):
        raise ConfigError(f"the annotation {annotation!r} is not supported in configurations")
    return value


def _union(tokens: list[str], position: int, namespace: dict[str, object]) -> tuple[int, object]:
    position, value = _primary(tokens, position, namespace)
    options = [value]
    while position < len(tokens) and tokens[position] == "|":
        position, other = _primary(tokens, position + 1, namespace)
        options.append(other)
    return position, value if len(options) == 1 else _Union(tuple(options))


def _primary(tokens: list[str], position: int, namespace: dict[str, object]) -> tuple[int, object]:
    name = tokens[position] if position < len(tokens) else ""
    if name in _OPTIONAL:
        value = None
    elif name in _NAMES:
        value = _NAMES[name]
    elif name in namespace:
        value = namespace[name]
    else:
        raise ConfigError(f"unknown type {name!r} in a configuration annotation")
    position += 1
    if position < len(tokens) and tokens[position] == "[":
        arguments = []
        while True:
            position, argument = _union(tokens, position + 1, namespace)
            arguments.append(argument)
            if position >= len(tokens):
                raise ConfigError("a configuration annotation has an unclosed '['")
            if tokens[position] == "]":
                break
            if tokens[position] != ",":
                raise ConfigError(f"unexpected {tokens[position]!r} in a configuration annotation")
        position += 1
        if name in _OPTIONAL and len(arguments) == 1:
            value = _Union((arguments[0], type(None)))
        else:
            value = value[tuple(arguments) if len(arguments) > 1 else arguments[0]]  # type: ignore[index]
    return position, type(None) if value is None else value
