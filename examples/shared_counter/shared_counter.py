"""Count requests across all worker threads with shared data and compare-and-swap.

Every worker runs its own copy of the VM; the only state they share is the proxy's shared data.
Each request increments the key ``hits`` with ``update_shared_data``, which retries when
another worker changed the value in between (``CasMismatchError``), so no increment is lost.
The count this request produced is returned as ``x-hits``.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, RootContext

KEY = "hits"


def _increment(value: bytes | None) -> bytes:
    return str(int(value or b"0") + 1).encode()


class CounterRoot(RootContext):
    """Creates the key once, before any worker serves traffic."""

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        if self.get_shared_data(KEY)[0] is None:
            self.set_shared_data(KEY, b"0")
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return CountRequest(context_id, self.context_id)


class CountRequest(HttpContext):
    """Increments the shared count and remembers the value it stored."""

    hits = b""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.hits = self.update_shared_data(KEY, _increment)
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header("x-hits", self.hits.decode())
        return Action.CONTINUE


proxywasm.set_root_context(CounterRoot)
