"""In Envoy, a callback that exits, recurses past the stack or loops forever answers 500 with a
Python traceback naming the filter's file and line, and the same worker serves the next
request; a trap the runtime cannot turn into an exception recovers under FAIL_RELOAD."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import WasmFilter
from tests.conftest import FILTERS
from tests.e2e import RunEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy

TRAPS = FILTERS / "traps.py"
# Envoy reloads a failed VM only once this long has passed since the VM was loaded
# (reload_config's base interval, 1 s, with up to 50% jitter).
RELOAD_BACKOFF_SECONDS = 1.6


def line_of(text: str) -> int:
    """The line number of ``text`` in the traps filter."""
    return TRAPS.read_text().splitlines().index(text) + 1


def test_exit_recursion_and_loop_fail_the_request_and_the_worker_serves_on(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    hazards = {
        "/exit": ("            os._exit(1)", "SystemExit: 1"),
        "/deep": ('        return f"Node({self.child!r})"', "RecursionError"),
        "/spin": ("    while True:", "CallbackTimeout"),
    }
    with run_envoy(WasmFilter(built(TRAPS), failure_policy="FAIL_CLOSED")) as envoy:
        answers = {path: (get(envoy.url + path).status, get(envoy.url + "/ok").status)
                   for path in hazards}
        time.sleep(0.3)
        logs = envoy.logs()
    assert answers == {path: (500, 200) for path in hazards}
    for line, error in hazards.values():
        assert f'File "{TRAPS}", line {line_of(line)}' in logs
        assert error in logs
    assert "failed: Uncaught" not in logs


def test_a_trap_recovers_under_fail_reload(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    with run_envoy(WasmFilter(built(TRAPS))) as envoy:
        time.sleep(RELOAD_BACKOFF_SECONDS)
        trapped = get(envoy.url + "/abort").status
        after = get(envoy.url + "/ok").status
        time.sleep(0.3)
        logs = envoy.logs()
    assert (trapped, after) == (503, 200)
    assert "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable" in logs
