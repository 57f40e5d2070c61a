"""Header methods act on their map however a filter calls them, on both engines, also once
CPython runs the callback quickened (inside a proxy they are `_proxywasm.context_method`s)."""

from __future__ import annotations

from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory


def test_header_methods_act_on_their_map_every_way_they_are_called(
        proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "header_methods.py")
    assert host.start()
    # CPython 3.11 specializes a function's bytecode from about its eighth call on.
    for request in range(12):
        stream = host.new_http_stream()
        stream.send_request_headers({":path": "/", "x-in": f"v{request}"})
        headers = stream.request_headers
        assert [headers.get(f"x-out-{way}") for way in ("called", "read", "class", "keywords")] \
            == [f"v{request}"] * 4
