"""The hello_world example in the emulator, both engines (as tests/e2e/test_timers.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from proxywasm import LogLevel
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "hello_world" / "hello_world.py"
TICK = re.compile(r"It's (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d), here is a number: (\d+)")
START = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_on_tick_runs_every_period_of_the_vm_configuration(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, vm_configuration="200", time=START)
    assert host.start()
    assert host.logs(LogLevel.INFO) == ["Hello, World! ticking every 0.2 s"]
    assert host.tick_period() == timedelta(milliseconds=200)
    assert host.advance_time(timedelta(seconds=1.2)) == 6
    ticks = [TICK.fullmatch(line) for line in host.logs(LogLevel.INFO)[1:]]
    assert [match[1] for match in ticks if match] == [
        "2030-01-02 03:04:05", "2030-01-02 03:04:05", "2030-01-02 03:04:05",
        "2030-01-02 03:04:05", "2030-01-02 03:04:06", "2030-01-02 03:04:06",
    ]
    assert all(match and int(match[2]) < 100 for match in ticks)


def test_default_period_is_five_seconds(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE)
    assert host.start()
    assert host.tick_period() == timedelta(seconds=5)
    assert host.advance_time(timedelta(seconds=4.9)) == 0
    assert host.advance_time(timedelta(milliseconds=100)) == 1


def test_bad_vm_configuration_fails_the_vm_start(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, vm_configuration="soon")
    assert not host.start()
    assert host.logs(LogLevel.ERROR) == [
        "the VM configuration must be a tick period in ms, not b'soon'",
        "HelloWorld.on_vm_start (context 1) returned False",
    ]
    assert host.tick_period() == timedelta(0)


# Nginx WasmX (the emulator's WasmX profile)


def test_wasmx_ticks_every_period_of_the_vm_configuration(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx", vm_configuration="200", time=START)
    assert host.start()
    assert host.advance_time(timedelta(seconds=1)) == 5
    assert len([line for line in host.logs(LogLevel.INFO) if TICK.fullmatch(line)]) == 5


def test_wasmx_worker_exits_on_a_bad_vm_configuration(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx", vm_configuration="soon")
    assert not host.start()
    assert host.worker_exited == ("on_vm_start failed: the Nginx WasmX worker exited (the "
                                  "master keeps accepting connections nobody serves)")
