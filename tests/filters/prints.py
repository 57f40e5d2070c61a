"""A filter that talks through print() and sys.stderr, and draws random numbers."""

from __future__ import annotations

import random
import sys

import proxywasm
from proxywasm import Action, HttpContext


class Prints(HttpContext):
    """Prints the path and a random number, and writes one line to stderr."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        print("printed path", self.get_http_request_header(":path"))
        print("random", random.randrange(10**12))
        sys.stderr.write("to stderr\n")
        return Action.CONTINUE


proxywasm.set_http_context(Prints)
