"""Host-call wrappers, context helpers, the error factory and logging, against a fake host."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import proxywasm
from proxywasm import (
    HttpContext,
    LogLevel,
    MapType,
    RootContext,
    Status,
    _host,
    hostcalls,
    log_handler,
)
from proxywasm.errors import (
    BadArgumentError,
    CasMismatchError,
    EmptyError,
    HostCallError,
    NotFoundError,
    UnimplementedError,
    error_for,
)
from proxywasm.testing.records import wire_text
from tests.test_sdk_fakehost import OTHER_STREAM, FakeHost, installed

REQUEST = MapType.HTTP_REQUEST_HEADERS
RESPONSE_TRAILERS = MapType.HTTP_RESPONSE_TRAILERS


@pytest.fixture
def host() -> Iterator[FakeHost]:
    with installed() as fake:
        yield fake


def test_host_calls_without_a_host_raise_a_clear_error() -> None:
    _host.bind(None)
    with pytest.raises(RuntimeError, match=r"only work inside a proxy .* proxywasm\.testing"):
        hostcalls.get_log_level()
    assert not hasattr(_host, "__wrapped__")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (Status.NOT_FOUND, NotFoundError),
        (Status.BAD_ARGUMENT, BadArgumentError),
        (Status.EMPTY, EmptyError),
        (Status.CAS_MISMATCH, CasMismatchError),
        (Status.UNIMPLEMENTED, UnimplementedError),
    ],
)
def test_error_factory_maps_statuses_to_classes(status: Status, cls: type[HostCallError]) -> None:
    error = error_for(status, "proxy_get_property")
    assert type(error) is cls and error.status is status
    assert error.function == "proxy_get_property"
    assert str(error).startswith(f"proxy_get_property failed with {status.name}: ")


def test_error_factory_falls_back_and_explains_common_failures() -> None:
    unknown = error_for(5, "proxy_something")
    assert type(unknown) is HostCallError and unknown.status == 5
    assert str(unknown) == "proxy_something failed with status 5"
    call = error_for(2, "http_call")
    assert "cluster name the proxy knows" in str(call) and "':authority'" in str(call)


def test_error_factory_is_installed_on_bind(host: FakeHost) -> None:
    context = RootContext(1)
    context.set_shared_data("k", b"v1")
    value, cas = context.get_shared_data("k")
    assert (value, cas) == (b"v1", 1)
    with pytest.raises(CasMismatchError, match="read it again and retry"):
        context.set_shared_data("k", b"v2", cas=7)
    assert context.get_shared_data("missing") == (None, None)
    context.remove_shared_data("k")
    assert host.called("set_shared_data")[-1] == ("k", b"", 0)


def test_dispatch_http_call_requires_pseudo_headers(host: FakeHost) -> None:
    with pytest.raises(ValueError, match="':authority' header is missing"):
        hostcalls.dispatch_http_call("cluster", [(":method", "GET"), (":path", "/")])
    with pytest.raises(ValueError, match="':method' header is missing"):
        hostcalls.dispatch_http_call("cluster", [("host", "x")])
    assert host.called("http_call") == []
    headers = [(":method", "POST"), (":path", "/"), (":authority", "a")]
    token = hostcalls.dispatch_http_call("cluster", headers, None, (), timedelta(seconds=1.5))
    assert host.called("http_call") == [("cluster", headers, b"", [], 1500)]
    assert token == 1


def test_calls_without_a_timeout_wait_the_default_five_seconds(host: FakeHost) -> None:
    headers = [(":method", "GET"), (":path", "/"), (":authority", "a")]
    hostcalls.dispatch_http_call("cluster", headers)
    hostcalls.dispatch_grpc_call("cluster", "pkg.Service", "Call", [], None)
    assert [call[-1] for call in host.called("http_call") + host.called("grpc_call")] == [
        5000, 5000]
    assert timedelta(seconds=5) == hostcalls.DEFAULT_TIMEOUT


def test_time_and_timer_conversions(host: FakeHost) -> None:
    host.nanoseconds = 1_700_000_000_123_456_789
    assert hostcalls.get_current_time() == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    RootContext(1).set_tick_period(timedelta(milliseconds=250))
    assert host.called("set_tick_period_milliseconds") == [(250,)]
    with pytest.raises(ValueError, match="must not be negative"):
        hostcalls.set_tick_period(timedelta(seconds=-1))


def test_properties_take_a_path_not_a_string(host: FakeHost) -> None:
    host.properties[("request", "path")] = b"/x"
    context = RootContext(1)
    assert context.get_property(["request", "path"]) == b"/x"
    assert context.get_property(["nope"]) is None
    with pytest.raises(TypeError, match=r"sequence of segments.*'plugin_name'"):
        context.get_property("plugin_name")
    context.set_property(("a",), None)
    assert host.properties[("a",)] == b""


def test_http_header_helpers(host: FakeHost) -> None:
    host.maps[REQUEST] = [(":path", "/"), ("a", "1")]
    context = HttpContext(2, 1)
    assert context.get_http_request_headers() == [(":path", "/"), ("a", "1")]
    assert context.get_http_request_header_bytes("a") == b"1"
    assert context.get_http_request_header("missing") is None
    context.set_http_request_header("a", "2")
    context.add_http_request_header("a", "3")
    context.add_http_request_header_bytes("b", b"\xff")
    assert host.maps[REQUEST] == [(":path", "/"), ("a", "2"), ("a", "3"),
                                  ("b", wire_text(b"\xff"))]
    context.set_http_request_header("a", None)
    context.remove_http_request_header("b")
    assert host.maps[REQUEST] == [(":path", "/")]
    context.set_http_response_trailers([("t", "v")])
    context.set_http_response_trailer_bytes("u", b"w")
    assert context.get_http_response_trailers_bytes() == [("t", b"v"), ("u", b"w")]


def test_method_of_a_header_function_works_in_a_user_class_and_on_its_own(
    host: FakeHost,
) -> None:
    class Mine(HttpContext):
        path = hostcalls.method(REQUEST, hostcalls.get_map_value)

    host.maps[REQUEST] = [(":path", "/x")]
    alone = hostcalls.method(REQUEST, hostcalls.get_map_value)
    assert Mine(2, 1).path(":path") == "/x"
    assert alone(name=":path") == "/x"


def test_context_methods_take_keywords_and_subclasses_extend_them(host: FakeHost) -> None:
    class Tagging(HttpContext):
        def set_http_response_header(self, name: str, value: str | None) -> None:
            super().set_http_response_header(name, None if value is None else f"[{value}]")

    host.maps[REQUEST] = [(":path", "/x")]
    context = Tagging(2, 1)
    assert context.get_http_request_header(name=":path") == "/x"
    assert context.get_http_request_body(start=0, max_size=1) is None
    context.set_http_response_header(name="x", value="y")
    assert host.maps[MapType.HTTP_RESPONSE_HEADERS] == [("x", "[y]")]
    assert context.get_property(path=["request", "path"]) is None


def test_body_and_local_responses(host: FakeHost) -> None:
    host.buffers[0] = b"hello world"
    context = HttpContext(2, 1)
    assert context.get_http_request_body() == b"hello world"
    assert context.get_http_request_body(6, 3) == b"wor"
    context.set_http_request_body(0, 5, b"HELLO")
    assert host.buffers[0] == b"HELLO world"
    assert context.get_http_response_body() is None
    context.send_http_response(403, [("x", "y")], b"no")
    host.stream = OTHER_STREAM  # a stream is answered locally once
    context.send_grpc_response(proxywasm.GrpcStatusCode.PERMISSION_DENIED, "denied")
    assert host.called("send_local_response") == [
        (403, "", b"no", [("x", "y")], -1),
        (200, "", b"denied", [], 7),
    ]
    context.resume_http_response()
    context.reset_http_request()
    assert host.called("continue_stream") == [(1,)] and host.called("close_stream") == [(0,)]


def test_grpc_status_and_foreign_functions(host: FakeHost) -> None:
    context = RootContext(1)
    host.status = (14, b"unavailable")
    assert context.get_grpc_status() == (14, "unavailable")
    host.status = (0, b"")
    assert context.get_grpc_status() == (0, None)
    assert context.call_foreign_function("reverse", b"abc") == b"cba"
    # An empty result is None, as the runtime's _proxywasm reports it.
    assert context.call_foreign_function("reverse", None) is None


def test_metrics(host: FakeHost) -> None:
    counter = hostcalls.define_metric(proxywasm.MetricType.COUNTER, "requests")
    hostcalls.increment_metric(counter, 2)
    hostcalls.increment_metric(counter, 3)
    assert hostcalls.get_metric(counter) == 5
    hostcalls.record_metric(counter, 1)  # Envoy adds a value recorded on a counter
    assert hostcalls.get_metric(counter) == 6


def test_sdk_log_level_filters_before_the_host(host: FakeHost) -> None:
    proxywasm.set_log_level(LogLevel.WARN)
    proxywasm.log_info("dropped")
    proxywasm.log(LogLevel.DEBUG, "dropped")
    proxywasm.log_warn("kept")
    proxywasm.log(LogLevel.ERROR, "kept too")
    proxywasm.log_critical("always")
    assert host.logs == [(3, "kept"), (4, "kept too"), (5, "always")]


def test_log_handler_tracks_the_host_level(host: FakeHost) -> None:
    logger = logging.getLogger("test_sdk_log_handler")
    logger.propagate = False
    handler = log_handler.install(logger)
    try:
        host.level = LogLevel.INFO
        logger.debug("first record learns the level")
        assert host.logs == [] and logger.level == logging.INFO
        calls = len(host.calls)
        logger.debug("refused before a record is built")
        assert len(host.calls) == calls
        logger.warning("shown %d", 1)
        assert host.logs == [(LogLevel.WARN, "test_sdk_log_handler: shown 1")]
        host.level = LogLevel.TRACE
        assert handler.refresh_level() == LogLevel.TRACE
        logger.log(5, "trace")
        assert host.logs[-1] == (LogLevel.TRACE, "test_sdk_log_handler: trace")
    finally:
        logger.removeHandler(handler)


def test_log_level_mapping() -> None:
    assert log_handler.proxy_level(logging.CRITICAL) is LogLevel.CRITICAL
    assert log_handler.proxy_level(logging.WARNING) is LogLevel.WARN
    assert log_handler.proxy_level(5) is LogLevel.TRACE
    assert log_handler.logging_level(LogLevel.ERROR) == logging.ERROR


def test_update_shared_data_retries_after_a_cas_mismatch(host: FakeHost) -> None:
    host.shared["hits"] = (b"1", 7)
    raced = []

    def bump(value: bytes | None) -> bytes:
        if not raced:
            raced.append(True)
            host.shared["hits"] = (b"5", 8)
        return str(int(value or b"0") + 1).encode()

    assert hostcalls.update_shared_data("hits", bump) == b"6"
    assert host.shared["hits"][0] == b"6"


def test_update_shared_data_gives_up_after_its_attempts(host: FakeHost) -> None:
    host.shared["hits"] = (b"1", 1)

    def always_raced(value: bytes | None) -> bytes:
        host.shared["hits"] = (b"x", host.shared["hits"][1] + 1)
        return b"y"

    with pytest.raises(CasMismatchError):
        hostcalls.update_shared_data("hits", always_raced, attempts=3)


@pytest.mark.parametrize(
    ("upstream", "headers", "message"),
    [
        ("http://auth:80", [(":method", "GET")], "not 'http://auth:80'"),
        ("auth", [(":method", "GET"), (":path", "/")], "the ':authority' header is missing"),
        ("auth", [(":method", ""), (":path", "/"), (":authority", "a")], "':method' header"),
    ],
)
def test_http_call_arguments_are_checked_before_the_host_call(
    host: FakeHost, upstream: str, headers: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        hostcalls.dispatch_http_call(upstream, headers)
    assert host.called("http_call") == []
