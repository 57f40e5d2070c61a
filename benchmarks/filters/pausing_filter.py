"""A filter that holds every request: reads ``:path``, keeps it on the context, pauses."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


class Held(HttpContext):
    """Pauses the request after reading one header, as a filter awaiting a callout would."""

    path = ""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.path = self.get_http_request_header(":path") or ""
        return Action.PAUSE


proxywasm.set_http_context(Held)
