"""Callbacks a context inherits are answered by the runtime; the ones it overrides still run."""

from __future__ import annotations

from proxywasm import Action
from proxywasm.testing import Host
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

FILTER = FILTERS / "inherits_callbacks.py"


def _started(proxywasm_host: HostFactory) -> Host:
    host = proxywasm_host(FILTER, raise_filter_errors=False)
    assert host.start()
    return host


def test_only_the_overridden_callback_changes_the_stream(proxywasm_host: HostFactory) -> None:
    stream = _started(proxywasm_host).new_http_stream()
    assert stream.send_request_headers({":path": "/a"}) == Action.CONTINUE
    assert stream.send_request_body(b"up", end_of_stream=True) == Action.CONTINUE
    assert stream.send_response_headers({":status": "200", "x-r": "1"}) == Action.CONTINUE
    assert stream.send_response_body(b"down", end_of_stream=True) == Action.CONTINUE
    assert stream.request_headers.get("x-tagged") == "yes"
    assert stream.request_body == b"up"
    assert stream.response_headers == [(":status", "200"), ("x-r", "1")]
    assert stream.response_body == b"down"


def test_overridden_on_log_runs_when_the_stream_ends(proxywasm_host: HostFactory) -> None:
    host = _started(proxywasm_host)
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/logged"})
    stream.complete()
    assert stream.completed
    assert "logged /logged" in host.logs()


def test_inherited_callbacks_continue_after_a_pause(proxywasm_host: HostFactory) -> None:
    stream = _started(proxywasm_host).new_http_stream()
    assert stream.send_request_headers({":path": "/pause"}, end_of_stream=False) == Action.PAUSE
    assert stream.send_request_body(b"held", end_of_stream=True) == Action.CONTINUE
    assert stream.send_response_headers({":status": "204"}) == Action.CONTINUE
    assert stream.request_headers.get("x-tagged") == "yes"


def test_a_failed_context_is_replaced_and_no_longer_logs(proxywasm_host: HostFactory) -> None:
    host = _started(proxywasm_host)
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": "/boom"}) == Action.PAUSE
    assert stream.local_response is not None and stream.local_response.status == 500
    stream.complete()
    assert stream.completed
    assert not any(line.startswith("logged") for line in host.logs())
