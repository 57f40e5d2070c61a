"""A/B routing with a sticky cookie: assign each new client a variant by weight, keep it after.

A request whose cookie names a configured variant keeps that variant; any other request (no
cookie, or a variant that is not configured, e.g. forged) is assigned one by the weights: by
a hash of the client id header when it is configured and present, so one user gets one
variant everywhere, else at random. The variant goes to the request as a header the routes
match on, and a newly assigned one to the client as a ``Set-Cookie``.

Example configuration: ``{"variants": {"a": 90, "b": 10}, "client_id_header": "x-user-id"}``
"""

from __future__ import annotations

import binascii
import os
from dataclasses import dataclass
from itertools import accumulate

import proxywasm
from proxywasm import Action, HttpContext, RootContext
from proxywasm.config import ConfigError, load


@dataclass
class Settings:
    """The variants and their weights (shares of new clients), and the names used."""

    variants: dict[str, int]
    cookie: str = "ab_variant"
    header: str = "x-variant"
    client_id_header: str = ""
    max_age: int = 30 * 24 * 3600

    def __post_init__(self) -> None:
        """Refuse weights that assign nothing and names a cookie cannot carry."""
        if any(weight < 0 for weight in self.variants.values()) or not self.total:
            raise ConfigError("configuration.variants: weights must be >= 0 and one above 0, "
                              f"got {self.variants}")
        for name in (*self.variants, self.cookie):
            if not (name.isascii() and name.replace("-", "").replace("_", "").isalnum()):
                raise ConfigError(f"configuration: {name!r} is not a cookie-safe name; "
                                  "use letters, digits, '-' and '_'")

    @property
    def total(self) -> int:
        """The sum of the weights: a draw modulo it picks a variant."""
        return sum(self.variants.values())

    def pick(self, draw: int) -> str:
        """The variant whose share of ``range(total)`` holds ``draw % total``."""
        draw %= self.total
        bounds = accumulate(self.variants.values())
        shares = zip(self.variants, bounds, strict=True)
        return next(variant for variant, bound in shares if draw < bound)


class AbRoot(RootContext):
    """Loads and checks the configuration."""

    settings: Settings

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.settings = load(Settings, self.get_plugin_configuration())  # ConfigError refuses it
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return AssignVariant(context_id, self.context_id, self.settings)


class AssignVariant(HttpContext):
    """Tags the request with its variant; sets the cookie when the variant is new."""

    def __init__(self, context_id: int, root_context_id: int, settings: Settings) -> None:
        super().__init__(context_id, root_context_id)
        self.settings = settings
        self.assigned = ""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        variant = self.cookie_variant()
        if variant not in self.settings.variants:
            variant = self.assigned = self.settings.pick(self.draw())
        self.set_http_request_header(self.settings.header, variant)
        return Action.CONTINUE

    def cookie_variant(self) -> str | None:
        """The value of the configured cookie in the request's cookie headers, if any."""
        for name, value in self.get_http_request_headers():
            if name != "cookie":
                continue
            for pair in value.split(";"):
                key, _, cookie_value = pair.strip().partition("=")
                if key == self.settings.cookie:
                    return cookie_value
        return None

    def draw(self) -> int:
        """A hash of the client id when there is one (stable per client), else random."""
        header = self.settings.client_id_header
        client_id = self.get_http_request_header(header) if header else None
        if client_id:
            return binascii.crc32(client_id.encode())
        return int.from_bytes(os.urandom(4))

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.assigned:
            self.add_http_response_header(
                "set-cookie", f"{self.settings.cookie}={self.assigned}; Path=/; "
                f"Max-Age={self.settings.max_age}; HttpOnly; SameSite=Lax")
        return Action.CONTINUE


proxywasm.set_root_context(AbRoot)
