"""A filter that reads enum class attributes at run time, each kind the runtime's fast path for
enums (runtime/enums.c) must answer as CPython does, and writes what it read to headers."""

from __future__ import annotations

from enum import Enum, EnumType, IntEnum

import proxywasm
from proxywasm import Action, HttpContext, LogLevel


class Field(IntEnum):
    """Members named like the properties every member has."""

    name = 1
    value = 2


class Loud(EnumType):
    """A metaclass with a ``__getattr__`` of its own."""

    def __getattr__(cls, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        return name.upper()


class Shout(Enum, metaclass=Loud):
    """Unknown attributes read as their name in capitals."""

    ONE = 1


class EnumReads(HttpContext):
    """Sets one x-enum-* request header per kind of read."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        missing = "absent"
        try:
            missing = str(Action.NOPE)  # type: ignore[attr-defined]
        except AttributeError as error:
            missing = f"AttributeError: {error}"
        self.set_http_request_header("x-enum-member", repr(LogLevel.WARN))
        self.set_http_request_header("x-enum-inherited", str(LogLevel.from_bytes(b"\x02", "big")))
        self.set_http_request_header("x-enum-missing", missing)
        self.set_http_request_header("x-enum-property-named", f"{Field.name!r} {Field.value!r}")
        self.set_http_request_header("x-enum-own-getattr", f"{Shout.ONE!r} {Shout.two}")
        return Action.CONTINUE


proxywasm.set_http_context(EnumReads)
