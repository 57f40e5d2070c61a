"""Host features beyond headers: Envoy's foreign functions, log level, sizes, resets.

- ``GET /compress`` with an ``x-payload`` header answers locally with the payload compressed by
  Envoy's ``compress`` foreign function (zlib), after checking that ``uncompress`` restores it.
- Every response carries ``x-log-level`` (the proxy's log level for this plugin) and
  ``x-request-header-bytes`` (``get_header_map_size`` of the request headers).
- A ``POST`` routed to an upstream reports ``x-body-buffered`` (``get_buffer_status`` of the
  request body, buffered by pausing until its end).
- ``GET /reset`` is reset by the filter when the response starts (``reset_http_response``).
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, BufferType, HttpContext, MapType, hostcalls


class HostFeatures(HttpContext):
    """Shows one host feature per request path."""

    path = ""
    header_bytes = 0
    body_buffered = -1

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.header_bytes = hostcalls.get_map_size(MapType.HTTP_REQUEST_HEADERS)
        self.path = self.get_http_request_header(":path") or ""
        if self.path == "/compress":
            payload = (self.get_http_request_header("x-payload") or "").encode()
            compressed = self.call_foreign_function("compress", payload) or b""
            restored = self.call_foreign_function("uncompress", compressed)
            if restored != payload:
                self.send_http_response(500, body=b"compress/uncompress did not round-trip\n")
                return Action.PAUSE
            self.send_http_response(200, [("content-type", "application/zlib")], compressed)
            return Action.PAUSE
        return Action.CONTINUE

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        if not end_of_stream:
            return Action.PAUSE
        self.body_buffered = hostcalls.get_buffer_status(BufferType.HTTP_REQUEST_BODY)[0]
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.path == "/reset":  # request headers are not readable in response callbacks
            proxywasm.log_info("resetting /reset as asked")
            self.reset_http_response()
            return Action.PAUSE
        self.set_http_response_header("x-log-level", hostcalls.get_log_level().name)
        self.set_http_response_header("x-request-header-bytes", str(self.header_bytes))
        if self.body_buffered >= 0:
            self.set_http_response_header("x-body-buffered", str(self.body_buffered))
        return Action.CONTINUE


proxywasm.set_http_context(HostFeatures)
