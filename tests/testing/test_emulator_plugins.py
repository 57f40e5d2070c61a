"""Root contexts in the emulator: several plugins in one VM, queues, gRPC streams, foreign calls."""

from __future__ import annotations

from proxywasm import LogLevel
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

ROOT_FILTER = FILTERS / "emulated_root.py"


def test_several_plugins_share_one_vm(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(ROOT_FILTER)
    second = host.add_plugin(root_id="second")
    assert host.start()
    assert host.start(second)
    assert host.logs(LogLevel.INFO) == ["configured default", "configured second"]


def test_queue_item_pushed_by_the_test_reaches_the_plugin(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(ROOT_FILTER)
    assert host.start()
    host.enqueue("jobs-default", b"job-1")
    assert "dequeued b'job-1'" in host.logs(LogLevel.INFO)
    assert host.queue("jobs-default") == []


def test_plugins_talk_through_a_queue(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(ROOT_FILTER)
    second = host.add_plugin(root_id="second")
    host.start()
    host.start(second)
    host.enqueue("jobs-second", b"forward")
    assert host.logs(LogLevel.INFO)[-2:] == ["dequeued b'forward'", "dequeued b'forwarded'"]


def test_grpc_stream_messages_both_ways_and_close(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(ROOT_FILTER, root_id="streamer")
    assert host.start()
    [stream] = host.grpc_streams
    assert (stream.service, stream.method) == ("pkg.Events", "Watch")
    assert stream.initial_metadata == [("a", "1")]
    assert stream.sent == [b"hello"]
    host.send_grpc_stream_initial_metadata(stream.token, {"server": "s1"})
    host.send_grpc_stream_message(stream.token, b"news")
    host.send_grpc_stream_message(stream.token, b"bye")
    assert stream.closed_by_filter
    host.close_grpc_stream(stream.token, 0, "finished")
    assert host.logs(LogLevel.INFO)[1:] == [
        "metadata 1: b's1'", "message b'news'", "message b'bye'", "closed 0 finished",
    ]
    assert host.shared_data["closed"] == b"0"
    assert host.grpc_streams == []


def test_filter_cancels_a_grpc_stream(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(ROOT_FILTER, root_id="streamer")
    assert host.start()
    [stream] = host.grpc_streams
    host.send_grpc_stream_message(stream.token, b"cancel")
    assert stream.cancelled
    assert not stream.closed_by_filter


def test_host_invokes_a_foreign_function_on_the_plugin(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(ROOT_FILTER)
    host.start()
    host.call_foreign_function(7, b"args")
    assert "foreign 7: b'args'" in host.logs(LogLevel.INFO)


def test_rejected_configuration_fails_the_start(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "config_header.py", plugin_configuration=b"not json")
    assert not host.start()
    assert any(message.startswith("bad configuration b'not json'")
               for message in host.logs(LogLevel.ERROR))


def test_configuration_reaches_the_stream(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "config_header.py",
                          plugin_configuration=b'{"header": "x-conf", "value": "1"}')
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers()
    stream.send_response_headers()
    assert stream.response_headers.get("x-conf") == "1"


REFUSAL_FILTER = FILTERS / "config_refusal.py"


def test_config_error_from_on_configure_is_one_line_without_traceback(
        proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(REFUSAL_FILTER, vm_configuration="ok",
                          plugin_configuration='{"limit": 0}')
    assert not host.start()
    assert host.logs(LogLevel.ERROR) == [
        "rejecting the plugin configuration: configuration: limit must be at least 1, got 0"]


def test_config_error_from_on_vm_start_rejects_the_vm_configuration(
        proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(REFUSAL_FILTER, vm_configuration="bad",
                          plugin_configuration='{"limit": 1}')
    assert not host.start()
    assert host.logs(LogLevel.ERROR) == [
        "rejecting the VM configuration: expected b'ok', got b'bad'"]


def test_accepted_configuration_starts_the_plugin(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(REFUSAL_FILTER, vm_configuration="ok",
                          plugin_configuration='{"limit": 1}')
    assert host.start()
    assert host.logs(LogLevel.ERROR) == []
