"""The benchmark's Python filter: read one request header, add one response header."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, LogLevel, RootContext


class BenchRoot(RootContext):
    """Logs once when the VM starts, so the benchmark can time VM creation to first callback."""

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        proxywasm.log(LogLevel.INFO, "bench vm started")
        return True


class BenchHeaders(HttpContext):
    """Reads :path from the request and reports whether it was there in x-bench."""

    saw_path = False

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.saw_path = bool(self.get_http_request_header(":path"))
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header("x-bench", "path" if self.saw_path else "empty")
        return Action.CONTINUE


proxywasm.set_root_context(BenchRoot)
proxywasm.set_http_context(BenchHeaders)
