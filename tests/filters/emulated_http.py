"""An HTTP filter that uses most host features, one per request path, for the emulator tests."""

from __future__ import annotations

import json
from datetime import timedelta

import proxywasm
from proxywasm import Action, HttpContext, LogLevel, MetricType, RootContext, hostcalls


class Root(RootContext):
    """Reads its JSON configuration, defines metrics, keeps a tick counter."""

    greeting = ""
    ticks = 0
    requests = 0
    sizes = 0

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        proxywasm.log_info(f"vm configuration: {self.get_vm_configuration()!r}")
        return True

    def on_configure(self, plugin_configuration_size: int) -> bool:
        config = json.loads(self.get_plugin_configuration() or b"{}")
        self.greeting = str(config.get("greeting", "hello"))
        self.requests = hostcalls.define_metric(MetricType.COUNTER, "requests")
        self.sizes = hostcalls.define_metric(MetricType.HISTOGRAM, "body_sizes")
        self.set_tick_period(timedelta(seconds=1))
        return True

    def on_tick(self) -> None:
        self.ticks += 1
        gauge = hostcalls.define_metric(MetricType.GAUGE, "ticks")
        hostcalls.record_metric(gauge, self.ticks)
        proxywasm.log_debug(f"tick {self.ticks} at {hostcalls.get_current_time().isoformat()}")

    def create_http_context(self, context_id: int) -> HttpContext:
        return Filter(context_id, self.context_id, self)


class Filter(HttpContext):
    """Behaviour chosen by the request path."""

    def __init__(self, context_id: int, root_context_id: int, root: Root) -> None:
        super().__init__(context_id, root_context_id)
        self.root = root
        self.path = ""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        hostcalls.increment_metric(self.root.requests, 1)
        self.path = self.get_http_request_header(":path") or ""
        self.set_http_request_header("x-greeting", self.root.greeting)
        self.remove_http_request_header("x-secret")
        self.add_http_request_header(name="x-seen", value=str(num_headers))
        self.set_http_request_header(name="x-drop", value=None)
        if self.get_http_request_header_bytes(name="x-drop") is not None:
            raise AssertionError("set_http_request_header(name=..., value=None) kept x-drop")
        if self.path == "/deny":
            self.send_http_response(403, [("x-denied", "yes")], b"denied\n")
            return Action.PAUSE
        if self.path == "/auth":
            self.dispatch_http_call("auth", [(":method", "GET"), (":path", "/check"),
                                             (":authority", "auth.local")], b"token")
            return Action.PAUSE
        if self.path == "/grpc":
            self.dispatch_grpc_call("grpc", "pkg.Service", "Check", [("k", b"v")], b"ping")
            return Action.PAUSE
        if self.path == "/ffi":
            result = self.call_foreign_function("reverse", b"abc")
            self.set_http_request_header("x-ffi", (result or b"").decode())
        if self.path == "/property":
            self.set_property(["filter", "seen"], b"yes")
            method = self.get_property(["request", "method"]) or b""
            custom = self.get_property(["custom", "value"]) or b""
            self.set_http_request_header("x-method", method.decode())
            self.set_http_request_header("x-custom", custom.decode())
        if self.path == "/shared":
            value, cas = self.get_shared_data("hits")
            count = int(value or b"0") + 1
            self.set_shared_data("hits", str(count).encode(), cas)
            try:
                self.set_shared_data("hits", b"stale", cas)
            except proxywasm.CasMismatchError:
                proxywasm.log_warn("cas mismatch")
        if self.path == "/levels":
            for level in LogLevel:
                proxywasm.log(level, f"at {level.name}")
        return Action.CONTINUE

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        if not end_of_stream:
            return Action.PAUSE
        body = self.get_http_request_body(0, body_size) or b""
        hostcalls.record_metric(self.root.sizes, len(body))
        self.set_http_request_body(0, body_size, body.upper())
        self.add_http_request_trailer("x-body-size", str(len(body)))
        return Action.CONTINUE

    def on_http_request_trailers(self, num_trailers: int) -> Action:
        self.set_http_request_trailer("x-trailer-seen", str(num_trailers))
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header("x-path", self.path)
        return Action.CONTINUE

    def on_http_response_body(self, body_size: int, end_of_stream: bool) -> Action:
        if end_of_stream:
            self.set_http_response_body(body_size, 0, b"!")
        return Action.CONTINUE

    def on_http_call_response(self, token_id: int, num_headers: int, body_size: int,
                              num_trailers: int) -> None:
        if num_headers == 0:
            self.send_http_response(503, [], b"auth unavailable\n")
            return
        status = self.get_http_call_response_header(":status")
        body = self.get_http_call_response_body(0, body_size) or b""
        if status != "200":
            self.send_http_response(401, [("x-auth", body.decode())], b"")
            return
        self.set_http_request_header("x-auth", body.decode())
        self.resume_http_request()

    def on_grpc_call_response(self, token_id: int, status_code: int, response_size: int) -> None:
        if status_code != 0:
            _code, message = self.get_grpc_status()
            self.send_http_response(502, [("x-grpc-error", message or "")], b"")
            return
        reply = self.get_grpc_call_response_body(0, response_size) or b""
        self.set_http_request_header("x-grpc", reply.decode())
        self.resume_http_request()


proxywasm.set_root_context(Root)
