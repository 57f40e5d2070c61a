"""Counts requests in a module-level list, to show each emulator host imports a fresh copy."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext

SEEN: list[str] = []


class Counting(HttpContext):
    """Appends each request path to SEEN and reports the count in a header."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        SEEN.append(self.get_http_request_header(":path") or "")
        self.set_http_request_header("x-count", str(len(SEEN)))
        print(f"seen {len(SEEN)}")
        return Action.CONTINUE


proxywasm.set_http_context(Counting)
