"""Waits for the whole request body, then answers with its size and SHA-256."""

from __future__ import annotations

import hashlib

import proxywasm
from proxywasm import Action, HttpContext


class WholeBody(HttpContext):
    """Holds the request until its body is complete, then answers it locally."""

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        body = self.whole_http_request_body(body_size, end_of_stream)
        if body is None:
            return Action.PAUSE
        self.send_http_response(200, [("x-body-size", str(len(body))),
                                      ("x-body-sha256", hashlib.sha256(body).hexdigest())])
        return Action.PAUSE

    def on_http_response_body(self, body_size: int, end_of_stream: bool) -> Action:
        body = self.whole_http_response_body(body_size, end_of_stream)
        if body is None:
            return Action.PAUSE
        self.set_http_response_body(0, body_size, body.upper())
        return Action.CONTINUE


proxywasm.set_http_context(WholeBody)
