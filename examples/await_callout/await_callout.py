"""Authorize each request with an awaited HTTP callout: the same filter as http_auth, linear.

``async def`` callbacks may ``await self.http_call(...)``. The SDK pauses the request while the
call is in flight and resumes the coroutine with the ``HttpResponse``; what the coroutine
returns decides the request (CONTINUE resumes it, PAUSE leaves it to the local response).
"""

from __future__ import annotations

from datetime import timedelta

import proxywasm
from proxywasm import Action, HttpCallError, HttpContext


class AwaitAuth(HttpContext):
    """Asks the auth service, then the profile service, before letting the request through."""

    async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        credentials = self.get_http_request_header("authorization") or ""
        try:
            auth = await self.http_call(
                "auth",
                [
                    (":method", "GET"),
                    (":path", "/check"),
                    (":authority", "auth"),
                    ("authorization", credentials),
                ],
                timeout=timedelta(seconds=2),
            )
        except HttpCallError as error:
            proxywasm.log_warn(str(error))
            auth = None
        if auth is None or auth.status >= 500:
            self.send_http_response(503, body=b"auth service unavailable\n")
            return Action.PAUSE
        if auth.status != 200:
            self.send_http_response(403, body=b"access denied\n")
            return Action.PAUSE
        user = auth.body.decode()
        profile = await self.http_call(
            "auth", [(":method", "GET"), (":path", f"/profile/{user}"), (":authority", "auth")]
        )
        self.set_http_request_header("x-user", user)
        self.set_http_request_header("x-plan", profile.body.decode())
        return Action.CONTINUE


proxywasm.set_http_context(AwaitAuth)
