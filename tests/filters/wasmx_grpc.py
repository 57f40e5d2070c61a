"""A filter WasmX cannot run: it makes a gRPC call and reads request trailers."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


class GrpcProbe(HttpContext):
    """Calls a gRPC service on ``/grpc``; logs the request trailers it is given."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.get_http_request_header(":path") == "/grpc":
            self.dispatch_grpc_call("grpc", "pkg.Service", "Check", [], b"ping")
            return Action.PAUSE
        return Action.CONTINUE

    def on_http_request_trailers(self, num_trailers: int) -> Action:
        proxywasm.log_info("request trailers seen")
        return Action.CONTINUE


proxywasm.set_http_context(GrpcProbe)
