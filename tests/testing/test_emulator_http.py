"""HTTP streams in the emulator, each behaviour in both engines (source and wasm)."""

from __future__ import annotations

from proxywasm import Action, LogLevel
from proxywasm.testing import Host
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory


def test_request_headers_are_changed_for_the_upstream(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    action = stream.send_request_headers({":path": "/", "X-Secret": "s", "accept": "*/*"})
    assert action == Action.CONTINUE
    assert stream.request_headers.get("x-greeting") == "hi"
    assert stream.request_headers.get("x-secret") is None
    assert stream.request_headers.get("x-seen") == "3"
    assert stream.request_headers[:2] == [(":path", "/"), ("accept", "*/*")]


def test_header_methods_take_their_arguments_by_name(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    assert stream.send_request_headers({":path": "/", "x-drop": "d"}) == Action.CONTINUE
    assert stream.request_headers.get("x-drop") is None
    assert stream.request_headers.get("x-seen") == "2"


def test_default_request_headers_are_a_get_of_the_root(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers()
    assert stream.request_headers.get(":method") == "GET"
    assert stream.request_headers.get(":path") == "/"


def test_body_chunks_are_held_until_the_end_then_rewritten(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/upload", ":method": "POST"})
    assert stream.send_request_body(b"hello ", end_of_stream=False) == Action.PAUSE
    assert stream.request_body == b""
    assert stream.send_request_body(b"world", end_of_stream=True) == Action.CONTINUE
    assert stream.request_body == b"HELLO WORLD"
    assert stream.request_trailers.get("x-body-size") == "11"
    assert http_host.histograms["body_sizes"] == [11]


def test_request_trailers_reach_the_filter(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/"})
    stream.send_request_body(b"data", end_of_stream=False)
    assert stream.send_request_trailers({"grpc-status": "0", "x-a": "1"}) == Action.CONTINUE
    assert stream.request_trailers == [("grpc-status", "0"), ("x-a", "1"),
                                       ("x-trailer-seen", "2")]


def test_response_headers_and_body_are_changed_for_the_client(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/page"}, end_of_stream=True)
    stream.send_response_headers({":status": "200", "content-type": "text/html"})
    stream.send_response_body(b"<p>", end_of_stream=False)
    stream.send_response_body(b"</p>", end_of_stream=True)
    assert stream.response_headers.get("x-path") == "/page"
    assert stream.response_body == b"<p></p>!"


def test_local_response_passes_through_the_response_phase(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    assert stream.send_request_headers({":path": "/deny"}) == Action.PAUSE
    assert stream.local_response is not None
    assert stream.local_response.status == 403
    assert stream.local_response.body == b"denied\n"
    assert stream.response_headers.get(":status") == "403"
    assert stream.response_headers.get("x-denied") == "yes"
    assert stream.response_headers.get("x-path") == "/deny"
    assert stream.response_body == b"denied\n!"


def test_http_call_is_recorded_and_its_answer_resumes_the_request(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    assert stream.send_request_headers({":path": "/auth"}) == Action.PAUSE
    [call] = http_host.http_calls
    assert call.upstream == "auth"
    assert call.headers.get(":path") == "/check"
    assert call.body == b"token"
    assert call.timeout_ms == 5000
    http_host.respond_http_call(call, 200, body=b"alice")
    assert not stream.request_paused
    assert stream.request_headers.get("x-auth") == "alice"
    assert http_host.http_calls == []


def test_http_call_refused_answers_locally(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/auth"})
    http_host.respond_http_call(http_host.http_calls[0], 403, headers={"x-why": "no"},
                                body=b"nope")
    assert stream.local_response is not None
    assert stream.local_response.status == 401
    assert stream.local_response.headers.get("x-auth") == "nope"


def test_failed_http_call_reaches_the_filter_without_headers(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/auth"})
    http_host.fail_http_call(http_host.http_calls[0].token)
    assert stream.local_response is not None
    assert stream.local_response.status == 503


def test_grpc_call_answer_resumes_the_request(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    assert stream.send_request_headers({":path": "/grpc"}) == Action.PAUSE
    [call] = http_host.grpc_calls
    assert (call.upstream, call.service, call.method) == ("grpc", "pkg.Service", "Check")
    assert call.message == b"ping"
    assert call.initial_metadata == [("k", "v")]
    http_host.respond_grpc_call(call, b"pong")
    assert stream.request_headers.get("x-grpc") == "pong"
    assert not stream.request_paused


def test_grpc_call_failure_carries_status_and_message(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/grpc"})
    http_host.respond_grpc_call(http_host.grpc_calls[0], status=14, status_message="down")
    assert stream.local_response is not None
    assert stream.local_response.status == 502
    assert stream.local_response.headers.get("x-grpc-error") == "down"


def test_foreign_function_registered_by_the_test_is_called(http_host: Host) -> None:
    http_host.register_foreign_function("reverse", lambda data: data[::-1])
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/ffi"})
    assert stream.request_headers.get("x-ffi") == "cba"


def test_properties_derived_given_and_set(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/property", ":method": "PUT"})
    assert stream.request_headers.get("x-method") == "PUT"
    assert stream.request_headers.get("x-custom") == "given"
    assert stream.properties[("filter", "seen")] == b"yes"


def test_shared_data_compare_and_swap(http_host: Host) -> None:
    http_host.set_shared_data("hits", b"41")
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/shared"})
    assert http_host.shared_data["hits"] == b"42"
    assert "cas mismatch" in http_host.logs(LogLevel.WARN)


def test_logs_are_captured_per_level(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers({":path": "/levels"})
    for level in LogLevel:
        assert f"at {level.name}" in http_host.logs(level)
    assert "at TRACE" not in http_host.logs(LogLevel.DEBUG)


def test_host_log_level_drops_lower_messages(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "emulated_http.py", log_level=LogLevel.WARN)
    assert host.start()
    host.new_http_stream().send_request_headers({":path": "/levels"})
    assert host.logs() == ["at WARN", "at ERROR", "at CRITICAL"]


def test_vm_configuration_is_read_in_on_vm_start(http_host: Host) -> None:
    assert "vm configuration: b'vm-config'" in http_host.logs(LogLevel.INFO)


def test_counter_counts_requests(http_host: Host) -> None:
    for _ in range(3):
        http_host.new_http_stream().send_request_headers()
    assert http_host.metrics["requests"] == 3


def test_ticks_follow_the_clock_the_test_advances(http_host: Host) -> None:
    assert http_host.tick_period().total_seconds() == 1
    assert http_host.advance_time(2500) == 2
    assert http_host.metrics["ticks"] == 2
    assert any(message.startswith("tick 2 at 2023-11-14T22:13:22")
               for message in http_host.logs(LogLevel.DEBUG))
    http_host.tick()
    assert http_host.metrics["ticks"] == 3


def test_completed_stream_logs_and_is_deleted(http_host: Host) -> None:
    stream = http_host.new_http_stream()
    stream.send_request_headers(end_of_stream=True)
    stream.send_response_headers(end_of_stream=True)
    stream.complete()
    assert stream.completed
    assert [phase for phase, _action in stream.actions] == ["request_headers",
                                                            "response_headers"]
