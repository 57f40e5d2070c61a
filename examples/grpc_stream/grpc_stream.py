"""Talk to a bidirectional gRPC stream with the callback API, once per request.

Each request opens ``echo.Echo/Chat`` on the cluster ``grpc_echo``, sends its path as one
message and half-closes the stream. The stream's initial metadata, messages, trailing metadata
and close arrive in the ``on_grpc_stream_*`` callbacks; on close, the filter adds what it
heard as request headers and resumes the request.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, GrpcStatusCode, HttpContext


class GrpcStream(HttpContext):
    """Holds the request until the echo stream is finished."""

    def __init__(self, context_id: int, root_context_id: int) -> None:
        super().__init__(context_id, root_context_id)
        self.replies: list[bytes] = []
        self.metadata = b""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path = self.get_http_request_header(":path") or "/"
        stream = self.open_grpc_stream("grpc_echo", "echo.Echo", "Chat", [("x-from", b"wasm")])
        self.send_grpc_stream_message(stream, path.encode())
        self.send_grpc_stream_message(stream, b"bye", end_stream=True)
        return Action.PAUSE

    def on_grpc_stream_initial_metadata(self, token_id: int, num_elements: int) -> None:
        self.metadata = self.get_grpc_stream_initial_metadata_value("x-echo-server") or b""

    def on_grpc_stream_message(self, token_id: int, message_size: int) -> None:
        self.replies.append(self.get_grpc_stream_message(0, message_size) or b"")

    def on_grpc_stream_trailing_metadata(self, token_id: int, num_elements: int) -> None:
        count = self.get_grpc_stream_trailing_metadata_value("x-count") or b"?"
        proxywasm.log_info(f"echo stream trailers: x-count={count.decode()}")

    def on_grpc_stream_close(self, token_id: int, status_code: int) -> None:
        code, message = self.get_grpc_status()
        if status_code != GrpcStatusCode.OK:
            self.send_http_response(502, body=f"echo failed: {code} {message}\n".encode())
            return
        self.set_http_request_header("x-echo", b" | ".join(self.replies).decode())
        self.set_http_request_header("x-echo-server", self.metadata.decode())
        self.resume_http_request()


proxywasm.set_http_context(GrpcStream)
