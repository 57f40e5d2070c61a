"""The collecting side of a shared queue: one plugin gathers what other plugins enqueue.

Its root context registers the queue ``requests`` in its VM (``vm_id: collector``) and, on
``on_queue_ready``, drains it and logs each item. Any plugin in the proxy can find the queue
with ``resolve_shared_queue("collector", "requests")`` (see producer.py).
"""

from __future__ import annotations

import proxywasm
from proxywasm import HttpContext, RootContext

QUEUE = "requests"


class Collector(RootContext):
    """Owns the queue and logs what arrives."""

    collected = 0

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        self.register_shared_queue(QUEUE)
        return True

    def on_queue_ready(self, queue_id: int) -> None:
        item = self.dequeue_shared_queue(queue_id)
        while item is not None:
            self.collected += 1
            proxywasm.log_info(f"collected #{self.collected}: {item.decode()}")
            item = self.dequeue_shared_queue(queue_id)

    def create_http_context(self, context_id: int) -> HttpContext:
        """Loaded as an HTTP filter, the collector lets every request pass untouched."""
        return HttpContext(context_id, self.context_id)


proxywasm.set_root_context(Collector)
