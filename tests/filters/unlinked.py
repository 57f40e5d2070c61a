"""Calls host functions its build does not link: one hidden from the build, one WasmX lacks."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HostCallUnavailableError, HttpContext, hostcalls
from proxywasm.types import StreamType


class Probe(HttpContext):
    """Reports each unavailable host call in a request header instead of trapping."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        hidden = getattr(hostcalls, "get_shared" + "_data")  # the build cannot see this use
        try:
            hidden("key")
        except HostCallUnavailableError as error:
            self.set_http_request_header("x-hidden", str(error))
        try:
            getattr(hostcalls, "close" + "_stream")(StreamType.HTTP_REQUEST)
        except HostCallUnavailableError as error:
            self.set_http_request_header("x-close", str(error))
        return Action.CONTINUE


proxywasm.set_http_context(Probe)
