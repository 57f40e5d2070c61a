"""A filter that compiles source or imports a built-in module at run time, by path."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext

# Compiled here, at build time: running it later needs no compiler.
DOUBLE = compile("value * 2", "<double>", "eval")


class RuntimeCode(HttpContext):
    """/eval compiles source now, /code runs build-time code, /import imports errno now."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path = self.get_http_request_header(":path")
        if path == "/eval":
            eval("1 + 1")
        elif path == "/import":
            __import__("errno")
        elif path == "/code":
            self.send_http_response(200, [("x-double", str(eval(DOUBLE, {"value": 21})))], b"")
            return Action.PAUSE
        return Action.CONTINUE


proxywasm.set_http_context(RuntimeCode)
