"""Makes host calls that fail or find nothing and logs what each returned or raised."""

from __future__ import annotations

from collections.abc import Callable

import proxywasm
from proxywasm import Action, BufferType, Counter, HttpContext, MetricType, hostcalls


def outcome(name: str, call: Callable[[], object]) -> None:
    """Log ``name: <result>`` or ``name: <exception class>``."""
    try:
        result = call()
    except proxywasm.HostCallError as error:
        proxywasm.log_info(f"{name}: {type(error).__name__}")
        return
    proxywasm.log_info(f"{name}: {result!r}")


class Statuses(HttpContext):
    """Runs every check on the request headers."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        counter = hostcalls.define_metric(MetricType.COUNTER, "c")
        histogram = hostcalls.define_metric(MetricType.HISTOGRAM, "h")
        queue = hostcalls.register_shared_queue("q")
        outcome("unknown cluster", lambda: self.dispatch_http_call(
            "nowhere", [(":method", "GET"), (":path", "/"), (":authority", "a")]))
        outcome("missing shared data", lambda: self.get_shared_data("absent"))
        outcome("cas on missing key", lambda: self.set_shared_data("absent", b"x", 99))
        outcome("empty queue", lambda: self.dequeue_shared_queue(queue))
        outcome("unknown queue", lambda: self.resolve_shared_queue("", "other"))
        outcome("counter decrement", lambda: hostcalls.increment_metric(counter, -1))
        outcome("counter increment by 0", lambda: hostcalls.increment_metric(counter, 0))
        outcome("typed counter increment by 0", lambda: Counter("c").increment(0))
        outcome("counter record adds", lambda: (hostcalls.record_metric(counter, 2),
                                                hostcalls.record_metric(counter, 1),
                                                hostcalls.get_metric(counter))[-1])
        outcome("histogram read", lambda: hostcalls.get_metric(histogram))
        outcome("unknown metric", lambda: hostcalls.get_metric(999))
        outcome("missing property", lambda: self.get_property(["no", "such"]))
        outcome("unknown foreign function", lambda: self.call_foreign_function("nope", b""))
        outcome("unknown context", lambda: hostcalls.set_effective_context(999))
        outcome("body in headers phase", lambda: self.get_http_request_body())
        outcome("buffer status", lambda: hostcalls.get_buffer_status(BufferType.HTTP_REQUEST_BODY))
        outcome("header map size", lambda: hostcalls.get_map_size(0))
        outcome("response code", lambda: self.get_property(["response", "code"]))
        outcome("time", lambda: hostcalls.get_current_time().isoformat())
        return Action.CONTINUE

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        outcome("write inside the body", lambda: self.set_http_request_body(1, 1, b"x"))
        self.set_http_request_body(0, 2, b"AB")
        self.set_http_request_body(body_size, 0, b"!")
        outcome("body", lambda: self.get_http_request_body())
        return Action.CONTINUE

    def on_http_response_trailers(self, num_trailers: int) -> Action:
        self.set_http_response_trailer("x-trailers", str(num_trailers))
        return Action.CONTINUE


proxywasm.set_http_context(Statuses)
