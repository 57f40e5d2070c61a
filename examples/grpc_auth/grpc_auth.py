"""Authorize each request with an awaited unary gRPC call (the Rust grpc_auth_random idea).

The request's ``x-token`` header is sent as the message of ``auth.Auth/Check`` on the cluster
``grpc_auth``. A successful answer carries the user name, which the filter adds as ``x-user``;
a gRPC error status becomes a local 403 that names it. Messages are raw bytes here; a real
service would encode protobuf (see the guide).
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, GrpcCallError, HttpContext


class GrpcAuth(HttpContext):
    """Checks the token with the gRPC auth service before the request goes on."""

    async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        token = (self.get_http_request_header("x-token") or "").encode()
        try:
            response = await self.grpc_call("grpc_auth", "auth.Auth", "Check", token)
        except GrpcCallError as error:
            self.send_http_response(
                403,
                [("x-grpc-status", str(error.status_code))],
                f"denied: {error.status_message}\n".encode(),
            )
            return Action.PAUSE
        self.set_http_request_header("x-user", response.message.decode())
        return Action.CONTINUE


proxywasm.set_http_context(GrpcAuth)
