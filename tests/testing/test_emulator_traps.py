"""A callback that exits, recurses past the stack or loops forever fails its request like a
raising one (500 with the filter's file and line), and the same VM serves the next request."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxywasm import Action
from proxywasm.testing import Host
from pywasm_filter.build import build
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

TRAPS = FILTERS / "traps.py"


def line_of(text: str) -> int:
    """The line number of ``text`` in the traps filter."""
    return TRAPS.read_text().splitlines().index(text) + 1


@pytest.fixture
def host(proxywasm_host: HostFactory) -> Host:
    host = proxywasm_host(TRAPS, raise_filter_errors=False)
    assert host.start()
    return host


@pytest.mark.parametrize(("path", "line", "error"), [
    ("/exit", "            os._exit(1)", "SystemExit: 1"),
    ("/deep", '        return f"Node({self.child!r})"', "RecursionError: maximum recursion depth"),
    ("/spin", "    while True:", "CallbackTimeout: "),
])
def test_hazard_fails_the_request_and_the_vm_serves_the_next(
    host: Host, path: str, line: str, error: str
) -> None:
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": path}) == Action.PAUSE
    assert stream.local_response is not None and stream.local_response.status == 500
    logs = "\n".join(host.logs())
    assert f'File "{TRAPS}", line {line_of(line)}' in logs
    assert error in logs
    assert host.new_http_stream().send_request_headers({":path": "/ok"}) == Action.CONTINUE


def test_callback_budget_counts_loop_iterations(tmp_path: Path) -> None:
    module = build(TRAPS, tmp_path / "traps.wasm", callback_budget=1000).output
    host = Host.from_wasm(module, raise_filter_errors=False)
    assert host.start()
    assert host.new_http_stream().send_request_headers({":path": "/loop/500"}) == Action.CONTINUE
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": "/loop/5000"}) == Action.PAUSE
    assert stream.local_response is not None and stream.local_response.status == 500
    assert "execution budget of 1000 loop iterations and calls" in "\n".join(host.logs())
