"""Canary routing by rewriting ``:authority`` (the Go SDK's http_routing, with an override).

A share of requests (``canary_percent``) gets ``canary_prefix`` put in front of its authority,
``example.com`` becoming ``canary.example.com``, and Envoy routes it by host to the canary's
virtual host: a Wasm filter that changes a request header clears Envoy's route cache, so the
router matches again. A request with ``x-canary: always`` or ``never`` (the configured
``header``) chooses for itself, for testers; any other value is ignored.

Example configuration: ``{"canary_percent": 10, "canary_prefix": "canary."}``
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import proxywasm
from proxywasm import Action, HttpContext, RootContext
from proxywasm.config import ConfigError, load


@dataclass
class Settings:
    """How much traffic the canary gets, how its host is named, and the override header."""

    canary_percent: float = 50
    canary_prefix: str = "canary."
    header: str = "x-canary"

    def __post_init__(self) -> None:
        """Refuse a share outside 0..100 and a prefix that is not part of a host name."""
        if not 0 <= self.canary_percent <= 100:
            raise ConfigError(f"configuration.canary_percent must be in 0..100, "
                              f"got {self.canary_percent}")
        prefix = self.canary_prefix.replace("-", "").replace(".", "")
        if not (prefix.isascii() and prefix.isalnum()):
            raise ConfigError(f"configuration.canary_prefix {self.canary_prefix!r} must be "
                              "letters, digits, '-' and '.', e.g. 'canary.'")


class RoutingRoot(RootContext):
    """Loads and checks the configuration."""

    settings: Settings

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.settings = load(Settings, self.get_plugin_configuration())  # ConfigError refuses it
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return RouteRequest(context_id, self.context_id, self.settings)


class RouteRequest(HttpContext):
    """Sends the request to the canary by renaming its authority, or leaves it alone."""

    def __init__(self, context_id: int, root_context_id: int, settings: Settings) -> None:
        super().__init__(context_id, root_context_id)
        self.settings = settings

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        authority = self.get_http_request_header(":authority") or ""
        prefix = self.settings.canary_prefix
        if authority and not authority.startswith(prefix) and self.to_canary():
            self.set_http_request_header(":authority", prefix + authority)
        return Action.CONTINUE

    def to_canary(self) -> bool:
        """The request's own choice, else a draw weighted by ``canary_percent``."""
        choice = self.get_http_request_header(self.settings.header)
        if choice in ("always", "never"):
            return choice == "always"
        return int.from_bytes(os.urandom(4)) % 10_000 < self.settings.canary_percent * 100


proxywasm.set_root_context(RoutingRoot)
