"""Check HMAC-SHA256 request signatures: method, path, timestamp and body, key from config.

A client signs each request with a shared key and sends

    x-timestamp: 1767225600                       (Unix seconds)
    x-signature: sha256=<hex HMAC-SHA256 of "METHOD\\nPATH\\nTIMESTAMP\\n" + body>

The filter answers 401 when the signature is missing, malformed or wrong, or the timestamp
is older or newer than ``max_age_seconds`` by the proxy's clock (a replayed or stale request).
Signatures are compared with ``hmac.compare_digest`` (constant time). A request with a body
is held until its body has arrived whole (send it with ``content-length``); one without is
checked on its headers. Configuration (JSON):

    {"key": "shared secret", "max_age_seconds": 300, "timestamp_header": "x-timestamp"}
"""

from __future__ import annotations

import hashlib
import hmac
import json

import proxywasm
from proxywasm import Action, HttpContext, RootContext

PREFIX = b"sha256="


class Settings:
    """The key and the freshness window, read from the plugin configuration."""

    def __init__(self, text: bytes) -> None:
        config = json.loads(text or b"null")
        if not isinstance(config, dict) or not isinstance(config.get("key"), str) \
                or not config["key"]:
            raise ValueError('the configuration must be a JSON object with a non-empty "key", '
                             'e.g. {"key": "shared secret"}')
        unknown = set(config) - {"key", "max_age_seconds", "timestamp_header"}
        if unknown:
            raise ValueError(f"unknown configuration keys {sorted(unknown)}: use key, "
                             "max_age_seconds, timestamp_header")
        self.key: bytes = config["key"].encode()
        self.max_age: int = config.get("max_age_seconds", 300)
        self.timestamp_header: str = config.get("timestamp_header", "x-timestamp")
        if not isinstance(self.max_age, int) or isinstance(self.max_age, bool) \
                or self.max_age <= 0:
            raise ValueError('"max_age_seconds" must be a positive integer such as 300')


def signature(key: bytes, method: str, path: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 a client sends for this request."""
    message = f"{method}\n{path}\n{timestamp}\n".encode("utf-8", "surrogateescape") + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class HmacRoot(RootContext):
    """Loads the key; a bad configuration is refused with the reason in the log."""

    settings: Settings

    def on_configure(self, plugin_configuration_size: int) -> bool:
        try:
            self.settings = Settings(self.get_plugin_configuration() or b"")
        except ValueError as error:
            proxywasm.log_error(f"rejecting the plugin configuration: {error}")
            return False
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return HmacCheck(self.settings)


class HmacCheck(HttpContext):
    """Checks the headers at once, then the signature over the whole body."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.signed: tuple[bytes, str, str, str] | None = None

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        given = self.get_http_request_header_bytes("x-signature")
        timestamp = self.get_http_request_header(self.settings.timestamp_header)
        if given is None or not given.startswith(PREFIX):
            return self.deny("x-signature: sha256=<hex> is required")
        if timestamp is None or not (timestamp.isascii() and timestamp.isdigit()):
            return self.deny(f"{self.settings.timestamp_header}: <Unix seconds> is required")
        age = self.get_current_time_ns() // 1_000_000_000 - int(timestamp)
        if abs(age) > self.settings.max_age:
            return self.deny(f"the timestamp is {age} s off the proxy's clock "
                             f"(at most {self.settings.max_age} s)")
        method = self.get_http_request_header(":method") or ""
        path = self.get_http_request_header(":path") or ""
        self.signed = (given[len(PREFIX):], method, path, timestamp)
        if self.get_http_request_header("content-length") not in (None, "0"):
            return Action.CONTINUE          # checked when the body is whole
        return self.check(b"")              # no body declared: check now, and again on one

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        if self.signed is None:
            return Action.CONTINUE
        body = self.whole_http_request_body(body_size, end_of_stream)
        if body is None:
            return Action.PAUSE
        return self.check(body)

    def check(self, body: bytes) -> Action:
        """Continue if the signature matches ``body``, else answer 401."""
        assert self.signed is not None
        given, method, path, timestamp = self.signed
        expected = signature(self.settings.key, method, path, timestamp, body)
        if not hmac.compare_digest(given.lower(), expected.encode()):
            return self.deny("the signature does not match the request")
        return Action.CONTINUE

    def deny(self, why: str) -> Action:
        """Answer 401 saying why, and log it."""
        proxywasm.log_info(f"401: {why}")
        self.signed = None
        self.send_http_response(401, [("www-authenticate", "HMAC-SHA256")],
                                f"{why}\n".encode())
        return Action.PAUSE


proxywasm.set_root_context(HmacRoot)
