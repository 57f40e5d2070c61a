"""Log request and response headers, answer /hello locally, and tag every response.

The Python counterpart of the Rust SDK's http_headers example.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, LogLevel, RootContext


class HttpHeadersRoot(RootContext):
    """The plugin: creates one HttpHeaders context per request."""

    def create_http_context(self, context_id: int) -> HttpContext:
        return HttpHeaders(context_id, self.context_id)


class HttpHeaders(HttpContext):
    """Per-request work: log headers, answer /hello, add a response header."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        for name, value in self.get_http_request_headers():
            proxywasm.log(LogLevel.INFO, f"#{self.context_id} -> {name}: {value}")
        if self.get_http_request_header(":path") == "/hello":
            self.send_http_response(200, [("hello", "World"), ("powered-by", "proxy-wasm")],
                                    b"Hello, World\n")
            return Action.PAUSE
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        for name, value in self.get_http_response_headers():
            proxywasm.log(LogLevel.INFO, f"#{self.context_id} <- {name}: {value}")
        self.set_http_response_header("x-powered-by", "pywasm-filter")
        return Action.CONTINUE

    def on_log(self) -> None:
        proxywasm.log(LogLevel.INFO, f"#{self.context_id} completed.")


proxywasm.set_log_level(LogLevel.TRACE)
proxywasm.set_root_context(HttpHeadersRoot)
