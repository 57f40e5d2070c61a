"""A filter WasmX cannot run: a gRPC call, a foreign function and request trailers."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


class GrpcProbe(HttpContext):
    """Calls a gRPC service on ``/grpc``, a foreign function on ``/foreign``; logs the request
    trailers it is given."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path = self.get_http_request_header(":path")
        if path == "/grpc":
            self.dispatch_grpc_call("grpc", "pkg.Service", "Check", [], b"ping")
            return Action.PAUSE
        if path == "/foreign":
            self.call_foreign_function("compress", b"data")
        return Action.CONTINUE

    def on_http_request_trailers(self, num_trailers: int) -> Action:
        proxywasm.log_info("request trailers seen")
        return Action.CONTINUE


proxywasm.set_http_context(GrpcProbe)
