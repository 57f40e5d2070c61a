"""Typed properties in the emulator: given typed, served in the proxy's encoding (Envoy's
binary, WasmX's text), read back typed by proxywasm.properties in both engines."""

from __future__ import annotations

from datetime import UTC, datetime

from proxywasm import LogLevel
from proxywasm.testing import Host
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

FILTER = FILTERS / "typed_properties.py"
OPENED = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
GIVEN = {"source.port": 50123, "connection.mtls": True, "odd.value": b"\x01\x02"}
REQUEST = {":method": "GET", ":path": "/a?b=1", ":authority": "example.com", "x-tenant": "t1"}


def logged_request(host: Host) -> list[str]:
    """The filter's typed reads for one request, and its warnings."""
    assert host.start()
    host.new_http_stream().send_request_headers(REQUEST, end_of_stream=True)
    return host.logs(LogLevel.INFO) + host.logs(LogLevel.WARN)


def test_envoy_serves_typed_values_in_its_binary_forms(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTER, time=OPENED, properties={
        **GIVEN, "xds.node.metadata": {"team": "payments"}})
    assert host.properties[("source", "port")] == (50123).to_bytes(8, "little")
    assert logged_request(host) == [
        "time=datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)",
        "port=50123", "mtls=True",
        "headers={':method': 'GET', ':path': '/a?b=1', ':authority': 'example.com', "
        "'x-tenant': 't1'}",
        "path='/a?b=1'", "team='payments'",
        "odd.value b'\\x01\\x02': no integer: Envoy sends 8 little-endian bytes, WasmX decimal "
        "text; hostcalls.get_property gives the raw bytes",
    ]


def test_wasmx_serves_them_as_text_and_no_maps(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTER, host="wasmx", time=OPENED, properties=GIVEN)
    assert host.properties[("source", "port")] == b"50123"
    assert logged_request(host)[:5] == [
        "time=datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)",
        "port=50123", "mtls=True", "headers=None", "path='/a?b=1'"]


def test_a_stream_property_overrides_the_hosts(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTER, properties=GIVEN)
    assert host.start()
    stream = host.new_http_stream()
    stream.set_property(["source", "port"], 443)
    stream.send_request_headers(REQUEST, end_of_stream=True)
    assert "port=443" in host.logs(LogLevel.INFO)
