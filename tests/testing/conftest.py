"""Shared helpers of the emulator tests: filter paths and a started host per filter."""

from __future__ import annotations

from collections.abc import Callable

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
