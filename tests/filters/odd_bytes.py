"""Writes a request header's text everywhere a filter can write text, for the bytes tests.

``x-odd`` is read as str, so bytes that are not UTF-8 arrive as surrogate escapes; the filter
copies that str into headers, trailers, logs, ``print``, ``logging``, a local response and
callout and gRPC metadata, which must all carry the original bytes.
"""

from __future__ import annotations

import logging

import proxywasm
from proxywasm import Action, HttpContext, log_handler

logger = logging.getLogger("odd")
log_handler.install(logger)


class Echo(HttpContext):
    """Copies ``x-odd`` into every place text can go; the path picks the extras."""

    value = ""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.value = value = self.get_http_request_header("x-odd") or ""
        proxywasm.log_info(f"x-odd: {value}")
        print("printed:", value)
        logger.warning("logged: %s", value)
        self.set_http_request_header("x-copy", value)
        self.add_http_request_header("x-added", value)
        path = self.get_http_request_header(":path")
        if path == "/local":
            self.send_http_response(200, [("x-copy", value)], b"local\n")
            return Action.PAUSE
        if path == "/call":
            self.dispatch_http_call("backend", [(":method", "GET"), (":path", "/"),
                                                (":authority", "backend"), ("x-copy", value)])
            return Action.PAUSE
        if path == "/lone":  # a lone surrogate that stands for no byte: an error, as in Python
            self.set_http_request_header("x-lone", "\ud800")
        if path == "/grpc":
            self.dispatch_grpc_call("grpc", "echo.Echo", "Say", [("x-copy", value)], b"")
        return Action.CONTINUE

    def on_http_request_trailers(self, num_trailers: int) -> Action:
        self.set_http_request_trailer("x-copy", self.value)
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header("x-copy", self.value)
        self.set_http_response_header("x-upstream-copy",
                                      self.get_http_response_header("x-odd"))
        return Action.CONTINUE

    def on_http_response_trailers(self, num_trailers: int) -> Action:
        self.set_http_response_trailer("x-copy", self.value)
        return Action.CONTINUE

    def on_http_call_response(self, token_id: int, num_headers: int, body_size: int,
                              num_trailers: int) -> None:
        answer = self.get_http_call_response_header("x-odd") or ""
        proxywasm.log_info(f"call answered: {answer}")
        self.set_http_request_header("x-answer", answer)
        self.resume_http_request()


proxywasm.set_http_context(Echo)
