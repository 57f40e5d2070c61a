"""Deliberately broken: raises, returns a wrong type, or touches a header outside its phase."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


def parse(path: str) -> int:
    """Fail on purpose so the traceback has a frame in this file."""
    return int(path.strip("/"))


class Broken(HttpContext):
    """Each path breaks in its own way."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path = self.get_http_request_header(":path") or ""
        if path == "/raise":
            parse(path)
        if path == "/outside-phase":
            self.set_http_response_header("x-too-early", "yes")
        if path == "/wrong-type":
            return "continue"  # type: ignore[return-value]
        return Action.CONTINUE


proxywasm.set_http_context(Broken)
