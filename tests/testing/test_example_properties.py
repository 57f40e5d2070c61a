"""The properties example in the emulator, both engines, as Envoy and as Nginx WasmX (the
emulator encodes each typed property as that proxy does; tests/e2e/test_example_properties.py
checks Envoy's own values)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream, PropertyValue, UnsupportedByHostError
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "properties" / "properties.py"
STARTED = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
ENVOY_NODE: dict[str, PropertyValue] = {
    "xds.node.id": "edge-1", "xds.node.metadata": {"admin": True, "team": "payments"}}


def started_host(proxywasm_host: HostFactory, host: str = "envoy",
                 properties: Mapping[str, PropertyValue] | None = None) -> Host:
    """The example as plugin ``props``, started at ``STARTED``, with a local client (as each
    proxy writes its address) and ``properties``."""
    given = {"source.address": "127.0.0.1:50000" if host == "envoy" else "127.0.0.1",
             **(properties or {})}
    started = proxywasm_host(EXAMPLE, host=host, plugin_name="props", time=STARTED,
                             properties=given)
    assert started.start()
    return started


def request(host: Host, path: str) -> HttpStream:
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "GET", ":path": path, ":authority": "example.com"},
                                end_of_stream=True)
    return stream


def test_an_envoy_response_reports_the_typed_properties(proxywasm_host: HostFactory) -> None:
    host = started_host(proxywasm_host, properties={**ENVOY_NODE, "destination.port": 10000})
    stream = request(host, "/")
    assert stream.send_response_headers({":status": "200"}) == Action.CONTINUE
    headers = stream.response_headers
    assert [headers.get(name) for name in ("x-plugin", "x-node", "x-client", "x-listener-port",
                                           "x-request-time")] == [
        "props", "edge-1", "127.0.0.1", "10000", "2030-01-02T03:04:05.678000+00:00"]


def test_a_wasmx_response_reports_what_nginx_knows(proxywasm_host: HostFactory) -> None:
    stream = request(started_host(proxywasm_host, "wasmx"), "/")
    stream.send_response_headers({":status": "200"})
    headers = stream.response_headers
    assert headers.get("x-client") == "127.0.0.1"
    assert headers.get("x-request-time") == "2030-01-02T03:04:05.678000+00:00"
    assert headers.get("x-node") is None


def test_admin_is_served_to_a_local_client_of_an_admin_node(proxywasm_host: HostFactory) -> None:
    host = started_host(proxywasm_host, properties=ENVOY_NODE)
    stream = request(host, "/admin/stats")
    assert stream.local_response is None
    assert not stream.request_paused


@pytest.mark.parametrize(("client", "admin", "reason"), [
    ("10.1.2.3:4000", True, "admin is served to local clients only, not to 10.1.2.3"),
    ("[::1]:4000", False, "this node's metadata does not enable admin (node.metadata.admin: true)"),
], ids=["remote client", "admin off"])
def test_admin_is_denied_with_the_reason(proxywasm_host: HostFactory, client: str, admin: bool,
                                         reason: str) -> None:
    host = started_host(proxywasm_host, properties={
        "source.address": client, "xds.node.metadata": {"admin": admin}})
    stream = request(host, "/admin")
    assert stream.response_headers.get(":status") == "403"
    assert stream.response_body == f"{reason}\n".encode()
    assert host.logs(LogLevel.WARN) == [f"denied /admin: {reason}"]


def test_wasmx_has_no_node_so_admin_is_denied(proxywasm_host: HostFactory) -> None:
    stream = request(started_host(proxywasm_host, "wasmx"), "/admin")
    assert stream.response_headers.get(":status") == "403"
    assert stream.response_body.startswith(b"this node's metadata does not enable admin")


@pytest.mark.parametrize("proxy", ["envoy", "wasmx"])
def test_a_finished_request_is_logged_with_typed_values(proxywasm_host: HostFactory,
                                                         proxy: str) -> None:
    host = started_host(proxywasm_host, proxy)
    stream = request(host, "/orders?id=7")
    stream.send_response_headers({":status": "201"}, end_of_stream=True)
    stream.set_property("request.duration", timedelta(milliseconds=12))
    stream.set_property(["response", "size"], 38)
    stream.complete()
    assert host.logs(LogLevel.INFO)[-1] == (
        "GET /orders?id=7 from 127.0.0.1: 201, 38 bytes in 12.0 ms")


def test_wasmx_serves_no_map_property(proxywasm_host: HostFactory) -> None:
    with pytest.raises(UnsupportedByHostError, match="WasmX serves no map property"):
        proxywasm_host(EXAMPLE, host="wasmx", properties=ENVOY_NODE)
