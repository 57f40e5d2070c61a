"""A filter whose request callback raises on /boom (fails closed, the default)."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


def check(path: str | None) -> None:
    """Raise for /boom so the traceback has a frame of its own."""
    if path == "/boom":
        raise ValueError("boom requested")
    if path == "/recurse":
        recurse(0)


def recurse(depth: int) -> int:
    """Recurse without end: a RecursionError, not a crash of the VM."""
    return recurse(depth + 1) + 1


class Raises(HttpContext):
    """Raises from on_http_request_headers for one path."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        check(self.get_http_request_header(":path"))
        return Action.CONTINUE


proxywasm.set_http_context(Raises)
