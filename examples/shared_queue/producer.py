"""The producing side of a shared queue: every request's method and path go to the collector.

The queue belongs to the plugin whose VM id is ``collector`` (collector.py); this plugin runs in
its own VM and finds the queue by VM id and name.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext

COLLECTOR_VM = "collector"
QUEUE = "requests"


class Producer(HttpContext):
    """Enqueues one line per request."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        queue = self.resolve_shared_queue(COLLECTOR_VM, QUEUE)
        if queue is None:
            proxywasm.log_warn(
                f"no queue {QUEUE!r} in VM {COLLECTOR_VM!r}; is the collector loaded?"
            )
            return Action.CONTINUE
        method = self.get_http_request_header(":method") or "?"
        path = self.get_http_request_header(":path") or "?"
        self.enqueue_shared_queue(queue, f"{method} {path}".encode())
        return Action.CONTINUE


proxywasm.set_http_context(Producer)
