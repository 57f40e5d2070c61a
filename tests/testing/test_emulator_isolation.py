"""Each Host runs its own copy of the filter, even several at once in the source engine."""

from __future__ import annotations

import pytest

from proxywasm import LogLevel
from proxywasm.testing import Host
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

COUNTING = FILTERS / "counting.py"


def count(host: Host, path: str) -> str | None:
    stream = host.new_http_stream()
    stream.send_request_headers({":path": path})
    return stream.request_headers.get("x-count")


def test_module_state_starts_fresh_in_each_host(proxywasm_host: HostFactory) -> None:
    first = proxywasm_host(COUNTING)
    first.start()
    assert [count(first, "/a"), count(first, "/b")] == ["1", "2"]
    second = proxywasm_host(COUNTING)
    second.start()
    assert count(second, "/c") == "1"


def test_interleaved_hosts_keep_their_own_contexts(proxywasm_host: HostFactory) -> None:
    first, second = proxywasm_host(COUNTING), proxywasm_host(COUNTING)
    first.start()
    second.start()
    stream = first.new_http_stream()
    stream.send_request_headers({":path": "/a"})
    assert count(second, "/b") == "1"
    stream.send_response_headers()
    stream.complete()
    assert count(first, "/c") == "2"
    assert first.logs(LogLevel.INFO) == ["seen 1", "seen 2"]
    assert second.logs(LogLevel.INFO) == ["seen 1"]


def test_print_reaches_the_log_and_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    host = Host.from_source(COUNTING)
    host.start()
    count(host, "/a")
    assert host.logs(LogLevel.INFO) == ["seen 1"]
    assert capsys.readouterr().out == "seen 1\n"
