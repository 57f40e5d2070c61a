"""Append, prepend or replace the request or response body, as the request asks.

The Go SDK's ``http_body`` example in Python. Request headers choose what happens:

- ``buffer-operation: append | prepend | replace`` (absent: the bodies pass unchanged);
- ``buffer-replace-at: request | response`` (default ``request``): which body to change;
- ``buffer-replace-with: TEXT``: the text to add or put in place (a default per operation).

The body that changes is buffered whole first. Its length changes, so the filter drops the
``content-length`` header of that side: the proxy then sends the new body chunked (HTTP/1.1)
or framed (HTTP/2) instead of forwarding a stale length.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext

DEFAULT_TEXT = {
    "append": "[this is appended body]",
    "prepend": "[this is prepended body]",
    "replace": "[this is replaced body]",
}
SIDES = ("request", "response")


class BodyRewrite(HttpContext):
    """Reads the operation from the request headers, then rewrites the chosen body whole."""

    operation: str | None = None
    side: str = "request"
    text: bytes = b""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        operation = self.get_http_request_header("buffer-operation")
        if operation is None:
            return Action.CONTINUE
        side = self.get_http_request_header("buffer-replace-at") or "request"
        if operation not in DEFAULT_TEXT or side not in SIDES:
            self.send_http_response(400, body=(
                f"buffer-operation must be one of {', '.join(DEFAULT_TEXT)} and "
                f"buffer-replace-at one of {', '.join(SIDES)}\n").encode())
            return Action.PAUSE
        text = self.get_http_request_header_bytes("buffer-replace-with")
        self.operation, self.side = operation, side
        self.text = DEFAULT_TEXT[operation].encode() if text is None else text
        if side == "request":
            self.remove_http_request_header("content-length")
        return Action.CONTINUE

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        if self.operation is None or self.side != "request":
            return Action.CONTINUE
        body = self.whole_http_request_body(body_size, end_of_stream)
        if body is None:
            return Action.PAUSE
        self.set_http_request_body(*self.edit(len(body)))
        proxywasm.log_info(f"{self.operation} on the request body: {len(body)} bytes before")
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.operation is not None and self.side == "response":
            self.remove_http_response_header("content-length")
        return Action.CONTINUE

    def on_http_response_body(self, body_size: int, end_of_stream: bool) -> Action:
        if self.operation is None or self.side != "response":
            return Action.CONTINUE
        body = self.whole_http_response_body(body_size, end_of_stream)
        if body is None:
            return Action.PAUSE
        self.set_http_response_body(*self.edit(len(body)))
        proxywasm.log_info(f"{self.operation} on the response body: {len(body)} bytes before")
        return Action.CONTINUE

    def edit(self, size: int) -> tuple[int, int, bytes]:
        """The (start, size, value) of the buffer change: prepend at 0 replacing nothing,
        append at the end, replace all ``size`` bytes from 0."""
        if self.operation == "prepend":
            return 0, 0, self.text
        if self.operation == "append":
            return size, 0, self.text
        return 0, size, self.text


proxywasm.set_http_context(BodyRewrite)
