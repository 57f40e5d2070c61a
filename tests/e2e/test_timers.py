"""Timers: the hello_world plugin ticks at the period its VM configuration gives."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import EnvoyError, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import RunEnvoy

pytestmark = pytest.mark.envoy

TICK = re.compile(r"It's \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, here is a number: (\d+)")


def test_on_tick_runs_every_period(run_envoy: RunEnvoy, built: Callable[[Path], Path]) -> None:
    module = WasmFilter(built(EXAMPLES / "hello_world" / "hello_world.py"),
                        vm_configuration="200")
    with run_envoy(module) as envoy:
        deadline = time.monotonic() + 10
        while len(TICK.findall(envoy.logs())) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        logs = envoy.logs()
    assert "Hello, World! ticking every 0.2 s" in logs
    assert len(TICK.findall(logs)) >= 6


def test_bad_vm_configuration_fails_the_vm_start(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    module = WasmFilter(built(EXAMPLES / "hello_world" / "hello_world.py"),
                        vm_configuration="soon")
    with pytest.raises(EnvoyError) as refused, run_envoy(module):
        pass
    assert "the VM configuration must be a tick period in ms, not b'soon'" in str(refused.value)
