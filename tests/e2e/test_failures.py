"""A filter that raises never takes Envoy down; it fails closed unless it opts out."""

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


def test_raising_filter_answers_500_and_envoy_keeps_serving(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    with run_envoy(WasmFilter(built(FILTERS / "raises.py"))) as envoy:
        failed = get(envoy.url + "/boom")
        after = [get(envoy.url + "/fine").status for _ in range(5)]
        again = get(envoy.url + "/boom")
        assert envoy.running()
    assert failed.status == 500
    assert again.status == 500
    assert after == [200] * 5


def test_runaway_recursion_fails_the_request_not_the_proxy(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    with run_envoy(WasmFilter(built(FILTERS / "raises.py"))) as envoy:
        failed = get(envoy.url + "/recurse")
        after = get(envoy.url + "/fine")
        time.sleep(0.3)
        logs = envoy.logs()
    assert (failed.status, after.status) == (500, 200)
    assert "RecursionError: maximum recursion depth exceeded" in logs


def test_traceback_names_the_file_and_line(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    with run_envoy(WasmFilter(built(FILTERS / "raises.py"))) as envoy:
        get(envoy.url + "/boom")
        time.sleep(0.3)
        logs = envoy.logs()
    error_lines = [line for line in logs.splitlines() if "[error]" in line and "wasm" in line]
    text = "\n".join(error_lines)
    assert f'File "{FILTERS / "raises.py"}", line 12, in check' in text
    assert "ValueError: boom requested" in text
    assert "_dispatch.py" not in text


def test_fail_open_filter_lets_the_request_through(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    with run_envoy(WasmFilter(built(FILTERS / "fail_open.py"))) as envoy:
        response = get(envoy.url + "/boom")
        time.sleep(0.3)
        logs = envoy.logs()
    assert response.status == 200
    assert "RuntimeError: failing open" in logs
