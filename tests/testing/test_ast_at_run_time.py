"""`ast` nodes made inside a callback work in a built module, whose AST type setup is cut."""

from __future__ import annotations

from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory


def test_ast_nodes_made_in_a_callback_work(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "ast_nodes.py")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/x"})
    assert stream.local_response is not None
    assert dict(stream.local_response.headers)["x-ast"] == "Name(id='/x', ctx=Load())"
