"""A filter that adds the response header named in its JSON plugin configuration."""

from __future__ import annotations

import json

import proxywasm
from proxywasm import Action, HttpContext, LogLevel, RootContext


class ConfigRoot(RootContext):
    """Reads {"header": ..., "value": ...}; refuses anything else."""

    header = ""
    value = ""

    def on_configure(self, plugin_configuration_size: int) -> bool:
        raw = self.get_plugin_configuration() or b""
        try:
            config = json.loads(raw)
            self.header, self.value = str(config["header"]), str(config["value"])
        except (ValueError, KeyError, TypeError) as error:
            proxywasm.log(LogLevel.ERROR, f"bad configuration {raw!r}: {error}")
            return False
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return AddHeader(context_id, self.context_id, self.header, self.value)


class AddHeader(HttpContext):
    """Adds the configured header to every response."""

    def __init__(self, context_id: int, root_context_id: int, header: str, value: str) -> None:
        super().__init__(context_id, root_context_id)
        self.header = header
        self.value = value

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.add_http_response_header(self.header, self.value)
        return Action.CONTINUE


proxywasm.set_root_context(ConfigRoot)
