"""The callback router: context creation, routing, failure handling, callouts and stdio."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator

import pytest

import proxywasm
from proxywasm import (
    Action,
    HttpContext,
    LogLevel,
    PeerType,
    RootContext,
    StreamContext,
    _contexts,
    _runtime,
)
from proxywasm import _dispatch as dispatch
from proxywasm._state import state
from proxywasm._tb import format_exception
from proxywasm.types import MapType, StreamType
from tests.test_sdk_fakehost import FakeHost, installed

ROOT, STREAM = 1, 2


@pytest.fixture
def host() -> Iterator[FakeHost]:
    with installed() as fake:
        yield fake


class Headers(HttpContext):
    """Adds a request header and remembers what it saw."""

    seen: list[str]

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.seen = [f"{num_headers}:{end_of_stream}", self.get_http_request_header(":path") or ""]
        self.set_http_request_header("x-seen", "yes")
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.add_http_response_header("x-filter", "python")
        return Action.PAUSE


class Root(RootContext):
    """Creates a Headers context per request and counts configurations."""

    configured = 0

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.configured += 1
        return self.get_plugin_configuration() == b"config"

    def create_http_context(self, context_id: int) -> HttpContext:
        return Headers(context_id, self.context_id)


def start(host: FakeHost, root: type[RootContext] = Root) -> RootContext:
    proxywasm.set_root_context(root)
    dispatch.on_context_create(ROOT, 0)
    assert dispatch.on_vm_start(ROOT, 0) == 1
    created = dispatch._roots[ROOT]
    assert isinstance(created, root)
    return created


def error_text(host: FakeHost) -> str:
    """Join the ERROR records (one per line of a report) back into one text."""
    return "\n".join(message for level, message in host.logs if level == LogLevel.ERROR)


def test_root_creates_http_contexts_and_routes_callbacks(host: FakeHost) -> None:
    host.buffers[7] = b"config"
    root = start(host)
    assert dispatch.on_configure(ROOT, 6) == 1
    assert isinstance(root, Root) and root.configured == 1

    host.maps[MapType.HTTP_REQUEST_HEADERS] = [(":path", "/x")]
    dispatch.on_context_create(STREAM, ROOT)
    assert dispatch.on_request_headers(STREAM, 1, 1) == Action.CONTINUE
    context = dispatch._http[STREAM]
    assert isinstance(context, Headers)
    assert context.context_id == STREAM and context.root_context_id == ROOT
    assert context.seen == ["1:True", "/x"]
    assert host.maps[MapType.HTTP_REQUEST_HEADERS] == [(":path", "/x"), ("x-seen", "yes")]
    assert dispatch.on_response_headers(STREAM, 0, 0) == Action.PAUSE
    assert dispatch.on_request_body(STREAM, 10, 1) == Action.CONTINUE
    assert dispatch.on_done(STREAM) == 1
    dispatch.on_log(STREAM)
    dispatch.on_delete(STREAM)
    assert STREAM not in dispatch._http
    assert error_text(host) == ""


def test_on_configure_false_and_none_reject(host: FakeHost) -> None:
    start(host)
    host.buffers[7] = b"other"
    assert dispatch.on_configure(ROOT, 5) == 0

    class Forgetful(RootContext):
        def on_configure(self, plugin_configuration_size: int) -> bool:
            return None  # type: ignore[return-value]

    dispatch.on_context_create(3, 0)
    dispatch._roots[3] = Forgetful(3)
    assert dispatch.on_configure(3, 0) == 0
    assert "returned None; return True" in error_text(host)


def test_set_http_context_without_root(host: FakeHost) -> None:
    proxywasm.set_http_context(Headers)
    assert _contexts.registered()
    dispatch.on_context_create(ROOT, 0)
    assert type(dispatch._roots[ROOT]) is RootContext
    dispatch.on_context_create(STREAM, ROOT)
    assert dispatch.on_request_headers(STREAM, 0, 0) == Action.CONTINUE
    assert dispatch._http[STREAM].root_context_id == ROOT


class Tagging(HttpContext):
    """Overrides no __init__: the prepared dispatcher creates it without calling the class."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_request_header("x-context", f"{self.context_id}/{self.root_context_id}")
        return Action.CONTINUE


class Counting(Tagging):
    """Has its own __init__, which must still run for every context."""

    created = 0

    def __init__(self, context_id: int, root_context_id: int) -> None:
        super().__init__(context_id, root_context_id)
        Counting.created += 1


@pytest.mark.parametrize("factory", [Tagging, Counting])
def test_prepared_http_class_gets_its_ids_and_callbacks(
    host: FakeHost, factory: type[Tagging]
) -> None:
    proxywasm.set_http_context(factory)
    _contexts.prepare()
    created = Counting.created
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    assert type(dispatch._http[STREAM]) is factory
    assert dispatch.on_request_headers(STREAM, 0, 1) == Action.CONTINUE
    assert host.maps[MapType.HTTP_REQUEST_HEADERS] == [("x-context", f"{STREAM}/{ROOT}")]
    assert Counting.created == created + (factory is Counting)


def test_a_factory_needing_more_than_the_ids_is_refused_when_registered() -> None:
    def factory(context_id: int, root_context_id: int, tag: str) -> HttpContext:
        return Tagging(context_id, root_context_id)

    with pytest.raises(TypeError, match=r"set_http_context\('.*factory'\): it needs 3 "
                                        r"arguments, but a context factory is called with "
                                        r"none or \(context_id, root_context_id\)"):
        proxywasm.set_http_context(factory)  # type: ignore[arg-type]


class Labelled(Tagging):
    """Its own __init__ has a parameter with a default, which the SDK must leave to it."""

    def __init__(self, label: str = "default") -> None:
        super().__init__()
        self.label = label


def test_a_factory_is_called_with_the_ids_it_requires(host: FakeHost) -> None:
    proxywasm.set_http_context(Labelled)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    created = dispatch._http[STREAM]
    assert isinstance(created, Labelled) and created.label == "default"
    assert (created.context_id, created.root_context_id) == (STREAM, ROOT)


def test_a_context_made_outside_a_factory_must_be_given_its_ids() -> None:
    with pytest.raises(TypeError, match=r"pass them, e.g. MyContext\(context_id, root_context_id"):
        Tagging()
    assert Tagging(5, 1).root_context_id == 1


def test_on_vm_start_exception_returns_false(host: FakeHost) -> None:
    class Broken(RootContext):
        def on_vm_start(self, vm_configuration_size: int) -> bool:
            raise KeyError("missing")

    proxywasm.set_root_context(Broken)
    dispatch.on_context_create(ROOT, 0)
    assert dispatch.on_vm_start(ROOT, 0) == 0
    assert "Broken.on_vm_start (context 1) raised" in error_text(host)
    assert "KeyError: 'missing'" in error_text(host)


class Failing(HttpContext):
    """Raises in request headers; counts response callbacks."""

    responses = 0

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        raise ValueError("boom")

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.responses += 1
        return Action.CONTINUE


def test_exception_fails_closed_with_traceback(host: FakeHost) -> None:
    proxywasm.set_http_context(Failing)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    assert dispatch.on_request_headers(STREAM, 0, 0) == Action.PAUSE
    assert host.called("send_local_response") == [
        (500, "python_filter_error", b"filter error\n", [], -1)
    ]
    report = error_text(host)
    assert "Failing.on_http_request_headers (context 2) raised; failing closed" in report
    line = Failing.on_http_request_headers.__code__.co_firstlineno + 1
    assert f'File "{__file__}", line {line}, in on_http_request_headers' in report
    assert report.endswith("ValueError: boom")
    assert all("\n" not in message for _, message in host.logs)
    # The failed stream passes through from now on (the local reply must not fail again) ...
    assert dispatch.on_response_headers(STREAM, 0, 0) == Action.CONTINUE
    # ... and later requests still run the filter.
    dispatch.on_context_create(3, ROOT)
    assert dispatch.on_response_headers(3, 0, 0) == Action.CONTINUE
    later = dispatch._http[3]
    assert isinstance(later, Failing) and later.responses == 1


def test_fail_open_logs_and_continues(host: FakeHost) -> None:
    class Lenient(Failing):
        fail_open = True

    proxywasm.set_http_context(Lenient)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    assert dispatch.on_request_headers(STREAM, 0, 0) == Action.CONTINUE
    assert host.called("send_local_response") == []
    assert "failing open" in error_text(host)
    assert dispatch.on_response_headers(STREAM, 0, 0) == Action.CONTINUE
    kept = dispatch._http[STREAM]
    assert isinstance(kept, Lenient) and kept.responses == 1


def test_missing_return_fails_closed_with_clear_message(host: FakeHost) -> None:
    class NoReturn(HttpContext):
        def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            return None  # type: ignore[return-value]

    proxywasm.set_http_context(NoReturn)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    assert dispatch.on_request_headers(STREAM, 0, 0) == Action.PAUSE
    assert "returned None; return proxywasm.Action.CONTINUE" in error_text(host)


def test_plain_int_actions_are_accepted(host: FakeHost) -> None:
    class IntAction(HttpContext):
        def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            return 1  # type: ignore[return-value]

    proxywasm.set_http_context(IntAction)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    assert dispatch.on_request_headers(STREAM, 0, 0) == 1
    assert error_text(host) == ""


def test_context_creation_failure_fails_the_stream_closed(host: FakeHost) -> None:
    class Raising(RootContext):
        def create_http_context(self, context_id: int) -> HttpContext:
            raise RuntimeError("no config")

    start(host, Raising)
    dispatch.on_context_create(STREAM, ROOT)
    assert "creating context 2 failed" in error_text(host)
    assert "RuntimeError: no config" in error_text(host)
    assert dispatch.on_request_headers(STREAM, 0, 0) == Action.PAUSE
    assert host.called("send_local_response")[0][0] == 500
    assert dispatch.on_response_headers(STREAM, 0, 0) == Action.CONTINUE
    assert len(host.called("send_local_response")) == 1


def test_root_without_context_factory_is_reported(host: FakeHost) -> None:
    start(host, RootContext)
    dispatch.on_context_create(STREAM, ROOT)
    assert "RootContext created no context for stream 2" in error_text(host)
    assert dispatch.on_new_connection(STREAM) == Action.PAUSE
    assert host.called("close_stream") == [(StreamType.DOWNSTREAM,)]


def test_failure_without_host_never_raises(
    host: FakeHost, capfd: pytest.CaptureFixture[str]
) -> None:
    proxywasm.set_http_context(Failing)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    proxywasm._host.bind(None)
    assert dispatch.on_request_headers(STREAM, 0, 0) == Action.PAUSE
    assert "ValueError: boom" in capfd.readouterr().err


class Caller(HttpContext):
    """Pauses on a callout and resumes when its answer arrives."""

    answer: tuple[int, bytes | None] | None = None

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        headers = [(":method", "GET"), (":path", "/auth"), (":authority", "auth")]
        self.dispatch_http_call("auth_cluster", headers)
        return Action.PAUSE

    def on_http_call_response(
        self, token_id: int, num_headers: int, body_size: int, num_trailers: int
    ) -> None:
        self.answer = (token_id, self.get_http_call_response_body(0, body_size))
        self.resume_http_request()


def test_http_callout_is_routed_to_the_calling_context(host: FakeHost) -> None:
    proxywasm.set_http_context(Caller)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    assert dispatch.on_request_headers(STREAM, 0, 0) == Action.PAUSE
    (call,) = host.called("http_call")
    assert call[0] == "auth_cluster" and call[4] == 5000
    host.buffers[4] = b"ok"
    dispatch.on_http_call_response(ROOT, 1, 1, 2, 0)
    assert host.called("set_effective_context") == [(STREAM,)]
    assert dispatch._http[STREAM].answer == (1, b"ok")  # type: ignore[attr-defined]
    assert host.called("continue_stream") == [(StreamType.HTTP_REQUEST,)]
    assert state.http_calls == {}


def test_callout_exception_fails_the_waiting_stream(host: FakeHost) -> None:
    class Broken(Caller):
        def on_http_call_response(
            self, token_id: int, num_headers: int, body_size: int, num_trailers: int
        ) -> None:
            raise LookupError("bad answer")

    proxywasm.set_http_context(Broken)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    dispatch.on_request_headers(STREAM, 0, 0)
    dispatch.on_http_call_response(ROOT, 1, 0, 0, 0)
    assert host.called("send_local_response")[0][0] == 500
    assert "Broken.on_http_call_response (context 2) raised" in error_text(host)


def test_unregistered_callout_goes_to_the_root(host: FakeHost) -> None:
    class Timer(RootContext):
        def __init__(self, context_id: int) -> None:
            super().__init__(context_id)
            self.tokens: list[int] = []

        def on_http_call_response(
            self, token_id: int, num_headers: int, body_size: int, num_trailers: int
        ) -> None:
            self.tokens.append(token_id)

    root = start(host, Timer)
    dispatch.on_http_call_response(ROOT, 42, 0, 0, 0)
    assert isinstance(root, Timer) and root.tokens == [42]
    assert host.called("set_effective_context") == []


def test_grpc_calls_and_streams_are_routed(host: FakeHost) -> None:
    events: list[tuple[str, int, int]] = []

    class Grpc(HttpContext):
        def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            self.dispatch_grpc_call("cluster", "svc", "Call", [], b"req")
            self.open_grpc_stream("cluster", "svc", "Stream")
            return Action.PAUSE

        def on_grpc_call_response(self, token_id: int, status_code: int, size: int) -> None:
            events.append(("call", token_id, status_code))

        def on_grpc_stream_initial_metadata(self, token_id: int, num_elements: int) -> None:
            events.append(("initial", token_id, num_elements))

        def on_grpc_stream_message(self, token_id: int, message_size: int) -> None:
            events.append(("message", token_id, message_size))

        def on_grpc_stream_trailing_metadata(self, token_id: int, num_elements: int) -> None:
            events.append(("trailing", token_id, num_elements))

        def on_grpc_stream_close(self, token_id: int, status_code: int) -> None:
            events.append(("close", token_id, status_code))

    proxywasm.set_http_context(Grpc)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    dispatch.on_request_headers(STREAM, 0, 0)
    dispatch.on_grpc_receive(ROOT, 1, 7)
    dispatch.on_grpc_receive_initial_metadata(ROOT, 2, 3)
    dispatch.on_grpc_receive(ROOT, 2, 9)
    dispatch.on_grpc_receive_trailing_metadata(ROOT, 2, 1)
    dispatch.on_grpc_close(ROOT, 2, 0)
    assert events == [
        ("call", 1, 0),
        ("initial", 2, 3),
        ("message", 2, 9),
        ("trailing", 2, 1),
        ("close", 2, 0),
    ]
    assert not state.grpc_calls and not state.grpc_streams


class Tcp(StreamContext):
    """Records TCP events; raises on upstream data."""

    def __init__(self, context_id: int, root_context_id: int) -> None:
        super().__init__(context_id, root_context_id)
        self.events: list[object] = []

    def on_downstream_data(self, data_size: int, end_of_stream: bool) -> Action:
        self.events.append(self.get_downstream_data(0, data_size))
        return Action.CONTINUE

    def on_upstream_data(self, data_size: int, end_of_stream: bool) -> Action:
        raise OSError("upstream")

    def on_downstream_close(self, peer_type: PeerType) -> None:
        self.events.append(peer_type)


def test_tcp_stream_callbacks_and_fail_closed(host: FakeHost) -> None:
    proxywasm.set_stream_context(Tcp)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)
    context = dispatch._streams[STREAM]
    assert isinstance(context, Tcp)
    assert dispatch.on_new_connection(STREAM) == Action.CONTINUE
    host.buffers[2] = b"hello"
    assert dispatch.on_downstream_data(STREAM, 5, 0) == Action.CONTINUE
    dispatch.on_downstream_connection_close(STREAM, 2)
    assert context.events == [b"hello", PeerType.REMOTE]
    assert dispatch.on_upstream_data(STREAM, 1, 0) == Action.PAUSE
    assert host.called("close_stream") == [(StreamType.DOWNSTREAM,)]
    assert "Tcp.on_upstream_data (context 2) raised; closing the connection" in error_text(host)


def test_on_done_false_defers(host: FakeHost) -> None:
    class Later(RootContext):
        def on_done(self) -> bool:
            return False

    start(host, Later)
    assert dispatch.on_done(ROOT) == 0
    assert dispatch.on_done(99) == 1


def test_tick_queue_and_foreign_function_reach_the_root(host: FakeHost) -> None:
    seen: list[object] = []

    class Busy(RootContext):
        def on_tick(self) -> None:
            seen.append("tick")

        def on_queue_ready(self, queue_id: int) -> None:
            seen.append(self.dequeue_shared_queue(queue_id))

        def on_foreign_function(self, function_id: int, arguments_size: int) -> None:
            seen.append(self.get_foreign_function_arguments(0, arguments_size))

    root = start(host, Busy)
    queue = root.register_shared_queue("q")
    root.enqueue_shared_queue(queue, b"item")
    host.buffers[8] = b"args"
    dispatch.on_tick(ROOT)
    dispatch.on_queue_ready(ROOT, queue)
    dispatch.on_foreign_function(ROOT, 1, 4)
    assert seen == ["tick", b"item", b"args"]


def test_vm_start_routes_stdio_to_the_proxy_log_and_reseeds_random(host: FakeHost) -> None:
    random.seed(1234)
    frozen = random.random()
    random.seed(1234)
    start(host)
    assert random.random() != frozen
    print("hello", end="")
    print(" world")
    print("two\nlines")
    print("oops", file=sys.stderr)
    assert host.logs == [
        (LogLevel.INFO, "hello world"),
        (LogLevel.INFO, "two"),
        (LogLevel.INFO, "lines"),
        (LogLevel.ERROR, "oops"),
    ]
    _runtime.reset()
    assert not isinstance(sys.stdout, _runtime.LogWriter)


def test_traceback_formatter_chains_and_collapses_recursion() -> None:
    def recurse(depth: int) -> None:
        if depth == 0:
            raise ValueError("bottom")
        recurse(depth - 1)

    try:
        try:
            recurse(10)
        except ValueError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as outer:
        text = format_exception(outer)
    assert "ValueError: bottom" in text
    assert "The above exception was the direct cause" in text
    assert text.endswith("RuntimeError: outer")
    assert "[Previous line repeated 7 more times]" in text
    assert text.count("in recurse") == 4
