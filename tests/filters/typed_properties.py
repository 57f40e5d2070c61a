"""Logs typed properties on each request's headers, and a property that fails to decode."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, properties
from proxywasm.properties import PropertyDecodeError


class TypedProperties(HttpContext):
    """One log line per property read, as ``name=repr(value)``."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        values = {
            "time": properties.request_time(), "port": properties.source_port(),
            "mtls": properties.connection_mtls(), "headers": properties.request_headers(),
            "path": properties.request_path(), "team": properties.get_string(
                ["xds", "node", "metadata", "team"]),
        }
        for name, value in values.items():
            proxywasm.log_info(f"{name}={value!r}")
        try:
            properties.get_int("odd.value")
        except PropertyDecodeError as error:
            proxywasm.log_warn(str(error))
        return Action.CONTINUE


proxywasm.set_http_context(TypedProperties)
