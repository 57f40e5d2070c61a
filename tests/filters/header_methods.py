"""A filter that uses the header methods every way a user can reach them (called on the
context, read first, read from the class, by keyword) and writes what they gave to headers."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


class HeaderMethods(HttpContext):
    """Copies the request's x-in into x-out-* request headers, one per way of calling."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        value = self.get_http_request_header("x-in") or "none"
        self.set_http_request_header("x-out-called", value)
        read = self.get_http_request_header
        self.add_http_request_header("x-out-read", str(read("x-in")))
        HeaderMethods.set_http_request_header("x-out-class", value)
        self.set_http_request_header(value=value, name="x-out-keywords")
        return Action.CONTINUE


proxywasm.set_http_context(HeaderMethods)
