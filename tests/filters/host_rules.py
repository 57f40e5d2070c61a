"""Probes Envoy's rules: which header maps a callback can read, failed calls, gRPC replies.

Each probe logs ``what: <result>`` or ``what: <exception class>`` (see statuses.py).
"""

from __future__ import annotations

from collections.abc import Callable

import proxywasm
from proxywasm import Action, GrpcStatusCode, HttpContext, hostcalls


def outcome(name: str, call: Callable[[], object]) -> None:
    """Log ``name: <result>`` or ``name: <exception class>``."""
    try:
        result = call()
    except proxywasm.HostCallError as error:
        proxywasm.log_info(f"{name}: {type(error).__name__}")
        return
    proxywasm.log_info(f"{name}: {result!r}")


class Probe(HttpContext):
    """/hold keeps the request headers, /call makes an HTTP call, /grpc-* and /http-* reply."""

    path = ""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.path = self.get_http_request_header(":path") or ""
        if self.path == "/call":
            self.dispatch_http_call("auth", [(":method", "GET"), (":path", "/"),
                                             (":authority", "auth")])
            return Action.PAUSE
        if self.path == "/grpc-unavailable":
            self.send_grpc_response(GrpcStatusCode.UNAVAILABLE, "down\n100% é")
            return Action.PAUSE
        if self.path == "/http-403":
            self.send_http_response(403, [("x-why", "policy")], b"no")
            return Action.PAUSE
        return Action.PAUSE if self.path == "/hold" else Action.CONTINUE

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        outcome("request header in body", lambda: self.get_http_request_header(":path"))
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        outcome("request header in response", lambda: self.get_http_request_header(":path"))
        return Action.CONTINUE

    def on_http_response_body(self, body_size: int, end_of_stream: bool) -> Action:
        outcome("response header in body", lambda: self.get_http_response_header(":status"))
        return Action.CONTINUE

    def on_http_call_response(
        self, token_id: int, num_headers: int, body_size: int, num_trailers: int
    ) -> None:
        outcome("call headers", self.get_http_call_response_headers)
        outcome("call body", lambda: self.get_http_call_response_body(0, body_size))
        outcome("call status", hostcalls.get_grpc_status)
        self.resume_http_request()
        outcome("request header after resume", lambda: self.get_http_request_header(":path"))

    def on_log(self) -> None:
        outcome("request header in log", lambda: self.get_http_request_header(":path"))
        outcome("response header in log", lambda: self.get_http_response_header(":status"))


proxywasm.set_http_context(Probe)
