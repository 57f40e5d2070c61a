"""A filter that stops in the debugger, to show breakpoints work in the source engine."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


class Breaks(HttpContext):
    """Enters pdb on the request headers."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        breakpoint()
        return Action.CONTINUE


proxywasm.set_http_context(Breaks)
