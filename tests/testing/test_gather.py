"""``proxywasm.gather``: calls awaited together, in the emulator on both engines (in WasmX:
tests/testing/test_example_multiple_dispatches.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from proxywasm import Action
from proxywasm.testing import Host, HttpStream
from pywasm_filter.wasm import packed
from tests.conftest import EXAMPLES, FILTERS
from tests.testing.conftest import HostFactory

FILTER = FILTERS / "contexts_gather.py"


def gathering(proxywasm_host: HostFactory, path: str) -> tuple[Host, HttpStream]:
    """A request to ``path`` paused while the filter's gathered calls are in flight."""
    host = proxywasm_host(FILTER)
    assert host.start()
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": path}) == Action.PAUSE
    return host, stream


def test_all_calls_are_dispatched_at_once_and_the_request_resumes_after_the_last(
    proxywasm_host: HostFactory,
) -> None:
    host, stream = gathering(proxywasm_host, "/mixed")
    [http_call], [grpc_call] = host.http_calls, host.grpc_calls
    host.respond_grpc_call(grpc_call, b"alice")
    assert stream.request_paused
    host.respond_http_call(http_call, 204)
    assert not stream.request_paused
    assert stream.request_headers.get("x-results") == "204 alice"


def test_a_failed_call_raises_once_every_call_answered(proxywasm_host: HostFactory) -> None:
    host, stream = gathering(proxywasm_host, "/mixed")
    host.respond_grpc_call(host.grpc_calls[0], status=7, status_message="denied")
    assert stream.local_response is None
    host.respond_http_call(host.http_calls[0], 200)
    assert stream.response_headers.get(":status") == "502"
    assert stream.response_body == b"the gRPC call auth.Auth/Check failed with status 7: denied"


def test_return_exceptions_puts_each_failure_in_its_slot(proxywasm_host: HostFactory) -> None:
    host, stream = gathering(proxywasm_host, "/settled")
    first, second, third = host.http_calls
    assert [call.headers.get(":path") for call in (first, second, third)] == ["/0", "/1", "/2"]
    host.respond_http_call(third, 503)
    host.fail_http_call(second)
    host.respond_http_call(first, 200)
    assert stream.request_headers.get("x-results") == "200 HttpCallError 503"


def test_results_keep_the_call_order_whatever_order_and_outcome_the_answers_have() -> None:
    """Every order of the three answers, each a 200, a 503 or no response (source engine)."""
    host = Host.from_source(FILTER)
    assert host.start()
    outcomes = {"200": 200, "503": 503, "HttpCallError": None}
    for order in itertools.permutations(range(3)):
        for answers in itertools.product(outcomes, repeat=3):
            stream = host.new_http_stream()
            stream.send_request_headers({":path": "/settled"})
            calls = host.http_calls
            for index in order:
                status = outcomes[answers[index]]
                if status is None:
                    host.fail_http_call(calls[index])
                else:
                    host.respond_http_call(calls[index], status)
            assert stream.request_headers.get("x-results") == " ".join(answers)
            stream.complete()


def test_the_coroutine_awaits_on_after_a_gather(proxywasm_host: HostFactory) -> None:
    host, stream = gathering(proxywasm_host, "/then")
    first, second = host.http_calls
    host.respond_http_call(second, body="b")
    host.respond_http_call(first, body="a")
    [third] = host.http_calls
    assert stream.request_paused
    host.respond_http_call(third, body="c")
    assert stream.request_headers.get("x-results") == "a b c"


def test_an_answer_after_the_stream_ended_is_dropped_quietly(
    proxywasm_host: HostFactory,
) -> None:
    host, stream = gathering(proxywasm_host, "/then")
    first, second = host.http_calls
    host.respond_http_call(first, body="a")
    stream.complete()
    host.respond_http_call(second, body="b")
    assert host.http_calls == []
    assert host.logs() == []



def test_only_a_module_whose_filter_names_gather_carries_it(
    built: Callable[[Path], Path],
) -> None:
    gathers = packed.memory_image(built(FILTER).read_bytes())
    plain = packed.memory_image(built(EXAMPLES / "http_headers" / "http_headers.py").read_bytes())
    assert b"proxywasm/_gather.py" in gathers
    assert b"proxywasm/_gather.py" not in plain
