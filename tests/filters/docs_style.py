"""A filter written from the guide in the Rust style: the root comes from a lambda that drops
the id and has an ``__init__`` without ``super().__init__()``; the per-request context is made
with ``Tagger(self.tag)`` and its ``__init__`` calls ``super().__init__()`` without ids."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, RootContext


class Root(RootContext):
    """Reads the tag from the plugin configuration."""

    def __init__(self) -> None:
        self.tag = "default"

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.tag = (self.get_plugin_configuration() or b"default").decode()
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return Tagger(self.tag)


class Tagger(HttpContext):
    """Tags the response, and says which root and stream it belongs to."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header("x-tag", self.tag)
        self.set_http_response_header("x-tag-ids", f"{self.context_id} {self.root_context_id}")
        return Action.CONTINUE


proxywasm.set_root_context(lambda context_id: Root())
