"""The SDK imports ``datetime`` only for what needs it (``get_current_time``,
``DEFAULT_TIMEOUT``): a module carries it only when its filter uses one of them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from proxywasm import LogLevel
from pywasm_filter import linking
from pywasm_filter.build import GUEST_STDLIB
from pywasm_filter.wasm import packed
from tests.conftest import EXAMPLES, FILTERS
from tests.testing.conftest import HostFactory

CLOCK = FILTERS / "clock.py"
DATETIME_SOURCE = f"{GUEST_STDLIB}/datetime.py".encode()


def test_a_filter_reads_the_clock_without_importing_datetime(
        proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(CLOCK, time=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert host.start()
    assert host.logs(LogLevel.INFO) == ["2030-01-02 03:04:05 UTC", "callouts wait 5 s"]


def test_a_header_filter_module_carries_no_datetime(built: Callable[[Path], Path]) -> None:
    image = packed.memory_image(built(EXAMPLES / "http_headers" / "http_headers.py").read_bytes())
    assert b"proxywasm/hostcalls.py" in image
    assert DATETIME_SOURCE not in image


def test_a_filter_reading_the_clock_carries_datetime(built: Callable[[Path], Path]) -> None:
    assert DATETIME_SOURCE in packed.memory_image(built(CLOCK).read_bytes())


def test_each_sdk_name_needing_datetime_makes_the_build_import_it(tmp_path: Path) -> None:
    uses = {
        "now.py": "from proxywasm import hostcalls\nhostcalls.get_current_time()\n",
        "timeout.py": "from proxywasm.hostcalls import DEFAULT_TIMEOUT\nprint(DEFAULT_TIMEOUT)\n",
        "headers.py": "import proxywasm\nproxywasm.log_info('no clock')\n",
    }
    for name, source in uses.items():
        (tmp_path / name).write_text(source)
    assert {name: linking.plan(tmp_path / name).imports for name in uses} == {
        "now.py": {"datetime"}, "timeout.py": {"datetime"}, "headers.py": frozenset()}
