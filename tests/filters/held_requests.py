"""A root context that holds every request until its next tick and then acts on each one from
``on_tick``, for the effective-context tests (``tick_resumes``, ``acting_on``). The plugin
configuration says what the tick does to a request before resuming it: ``read`` copies its
``:path`` into ``x-seen``, ``set`` sets ``x-seen: yes``, ``resume`` nothing. The tick then
dispatches a call of its own."""

from __future__ import annotations

from datetime import timedelta

from proxywasm import Action, HttpContext, RootContext


class Holder(RootContext):
    """Holds every request until the next tick."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[Held] = []
        self.mode = ""

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.mode = (self.get_plugin_configuration() or b"").decode()
        self.set_tick_period(timedelta(seconds=1))
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return Held(context_id, self)

    def on_tick(self) -> None:
        held, self.held = self.held, []
        for request in held:
            self.release(request)
        self.dispatch_http_call("ticks", [(":method", "GET"), (":path", "/tick"),
                                          (":authority", "ticks")])

    def release(self, request: Held) -> None:
        """Change and resume ``request``: these host calls act on the effective context."""
        if self.mode == "read":
            request.set_http_request_header("x-seen",
                                            request.get_http_request_header(":path") or "")
        elif self.mode == "set":
            request.set_http_request_header("x-seen", "yes")
        request.resume_http_request()


class Held(HttpContext):
    """Pauses until the plugin's tick resumes it."""

    def __init__(self, context_id: int, plugin: Holder) -> None:
        super().__init__(context_id, plugin.context_id)
        self.plugin = plugin

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.plugin.held.append(self)
        return Action.PAUSE
