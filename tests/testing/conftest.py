"""Shared helpers of the emulator tests: filter paths and a started host per filter."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import pytest

from proxywasm.testing import Host
from tests.conftest import FILTERS

HostFactory = Callable[..., Host]


@pytest.fixture
def http_host(proxywasm_host: HostFactory) -> Host:
    """The emulated_http filter, configured and started."""
    host = proxywasm_host(FILTERS / "emulated_http.py",
                          plugin_configuration='{"greeting": "hi"}',
                          vm_configuration="vm-config",
                          properties={"custom.value": "given"})
    assert host.start()
    return host


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``data`` cut at the offsets ``cuts`` (those outside it ignored): the chunks a test sends
    one by one, at least one (empty for empty data)."""
    bounds = [0, *sorted({cut for cut in cuts if 0 < cut < len(data)}), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]
