"""Filters read their plugin configuration; a bad one makes Envoy refuse the filter."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import EnvoyError, WasmFilter
from tests.conftest import FILTERS
from tests.e2e import RunEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy


def test_header_comes_from_the_plugin_configuration(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    configuration = json.dumps({"header": "x-configured", "value": "from-config"})
    module = WasmFilter(built(FILTERS / "config_header.py"), configuration=configuration)
    with run_envoy(module) as envoy:
        response = get(envoy.url + "/")
    assert response.status == 200
    assert response.headers["x-configured"] == "from-config"


def test_bad_configuration_is_refused_with_a_readable_log_line(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    module = WasmFilter(built(FILTERS / "config_header.py"), configuration="not json")
    with pytest.raises(EnvoyError) as refused, run_envoy(module):
        pass
    assert "bad configuration b'not json'" in str(refused.value)
