"""Starts a gRPC call and a gRPC stream, cancels both at once, and lets the request through."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext


class CancelEverything(HttpContext):
    """Any callback after a cancel would be a host bug: it logs one to make that visible."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        call = self.dispatch_grpc_call("grpc_auth", "auth.Auth", "Check", [], b"secret")
        self.cancel_grpc_call(call)
        stream = self.open_grpc_stream("grpc_auth", "echo.Echo", "Chat")
        self.cancel_grpc_stream(stream)
        proxywasm.log_info("cancelled a call and a stream")
        return Action.CONTINUE

    def on_grpc_call_response(self, token_id: int, status_code: int, response_size: int) -> None:
        proxywasm.log_error(f"unexpected gRPC call response {token_id}")

    def on_grpc_stream_close(self, token_id: int, status_code: int) -> None:
        proxywasm.log_error(f"unexpected gRPC stream close {token_id}")


proxywasm.set_http_context(CancelEverything)
