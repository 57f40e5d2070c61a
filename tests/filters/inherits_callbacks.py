"""A filter overriding only request headers and on_log: the runtime answers the rest itself."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, LogLevel


class RequestOnly(HttpContext):
    """Tags the request, pauses /pause until its response, raises on /boom, logs each stream."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path = self.get_http_request_header(":path")
        if path == "/boom":
            raise RuntimeError("request headers failed")
        self.set_http_request_header("x-tagged", "yes")
        return Action.PAUSE if path == "/pause" else Action.CONTINUE

    def on_log(self) -> None:
        proxywasm.log(LogLevel.INFO, f"logged {self.get_http_request_header(':path')}")


proxywasm.set_http_context(RequestOnly)
