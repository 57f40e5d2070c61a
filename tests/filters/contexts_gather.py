"""Awaits calls together with ``proxywasm.gather``; mypy --strict checks the inferred types.

The request path picks the case: ``/mixed`` gathers an HTTP and a gRPC call (a failure raises),
``/settled`` three HTTP calls with ``return_exceptions=True``, ``/then`` a gather followed by
another await. The results go to the upstream as ``x-results``.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, CalloutError, GrpcResponse, HttpContext, HttpResponse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import assert_type


def call_headers(path: str) -> list[tuple[str, str]]:
    """The headers of a GET ``path`` to the service."""
    return [(":method", "GET"), (":path", path), (":authority", "service")]


class Gather(HttpContext):
    """Fans out on the request headers and reports what came back."""

    async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path = self.get_http_request_header(":path")
        if path == "/mixed":
            try:
                response, reply = await proxywasm.gather(
                    self.http_call("service", call_headers("/a")),
                    self.grpc_call("grpc", "auth.Auth", "Check", b"token"),
                )
            except CalloutError as error:
                self.send_http_response(502, body=str(error).encode())
                return Action.PAUSE
            if TYPE_CHECKING:
                assert_type(response, HttpResponse)
                assert_type(reply, GrpcResponse)
            results = f"{response.status} {reply.message.decode()}"
        elif path == "/settled":
            settled = await proxywasm.gather(
                *(self.http_call("service", call_headers(f"/{n}")) for n in range(3)),
                return_exceptions=True,
            )
            if TYPE_CHECKING:
                assert_type(settled, tuple[HttpResponse | CalloutError, ...])
            results = " ".join(
                str(item.status) if isinstance(item, HttpResponse) else type(item).__name__
                for item in settled
            )
        elif path == "/then":
            first, second = await proxywasm.gather(
                self.http_call("service", call_headers("/a")),
                self.http_call("service", call_headers("/b")),
            )
            third = await self.http_call("service", call_headers("/c"))
            results = b" ".join([first.body, second.body, third.body]).decode()
        else:
            return Action.CONTINUE
        self.set_http_request_header("x-results", results)
        return Action.CONTINUE


proxywasm.set_http_context(Gather)
