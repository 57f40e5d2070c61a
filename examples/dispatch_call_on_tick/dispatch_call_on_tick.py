"""A plugin that calls a web service on a timer and logs each answer (the Go SDK's example).

``on_configure`` sets the tick period; every tick, ``on_tick`` (an ``async def``) sends
``GET /tick/<n>`` to the cluster ``web_service`` and awaits the answer, which the proxy reports
to the plugin (root) context. A tick does not wait for the previous tick's call: calls slower
than the period overlap. No request is involved, so the plugin works without traffic.
"""

from __future__ import annotations

from datetime import timedelta

import proxywasm
from proxywasm import HttpCallError, RootContext

PERIOD = timedelta(milliseconds=100)
UPSTREAM = "web_service"
"""The cluster the calls go to (in Nginx WasmX: the host, on port 80)."""


class TickCaller(RootContext):
    """Counts its calls; logs the status, headers and body size of each answer."""

    dispatched = 0

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.set_tick_period(PERIOD)
        proxywasm.log_info(f"calling {UPSTREAM} every {PERIOD.total_seconds():g} s")
        return True

    async def on_tick(self) -> None:
        self.dispatched += 1
        number = self.dispatched
        headers = [(":method", "GET"), (":path", f"/tick/{number}"), (":authority", UPSTREAM),
                   ("accept", "*/*")]
        try:
            response = await self.http_call(UPSTREAM, headers)
        except HttpCallError as error:
            proxywasm.log_warn(f"call {number}: {error}")
            return
        proxywasm.log_info(
            f"call {number}: {response.status} with {len(response.headers)} headers and "
            f"{len(response.body)} bytes"
        )
        for name, value in response.trailers:
            proxywasm.log_info(f"call {number} trailer {name}: {value}")


proxywasm.set_root_context(TickCaller)
