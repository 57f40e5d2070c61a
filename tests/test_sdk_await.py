"""``async def`` callbacks that await HTTP and gRPC callouts, and fail-open resumption."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import proxywasm
from proxywasm import (
    Action,
    GrpcCallError,
    HttpCallError,
    HttpContext,
    RootContext,
)
from proxywasm import _dispatch as dispatch
from proxywasm._state import state
from proxywasm.types import StreamType
from tests.test_sdk_dispatch import ROOT, STREAM, error_text
from tests.test_sdk_fakehost import FakeHost, installed

CALL_HEADERS = [(":method", "GET"), (":path", "/auth"), (":authority", "auth")]


@pytest.fixture
def host() -> Iterator[FakeHost]:
    with installed() as fake:
        yield fake


def open_stream(host: FakeHost, context: type[HttpContext]) -> None:
    proxywasm.set_http_context(context)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_context_create(STREAM, ROOT)


def answer(host: FakeHost, token: int, status: str, body: bytes) -> None:
    """Report an HTTP call response as the host would, to the root context."""
    host.maps[6] = [(":status", status)]
    host.buffers[4] = body
    dispatch.on_http_call_response(ROOT, token, 1, len(body), 0)


class Authorize(HttpContext):
    """Asks an auth service; continues on 200, answers 403 otherwise."""

    async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        response = await self.http_call("auth", CALL_HEADERS)
        if response.status != 200:
            self.send_http_response(403, body=response.body)
            return Action.PAUSE
        self.set_http_request_header("x-auth", response.body.decode())
        return Action.CONTINUE


def test_awaiting_a_call_pauses_and_continue_resumes_the_request(host: FakeHost) -> None:
    open_stream(host, Authorize)
    assert dispatch.on_request_headers(STREAM, 3, 0) == Action.PAUSE
    assert host.called("http_call")[0][0] == "auth"
    answer(host, 1, "200", b"alice")
    assert host.called("set_effective_context") == [(STREAM,)]
    assert host.called("replace_header_map_value") == [(0, "x-auth", "alice")]
    assert host.called("continue_stream") == [(StreamType.HTTP_REQUEST,)]
    assert state.awaiting == {}


def test_coroutine_returning_pause_leaves_the_stream_to_the_filter(host: FakeHost) -> None:
    open_stream(host, Authorize)
    dispatch.on_request_headers(STREAM, 3, 0)
    answer(host, 1, "401", b"no")
    assert host.called("send_local_response")[0][:3] == (403, "", b"no")
    assert host.called("continue_stream") == []


def test_failed_call_raises_http_call_error_at_the_await(host: FakeHost) -> None:
    seen: list[str] = []

    class Fallback(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            try:
                await self.http_call("auth", CALL_HEADERS)
            except HttpCallError as error:
                seen.append(str(error))
            return Action.CONTINUE

    open_stream(host, Fallback)
    dispatch.on_request_headers(STREAM, 3, 0)
    dispatch.on_http_call_response(ROOT, 1, 0, 0, 0)
    assert seen == [
        "the HTTP call to cluster 'auth' got no response (the upstream is unreachable, reset "
        "the connection or timed out)"
    ]
    assert host.called("continue_stream") == [(StreamType.HTTP_REQUEST,)]


def test_a_coroutine_can_await_several_calls_in_turn(host: FakeHost) -> None:
    class Twice(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            first = await self.http_call("auth", CALL_HEADERS)
            second = await self.http_call("auth", CALL_HEADERS)
            self.set_http_request_header("x-both", (first.body + second.body).decode())
            return Action.CONTINUE

    open_stream(host, Twice)
    dispatch.on_request_headers(STREAM, 3, 0)
    answer(host, 1, "200", b"a")
    assert host.called("continue_stream") == []
    answer(host, 2, "200", b"b")
    assert host.called("replace_header_map_value") == [(0, "x-both", "ab")]
    assert host.called("continue_stream") == [(StreamType.HTTP_REQUEST,)]


def test_async_callback_without_await_answers_at_once(host: FakeHost) -> None:
    class Quick(HttpContext):
        async def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            self.set_http_response_header("x-quick", "1")
            return Action.CONTINUE

    open_stream(host, Quick)
    assert dispatch.on_response_headers(STREAM, 1, 0) == Action.CONTINUE
    assert host.called("http_call") == []


def test_exception_after_await_fails_closed(host: FakeHost) -> None:
    class Broken(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            await self.http_call("auth", CALL_HEADERS)
            raise KeyError("user")

    open_stream(host, Broken)
    dispatch.on_request_headers(STREAM, 3, 0)
    answer(host, 1, "200", b"")
    assert host.called("send_local_response")[0][0] == 500
    assert "Broken.on_http_request_headers (context 2) raised" in error_text(host)
    assert host.called("continue_stream") == []


def test_exception_after_await_fails_open_and_resumes(host: FakeHost) -> None:
    class Lenient(HttpContext):
        fail_open = True

        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            await self.http_call("auth", CALL_HEADERS)
            raise KeyError("user")

    open_stream(host, Lenient)
    dispatch.on_request_headers(STREAM, 3, 0)
    answer(host, 1, "200", b"")
    assert host.called("send_local_response") == []
    assert host.called("continue_stream") == [(StreamType.HTTP_REQUEST,)]


def test_classic_callout_callback_failing_open_resumes_the_paused_request(
    host: FakeHost,
) -> None:
    class Lenient(HttpContext):
        fail_open = True

        def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            self.dispatch_http_call("auth", CALL_HEADERS)
            return Action.PAUSE

        def on_http_call_response(
            self, token_id: int, num_headers: int, body_size: int, num_trailers: int
        ) -> None:
            raise ValueError("bad answer")

    open_stream(host, Lenient)
    dispatch.on_request_headers(STREAM, 3, 0)
    dispatch.on_http_call_response(ROOT, 1, 1, 0, 0)
    assert host.called("continue_stream") == [(StreamType.HTTP_REQUEST,)]
    assert "failing open" in error_text(host)


def test_awaiting_something_else_is_a_clear_error(host: FakeHost) -> None:
    class Sleeper(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            import asyncio

            await asyncio.sleep(0)
            return Action.CONTINUE

    open_stream(host, Sleeper)
    assert dispatch.on_request_headers(STREAM, 3, 0) == Action.PAUSE
    assert host.called("send_local_response")[0][0] == 500
    assert ("can only await the SDK's callouts (self.http_call, self.grpc_call, "
            "proxywasm.gather)") in error_text(host)


def test_grpc_call_resolves_to_the_message_or_raises_with_the_status(host: FakeHost) -> None:
    results: list[object] = []

    class Grpc(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            try:
                response = await self.grpc_call("grpc", "auth.Auth", "Check", b"req")
                results.append(response.message)
            except GrpcCallError as error:
                results.append((error.status_code, error.status_message))
            return Action.CONTINUE

    open_stream(host, Grpc)
    dispatch.on_request_headers(STREAM, 3, 0)
    host.buffers[5] = b"allowed"
    dispatch.on_grpc_receive(ROOT, 1, 7)
    dispatch.on_context_create(3, ROOT)
    dispatch.on_request_headers(3, 3, 0)
    host.status = (7, b"denied")
    dispatch.on_grpc_close(ROOT, 2, 7)
    assert results == [b"allowed", (7, "denied")]
    assert host.called("continue_stream") == [(StreamType.HTTP_REQUEST,)] * 2


def test_deleting_the_stream_closes_the_waiting_coroutine(host: FakeHost) -> None:
    closed: list[bool] = []

    class Waits(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            try:
                await self.http_call("auth", CALL_HEADERS)
            finally:
                closed.append(True)
            return Action.CONTINUE

    open_stream(host, Waits)
    dispatch.on_request_headers(STREAM, 3, 0)
    dispatch.on_delete(STREAM)
    assert closed == [True] and state.awaiting == {}


def test_async_on_tick_awaits_a_call(host: FakeHost) -> None:
    bodies: list[bytes] = []

    class Poller(RootContext):
        async def on_tick(self) -> None:
            response = await self.http_call("config", CALL_HEADERS)
            bodies.append(response.body)

    proxywasm.set_root_context(Poller)
    dispatch.on_context_create(ROOT, 0)
    dispatch.on_tick(ROOT)
    answer(host, 1, "200", b"v2")
    assert bodies == [b"v2"]
    assert host.called("continue_stream") == []


def test_body_arriving_while_a_coroutine_awaits_is_held_for_it(host: FakeHost) -> None:
    chunks: list[int] = []

    class Inspect(HttpContext):
        async def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
            chunks.append(body_size)
            await self.http_call("auth", CALL_HEADERS)
            return Action.CONTINUE

    open_stream(host, Inspect)
    assert dispatch.on_request_body(STREAM, 10, 0) == Action.PAUSE
    assert dispatch.on_request_body(STREAM, 25, 1) == Action.PAUSE
    assert dispatch.on_request_trailers(STREAM, 1) == Action.PAUSE
    assert chunks == [10]
    answer(host, 1, "200", b"")
    assert host.called("continue_stream") == [(StreamType.HTTP_REQUEST,)]
    assert dispatch.on_response_headers(STREAM, 2, 0) == Action.CONTINUE


def test_gathering_no_calls_answers_at_once(host: FakeHost) -> None:
    class Nothing(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            results = await proxywasm.gather()
            self.set_http_request_header("x-results", str(len(results)))
            return Action.CONTINUE

    open_stream(host, Nothing)
    assert dispatch.on_request_headers(STREAM, 3, 0) == Action.CONTINUE
    assert host.called("replace_header_map_value") == [(0, "x-results", "0")]


def test_gathering_something_else_than_calls_is_a_clear_error(host: FakeHost) -> None:
    class Mixed(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            await proxywasm.gather(self.http_call("auth", CALL_HEADERS), 42)  # type: ignore[call-overload]
            return Action.CONTINUE

    open_stream(host, Mixed)
    dispatch.on_request_headers(STREAM, 3, 0)
    assert host.called("send_local_response")[0][0] == 500
    assert ("gather() takes the calls self.http_call(...) and self.grpc_call(...) return, not "
            "42: await anything else on its own") in error_text(host)


def test_gathering_one_call_twice_is_refused(host: FakeHost) -> None:
    class Twice(HttpContext):
        async def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
            call = self.http_call("auth", CALL_HEADERS)
            await proxywasm.gather(call, call)
            return Action.CONTINUE

    open_stream(host, Twice)
    dispatch.on_request_headers(STREAM, 3, 0)
    assert "gather() got the same call twice: pass each call once" in error_text(host)
