"""Typed configuration in Envoy: a dataclass from JSON, and a bad configuration refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import EnvoyError, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import RunEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy

SOURCE = EXAMPLES / "typed_config" / "typed_config.py"


def test_configuration_drives_the_filter(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    configuration = json.dumps({"header": "x-tenant", "value": "blue", "deny_paths": ["/admin"]})
    with run_envoy(WasmFilter(built(SOURCE), configuration=configuration)) as envoy:
        allowed = get(envoy.url + "/")
        denied = get(envoy.url + "/admin")
    assert allowed.status == 200 and allowed.headers["x-tenant"] == "blue"
    assert denied.status == 403 and denied.body == b"denied by configuration\n"


@pytest.mark.parametrize(
    ("configuration", "message"),
    [
        ('{"header": "x-tenant"}', "configuration: the field 'value' is required"),
        ('{"header": "x-tenant", "value": "blue", "deny_status": "403"}',
         "configuration.deny_status must be an integer, got '403'"),
        ('{"header": "x-tenant", "vaule": "blue"}',
         "unknown field 'vaule' (did you mean 'value'?)"),
    ],
)
def test_bad_configuration_is_refused_naming_the_field(
    run_envoy: RunEnvoy, built: Callable[[Path], Path], configuration: str, message: str
) -> None:
    with pytest.raises(EnvoyError) as refused, run_envoy(
        WasmFilter(built(SOURCE), configuration=configuration)
    ):
        pass
    assert "rejecting the plugin configuration" in str(refused.value)
    assert message in str(refused.value)
