"""Typed configuration: the plugin configuration is JSON loaded into a dataclass.

A bad configuration (invalid JSON, a wrong type, a missing or misspelt field) makes ``load``
raise ``ConfigError``; raised from ``on_configure`` it is logged in one line naming the field and
the configuration is rejected, so Envoy refuses it instead of running a half-configured filter.

Example configuration: ``{"header": "x-tenant", "value": "blue", "deny_paths": ["/admin"]}``
"""

from __future__ import annotations

from dataclasses import dataclass, field

import proxywasm
from proxywasm import Action, HttpContext, RootContext
from proxywasm.config import load


@dataclass
class Settings:
    """What the plugin configuration may say."""

    header: str
    value: str
    deny_paths: list[str] = field(default_factory=list)
    deny_status: int = 403


class TypedConfigRoot(RootContext):
    """Loads and checks the configuration; creates a request context that uses it."""

    settings: Settings

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.settings = load(Settings, self.get_plugin_configuration())  # ConfigError refuses it
        proxywasm.log_info(f"configured: {self.settings}")
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return ApplySettings(context_id, self.context_id, self.settings)


class ApplySettings(HttpContext):
    """Denies the configured paths and tags every other response."""

    def __init__(self, context_id: int, root_context_id: int, settings: Settings) -> None:
        super().__init__(context_id, root_context_id)
        self.settings = settings

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.get_http_request_header(":path") in self.settings.deny_paths:
            self.send_http_response(self.settings.deny_status, body=b"denied by configuration\n")
            return Action.PAUSE
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header(self.settings.header, self.settings.value)
        return Action.CONTINUE


proxywasm.set_root_context(TypedConfigRoot)
