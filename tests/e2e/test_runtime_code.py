"""What a built module leaves out: the compiler and built-in modules not imported at build."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import WasmFilter
from tests.conftest import FILTERS
from tests.e2e import RunEnvoy
from tests.e2e.client import Response, get

pytestmark = pytest.mark.envoy


def _request(run_envoy: RunEnvoy, built: Callable[[Path], Path], path: str) -> tuple[Response,
                                                                                      str]:
    with run_envoy(WasmFilter(built(FILTERS / "runtime_code.py"))) as envoy:
        response = get(envoy.url + path)
        time.sleep(0.3)
        return response, envoy.logs()


def test_compiling_source_at_run_time_fails_with_a_clear_error(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    response, logs = _request(run_envoy, built, "/eval")
    assert response.status == 500
    assert "RuntimeError: compiling Python source at run time is not supported" in logs


def test_code_compiled_at_build_time_runs(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    response, _ = _request(run_envoy, built, "/code")
    assert (response.status, response.headers["x-double"]) == (200, "42")


def test_importing_a_builtin_module_first_at_run_time_fails_with_a_clear_error(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    response, logs = _request(run_envoy, built, "/import")
    assert response.status == 500
    assert "ImportError: this built-in module was not imported when the filter was built" in logs
