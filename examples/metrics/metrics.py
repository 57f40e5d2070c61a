"""Typed metrics with labels that Envoy turns into tags.

``REQUESTS`` counts responses by method and status, ``IN_FLIGHT`` tracks requests being
served, and ``BODY_SIZE`` records response body sizes. Declared once at module level, each is
defined in the proxy on first use. ``python -c 'import metrics; print(metrics.stats_tags())'``
prints the ``stats_tags`` to put in Envoy's bootstrap so the labels become real tags.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, Counter, Gauge, Histogram, HttpContext

REQUESTS = Counter("pyfilter_requests", labels=("method", "status"))
IN_FLIGHT = Gauge("pyfilter_in_flight")
BODY_SIZE = Histogram("pyfilter_response_body_bytes")


def stats_tags() -> list[dict[str, str]]:
    """The Envoy ``stats_config.stats_tags`` entries for this filter's labels."""
    return REQUESTS.stats_tags()


class Measure(HttpContext):
    """Updates the three metrics as the request goes through."""

    method = "?"
    status = "?"
    body_bytes = 0

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.method = self.get_http_request_header(":method") or "?"
        IN_FLIGHT.increment(1)
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.status = self.get_http_response_header(":status") or "?"
        self.set_http_response_header(
            "x-requests-so-far", str(REQUESTS.get(self.method, self.status) + 1)
        )
        return Action.CONTINUE

    def on_http_response_body(self, body_size: int, end_of_stream: bool) -> Action:
        self.body_bytes += body_size
        return Action.CONTINUE

    def on_log(self) -> None:
        REQUESTS.increment(1, self.method, self.status)
        IN_FLIGHT.increment(-1)
        BODY_SIZE.record(self.body_bytes)


proxywasm.set_http_context(Measure)
