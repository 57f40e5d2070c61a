"""Fan out: each request dispatches ten HTTP calls at once and waits until all have answered.

The Go SDK's multiple_dispatches, with ``proxywasm.gather`` instead of a counter of pending
calls: the ten calls are in flight together, the coroutine resumes once, with every answer
(a failed call's ``HttpCallError`` in its place, ``return_exceptions=True``), and the response
tells the client how many were dispatched and how many answered 200.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, HttpResponse

DISPATCHES = 10
UPSTREAM = "httpbin"
"""The cluster the calls go to (in Nginx WasmX: the host, on port 80)."""


class FanOut(HttpContext):
    """Holds the request while the calls are in flight; reports them on the response."""

    succeeded = 0

    async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        calls = [
            self.http_call(UPSTREAM, [(":method", "GET"), (":path", f"/dispatch/{number}"),
                                      (":authority", UPSTREAM)])
            for number in range(DISPATCHES)
        ]
        results = await proxywasm.gather(*calls, return_exceptions=True)
        self.succeeded = sum(
            isinstance(result, HttpResponse) and result.status == 200 for result in results
        )
        for result in results:
            if not isinstance(result, HttpResponse):
                proxywasm.log_warn(str(result))
        proxywasm.log_info(
            f"request resumed after {DISPATCHES} dispatched calls, {self.succeeded} answered 200"
        )
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header("total-dispatched", str(DISPATCHES))
        self.set_http_response_header("dispatches-succeeded", str(self.succeeded))
        return Action.CONTINUE


proxywasm.set_http_context(FanOut)
