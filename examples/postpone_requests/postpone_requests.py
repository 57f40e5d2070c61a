"""Delay every request until the plugin's next tick (the Go SDK's postpone_requests).

``on_http_request_headers`` returns PAUSE and leaves the request with the plugin (root)
context; once a second, ``on_tick`` resumes every request waiting, acting on each one
(``with self.acting_on(request)``: a tick belongs to the plugin, and host calls act on the
context the proxy made effective, not on the object whose method is called). The upstream sees
how long its request waited in ``x-postponed-ms``. A request whose client left is forgotten
(``on_done``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import proxywasm
from proxywasm import Action, HttpContext, RootContext

PERIOD = timedelta(seconds=1)


class Postponer(RootContext):
    """Keeps the requests waiting for the next tick, and resumes them on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, PostponedRequest] = {}

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.set_tick_period(PERIOD)
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return PostponedRequest(context_id, self)

    def on_tick(self) -> None:
        now = self.get_current_time()
        waiting, self.waiting = self.waiting, {}
        for context_id, request in waiting.items():
            proxywasm.log_info(f"resume request with context id {context_id}")
            with self.acting_on(request):
                request.resume(now)


class PostponedRequest(HttpContext):
    """Pauses on its headers until the plugin resumes it."""

    since: datetime

    def __init__(self, context_id: int, plugin: Postponer) -> None:
        super().__init__(context_id, plugin.context_id)
        self.plugin = plugin

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        proxywasm.log_info(f"postpone request with context id {self.context_id}")
        self.since = self.get_current_time()
        self.plugin.waiting[self.context_id] = self
        return Action.PAUSE

    def resume(self, now: datetime) -> None:
        """Tell the upstream how long the request waited, and let it go."""
        waited = (now - self.since) // timedelta(milliseconds=1)
        self.set_http_request_header("x-postponed-ms", str(waited))
        self.resume_http_request()

    def on_done(self) -> bool:
        self.plugin.waiting.pop(self.context_id, None)
        return True


proxywasm.set_root_context(Postponer)
