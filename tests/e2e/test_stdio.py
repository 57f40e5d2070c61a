"""print() and sys.stderr reach the proxy log line by line; random is reseeded per VM."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import WasmFilter
from tests.conftest import FILTERS
from tests.e2e import RunEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy


def _logged(run_envoy: RunEnvoy, module: Path) -> str:
    with run_envoy(WasmFilter(module)) as envoy:
        assert get(envoy.url + "/printed").status == 200
        time.sleep(0.3)
        return envoy.logs()


def test_print_becomes_one_info_log_line(run_envoy: RunEnvoy,
                                         built: Callable[[Path], Path]) -> None:
    logs = _logged(run_envoy, built(FILTERS / "prints.py"))
    printed = [line for line in logs.splitlines() if "printed path /printed" in line]
    assert len(printed) == 1
    assert "[info]" in printed[0]


def test_stderr_becomes_an_error_log_line(run_envoy: RunEnvoy,
                                          built: Callable[[Path], Path]) -> None:
    logs = _logged(run_envoy, built(FILTERS / "prints.py"))
    assert any("[error]" in line and "to stderr" in line for line in logs.splitlines())


def test_random_differs_between_envoy_runs(run_envoy: RunEnvoy,
                                           built: Callable[[Path], Path]) -> None:
    module = built(FILTERS / "prints.py")
    draws = [re.findall(r"random (\d+)", _logged(run_envoy, module)) for _ in range(2)]
    assert draws[0] and draws[1]
    assert draws[0] != draws[1]
