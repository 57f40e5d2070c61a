"""A filter that makes and dumps `ast` nodes in a callback (their types were made at build)."""

from __future__ import annotations

import ast

import proxywasm
from proxywasm import Action, HttpContext


class AstNodes(HttpContext):
    """Answers with the dump of a node built from the request's path."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        node = ast.Name(id=self.get_http_request_header(":path") or "", ctx=ast.Load())
        self.send_http_response(200, [("x-ast", ast.dump(node))], b"")
        return Action.PAUSE


proxywasm.set_http_context(AstNodes)
