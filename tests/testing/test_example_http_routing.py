"""The http_routing example in the emulator, both engines (as
tests/e2e/test_example_http_routing.py)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from proxywasm import LogLevel
from proxywasm.testing import Host
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "http_routing" / "http_routing.py"


def started(proxywasm_host: HostFactory, **settings: object) -> Host:
    host = proxywasm_host(EXAMPLE, plugin_configuration=json.dumps(settings))
    assert host.start()
    return host


def routed(host: Host, authority: str = "example.com", **headers: str) -> str | None:
    """The authority the router sees for one request to ``authority`` with ``headers``."""
    stream = host.new_http_stream()
    stream.send_request_headers({":authority": authority, ":path": "/"} | headers,
                                end_of_stream=True)
    return stream.request_headers.get(":authority")


def test_the_override_header_chooses(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, canary_percent=50)
    assert [routed(host, **{"x-canary": "always"}) for _ in range(5)] == [
        "canary.example.com"] * 5
    assert [routed(host, **{"x-canary": "never"}) for _ in range(5)] == ["example.com"] * 5


@pytest.mark.parametrize(("percent", "authority"), [
    (0, "example.com"), (100, "canary.example.com")])
def test_percent_0_and_100_send_everything_one_way(proxywasm_host: HostFactory, percent: int,
                                                   authority: str) -> None:
    host = started(proxywasm_host, canary_percent=percent)
    assert {routed(host) for _ in range(20)} == {authority}


def test_requests_are_spread_by_the_percentage(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, canary_percent=25)
    seen = Counter(routed(host) for _ in range(400))
    assert set(seen) == {"example.com", "canary.example.com"}
    assert 50 < seen["canary.example.com"] < 150  # 100 expected; ~1e-9 odds of leaving


def test_other_override_values_are_ignored(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, canary_percent=0)
    assert routed(host, **{"x-canary": "yes"}) == "example.com"


def test_configured_prefix_and_header(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, canary_prefix="next-", header="x-beta")
    assert routed(host, "api.example.com:8443", **{"x-beta": "always"}) == (
        "next-api.example.com:8443")


def test_authority_already_on_the_canary_is_left_alone(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, canary_percent=100)
    assert routed(host, "canary.example.com") == "canary.example.com"


@pytest.mark.parametrize(("settings", "error"), [
    ({"canary_percent": 101}, "canary_percent must be in 0..100, got 101"),
    ({"canary_percent": -1}, "canary_percent must be in 0..100"),
    ({"canary_prefix": "can ary."}, "canary_prefix 'can ary.' must be letters"),
    ({"canary_percnt": 5}, "canary_percnt"),
])
def test_bad_configuration_is_refused(proxywasm_host: HostFactory, settings: dict[str, object],
                                      error: str) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=json.dumps(settings))
    assert not host.start()
    [message] = [line for line in host.logs(LogLevel.ERROR)
                 if line.startswith("rejecting the plugin configuration: ")]
    assert error in message


# Nginx WasmX (the emulator's WasmX profile): :authority is nginx's server name


def test_wasmx_renames_the_server_name_not_the_client_host(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, host="wasmx", plugin_configuration="{}")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":authority": "example.com", "x-canary": "always"})
    assert stream.request_headers.get(":authority") == "canary.localhost"
    assert stream.request_headers.get("host") == "example.com"
