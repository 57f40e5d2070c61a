"""The typed_config example in the emulator, both engines (as tests/e2e/test_typed_config.py)."""

from __future__ import annotations

import json

import pytest

from proxywasm import Action, LogLevel
from proxywasm.testing import UnsupportedByHostError
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "typed_config" / "typed_config.py"
CONFIGURATION = json.dumps({"header": "x-tenant", "value": "blue", "deny_paths": ["/admin"]})


def test_configuration_drives_the_filter(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=CONFIGURATION)
    assert host.start()
    assert host.logs(LogLevel.INFO) == [
        "configured: Settings(header='x-tenant', value='blue', deny_paths=['/admin'], "
        "deny_status=403)"]
    allowed = host.new_http_stream()
    assert allowed.send_request_headers({":path": "/"}, end_of_stream=True) == Action.CONTINUE
    allowed.send_response_headers({":status": "200"})
    assert allowed.response_headers.get("x-tenant") == "blue"
    denied = host.new_http_stream()
    assert denied.send_request_headers({":path": "/admin"}, end_of_stream=True) == Action.PAUSE
    assert denied.response_headers.get(":status") == "403"
    assert denied.response_body == b"denied by configuration\n"


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
    proxywasm_host: HostFactory, configuration: str, message: str
) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=configuration)
    assert not host.start()
    [rejection] = host.logs(LogLevel.ERROR)  # one line, no traceback
    assert rejection.startswith("rejecting the plugin configuration: ")
    assert message in rejection


# Nginx WasmX (the emulator's WasmX profile)


def test_wasmx_denies_configured_paths_with_its_newline(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx", plugin_configuration=CONFIGURATION)
    assert host.start()
    allowed = host.new_http_stream()
    allowed.send_request_headers({":path": "/"}, end_of_stream=True)
    allowed.send_response_headers({":status": "200"})
    assert allowed.response_headers.get("x-tenant") == "blue"
    denied = host.new_http_stream()
    assert denied.send_request_headers({":path": "/admin"}, end_of_stream=True) == Action.PAUSE
    assert denied.response_body == b"denied by configuration\n\n"


def test_wasmx_worker_exits_on_a_bad_configuration(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx", plugin_configuration='{"header": "x"}')
    assert not host.start()
    with pytest.raises(UnsupportedByHostError, match="on_configure failed"):
        host.new_http_stream()
