"""``held_requests`` with the tick acting on each request (``with self.acting_on(request)``),
as Envoy needs it."""

from __future__ import annotations

from held_requests import Held, Holder

import proxywasm


class ActingHolder(Holder):
    """Makes each request the effective context while it acts on it."""

    def release(self, request: Held) -> None:
        with self.acting_on(request):
            super().release(request)


proxywasm.set_root_context(ActingHolder)
