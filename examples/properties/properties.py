"""Authorize requests from the proxy's properties, and show them typed.

The Python counterpart of the Go SDK's ``properties`` example. Paths under ``/admin`` are
served only to a client on this machine (``source.address``) of a node whose metadata says
``admin: true`` (Envoy's bootstrap ``node.metadata``; Nginx WasmX has no node, so it never
serves them). Every response tells the client what the proxy knows of the request, decoded
by ``proxywasm.properties`` from Envoy's binary or WasmX's text values; each finished
request is logged with its status, size and duration.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, properties

ADMIN_PREFIX = "/admin"
ADMIN_SWITCH = ["xds", "node", "metadata", "admin"]
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def admin_refusal() -> str | None:
    """Why this request may not reach an admin path, or None if it may."""
    client = properties.source_ip()
    if client not in LOOPBACK:
        return f"admin is served to local clients only, not to {client or 'an unknown client'}"
    if properties.get_bool(ADMIN_SWITCH) is not True:
        return "this node's metadata does not enable admin (node.metadata.admin: true)"
    return None


class Properties(HttpContext):
    """Denies admin paths by client address and node metadata; reports typed properties."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path = properties.request_path() or "/"
        if path.startswith(ADMIN_PREFIX):
            refusal = admin_refusal()
            if refusal is not None:
                proxywasm.log_warn(f"denied {path}: {refusal}")
                self.send_http_response(403, body=f"{refusal}\n".encode())
                return Action.PAUSE
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        started = properties.request_time()
        port = properties.destination_port()
        facts = {
            "x-plugin": properties.plugin_name(),
            "x-node": properties.node_id(),
            "x-client": properties.source_ip(),
            "x-listener-port": None if port is None else str(port),
            "x-request-time": None if started is None else started.isoformat(),
        }
        for name, value in facts.items():
            if value is not None:
                self.add_http_response_header(name, value)
        return Action.CONTINUE

    def on_log(self) -> None:
        duration = properties.request_duration()
        took = "?" if duration is None else f"{duration.total_seconds() * 1000:.1f} ms"
        proxywasm.log_info(
            f"{properties.request_method()} {properties.request_path()} from "
            f"{properties.source_ip()}: {properties.response_code()}, "
            f"{properties.response_size()} bytes in {took}")


proxywasm.set_http_context(Properties)
