"""Authorize each request with an HTTP callout, the classic callback way.

The Python counterpart of the Rust SDK's http_auth_random example: the request waits
(``Action.PAUSE``) while the cluster ``auth`` is asked; its answer either resumes the request,
with the user the service named, or ends it with a local 403. No answer at all
(``num_headers == 0``) or a 5xx from the service (Envoy answers 503 itself when it cannot
connect) ends it with a 503.
"""

from __future__ import annotations

from datetime import timedelta

import proxywasm
from proxywasm import Action, HttpContext


class HttpAuth(HttpContext):
    """Forwards the request's ``authorization`` header to the auth service."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        credentials = self.get_http_request_header("authorization") or ""
        self.dispatch_http_call(
            "auth",
            [
                (":method", "GET"),
                (":path", "/check"),
                (":authority", "auth"),
                ("authorization", credentials),
            ],
            timeout=timedelta(seconds=2),
        )
        return Action.PAUSE

    def on_http_call_response(
        self, token_id: int, num_headers: int, body_size: int, num_trailers: int
    ) -> None:
        status = self.get_http_call_response_header(":status") if num_headers else None
        if status is None or status.startswith("5"):
            proxywasm.log_warn(f"the auth service failed ({status or 'no response'}); denying")
            self.send_http_response(503, body=b"auth service unavailable\n")
            return
        if status != "200":
            self.send_http_response(403, body=b"access denied\n")
            return
        user = (self.get_http_call_response_body(0, body_size) or b"").decode()
        self.set_http_request_header("x-user", user)
        self.resume_http_request()


proxywasm.set_http_context(HttpAuth)
