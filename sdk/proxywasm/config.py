"""Typed plugin configuration: load JSON into a dataclass, with errors that name the field.

Typical use, in ``on_configure``::

    @dataclass
    class Settings:
        header: str
        limit: int = 10

    def on_configure(self, size: int) -> bool:
        try:
            self.settings = proxywasm.config.load(Settings, self.get_plugin_configuration())
        except proxywasm.config.ConfigError as error:
            proxywasm.log_error(str(error))
            return False  # Envoy refuses the configuration
        return True
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import sys
import types
import typing

T = typing.TypeVar("T")

_SCALARS: dict[type, str] = {str: "a string", bool: "true or false", int: "an integer"}


class ConfigError(ValueError):
    """The configuration is not valid JSON or does not match the dataclass."""


def load(cls: type[T], data: bytes | str | None) -> T:
    """Parse the JSON object ``data`` into the dataclass ``cls``; raise ConfigError if it is bad."""
    if not data:
        data = b"{}"
    try:
        value = json.loads(data)
    except ValueError as error:
        raise ConfigError(f"the plugin configuration is not valid JSON: {error}") from None
    return typing.cast("T", _convert(cls, value, "configuration"))


def _convert(hint: object, value: object, where: str) -> object:
    """Check ``value`` against the type ``hint`` and build dataclasses, recursively."""
    origin = typing.get_origin(hint)
    if hint is typing.Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
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
        (item,) = typing.get_args(hint) or (typing.Any,)
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return [_convert(item, element, f"{where}[{i}]") for i, element in enumerate(value)]
    if origin is dict:
        _, item = typing.get_args(hint) or (str, typing.Any)
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


def _dataclass(cls: type, value: object, where: str) -> object:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a JSON object, got {value!r}")
    namespace = vars(sys.modules[cls.__module__])
    hints = {field.name: _resolve(field.type, namespace) for field in dataclasses.fields(cls)}
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    for key in value:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{where}: unknown field {key!r}{hint}; expected {', '.join(sorted(fields))}"
            )
    arguments = {}
    for name, field in fields.items():
        if name in value:
            arguments[name] = _convert(hints[name], value[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: the field {name!r} is required")
    return cls(**arguments)


_TOKEN = re.compile(r"\s*([\w.]+|[\[\],|])")
_NAMES: dict[str, object] = {
    "str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict,
    "None": None, "Any": typing.Any, "typing.Any": typing.Any,
    "List": list, "typing.List": list, "Dict": dict, "typing.Dict": dict,
    "Optional": typing.Optional, "typing.Optional": typing.Optional,
}


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
    while position < len(tokens) and tokens[position] == "|":
        position, other = _primary(tokens, position + 1, namespace)
        value = typing.Union[value, other]  # noqa: UP007 (built from parsed parts)
    return position, value


def _primary(tokens: list[str], position: int, namespace: dict[str, object]) -> tuple[int, object]:
    name = tokens[position] if position < len(tokens) else ""
    if name in _NAMES:
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
        value = value[tuple(arguments) if len(arguments) > 1 else arguments[0]]  # type: ignore[index]
    return position, type(None) if value is None else value
