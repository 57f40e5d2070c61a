"""A filter that raises on /boom but opts into failing open."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


class FailOpen(HttpContext):
    """Raises for /boom; the request goes on to the upstream anyway."""

    fail_open = True

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.get_http_request_header(":path") == "/boom":
            raise RuntimeError("failing open")
        return Action.CONTINUE


proxywasm.set_http_context(FailOpen)
