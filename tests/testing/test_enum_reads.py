"""Enum class attributes read in a callback answer as in CPython, on both engines (the wasm
runtime reads them without 3.11's generic ``__getattr__`` hook, runtime/enums.c)."""

from __future__ import annotations

from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory


def test_enum_class_attributes_read_as_in_cpython(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "enum_reads.py")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"})
    headers = stream.request_headers
    assert headers.get("x-enum-member") == "<LogLevel.WARN: 3>"
    assert headers.get("x-enum-inherited") == "2"
    assert headers.get("x-enum-missing") == "AttributeError: NOPE"
    assert headers.get("x-enum-property-named") == "<Field.name: 1> <Field.value: 2>"
    assert headers.get("x-enum-own-getattr") == "<Shout.ONE: 1> TWO"
