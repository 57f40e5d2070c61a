"""A filter that meets one Envoy/WasmX difference per request path, for the host-profile tests.

It uses nothing WasmX lacks, so its default build loads in both profiles
(``wasmx_envoy_only`` is the Envoy-only counterpart). A plugin configuration of ``fail``
makes on_configure refuse; ``tick twice`` sets a tick period twice.
"""

from __future__ import annotations

from datetime import timedelta

import proxywasm
from proxywasm import Action, HttpContext, MetricType, RootContext, hostcalls


class ProbeRoot(RootContext):
    """Refuses the configuration ``fail``; registers the queue ``jobs`` when asked to."""

    def on_configure(self, plugin_configuration_size: int) -> bool:
        configuration = self.get_plugin_configuration() or b""
        if configuration == b"queue":
            self.register_shared_queue("jobs")
        if configuration == b"tick twice":
            self.set_tick_period(timedelta(seconds=1))
            self.set_tick_period(timedelta(seconds=2))
        return configuration != b"fail"

    def create_http_context(self, context_id: int) -> HttpContext:
        return Probe(context_id, self.context_id)


class Probe(HttpContext):
    """Behaviour chosen by the request path; what it saw goes into request headers."""

    path = ""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.path = self.get_http_request_header(":path") or ""
        self.set_http_request_header("x-probe-copy", self.get_http_request_header("x-probe") or "")
        self.set_http_request_header("x-authority", self.get_http_request_header(":authority")
                                     or "")
        if self.path == "/plugin":
            for name in ("plugin_root_id", "plugin_vm_id"):
                value = self.get_property([name])
                self.set_http_request_header(f"x-{name}",
                                             "absent" if value is None else value.decode())
        if self.path == "/tick":
            hostcalls.set_tick_period(timedelta(seconds=1))
        if self.path == "/local":
            self.send_http_response(403, body=b"denied")
            return Action.PAUSE
        if self.path == "/gauge":
            hostcalls.increment_metric(hostcalls.define_metric(MetricType.GAUGE, "level"), 1)
        if self.path == "/counter":
            hostcalls.increment_metric(hostcalls.define_metric(MetricType.COUNTER, "hits"),
                                       int(self.get_http_request_header("x-delta") or "1"))
        if self.path == "/record-counter":
            hostcalls.record_metric(hostcalls.define_metric(MetricType.COUNTER, "hits"), 5)
        if self.path == "/shared":
            self.set_shared_data(self.get_http_request_header("x-key") or "seen", b"yes")
        if self.path == "/callout":
            self.dispatch_http_call(self.get_http_request_header("x-upstream") or "",
                                    [(":method", "GET"), (":path", "/"), (":authority", "a")])
            return Action.PAUSE
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.path == "/late-callout":
            self.dispatch_http_call("127.0.0.1:8000", [(":method", "GET"), (":path", "/"),
                                                       (":authority", "a")])
        code = self.get_property(["response", "code"]) or b""
        self.set_http_response_header("x-code", code.hex())
        return Action.CONTINUE

    def on_http_call_response(self, token_id: int, num_headers: int, body_size: int,
                              num_trailers: int) -> None:
        if num_headers == 0:
            self.send_http_response(503, body=b"no answer")
            return
        self.resume_http_request()


proxywasm.set_root_context(ProbeRoot)
