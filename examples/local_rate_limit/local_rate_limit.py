"""A local rate limiter: one token bucket per key in shared data, so every worker draws on it.

Each request takes a token from the bucket of its key (the value of the configured header, or
one global bucket); the bucket refills at ``rate`` tokens a second up to ``burst``. The bucket
lives in the proxy's shared data and is updated with compare-and-swap: read it with its CAS,
compute, store it only if no other worker wrote in between, else read it again. An empty
bucket answers 429 with ``retry-after``; every response says ``x-ratelimit-limit`` and
``x-ratelimit-remaining``.

Example configuration: ``{"rate": 5, "burst": 10, "key_header": "x-api-key"}``
"""

from __future__ import annotations

from dataclasses import dataclass

import proxywasm
from proxywasm import Action, CasMismatchError, HttpContext, RootContext
from proxywasm.config import ConfigError, load

MILLI = 1000  # the bucket counts thousandths of a token, so refills need no floats
ATTEMPTS = 16  # CAS races lost in a row before the request is let through (logged)


@dataclass
class Settings:
    """The plugin configuration: ``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: int
    key_header: str = ""

    def __post_init__(self) -> None:
        """Refuse a bucket that could never serve a request."""
        if self.rate <= 0 or self.burst < 1:
            raise ConfigError(f"configuration: rate must be > 0 and burst >= 1, got {self}")


@dataclass
class Bucket:
    """A bucket's state as stored in shared data: ``millitokens`` left at ``updated_ns``."""

    millitokens: int
    updated_ns: int

    @classmethod
    def parse(cls, value: bytes | None, now_ns: int, burst: int) -> Bucket:
        """The stored bucket, or a full one for a key seen for the first time."""
        if not value:
            return cls(burst * MILLI, now_ns)
        millitokens, updated_ns = value.split(b" ")
        return cls(int(millitokens), int(updated_ns))

    def refill(self, now_ns: int, settings: Settings) -> None:
        """Add what ``rate`` earned since the last update, up to ``burst``."""
        earned = int(max(0, now_ns - self.updated_ns) * settings.rate * MILLI) // 1_000_000_000
        self.millitokens = min(settings.burst * MILLI, self.millitokens + earned)
        self.updated_ns = max(now_ns, self.updated_ns)

    def encode(self) -> bytes:
        """The stored form, ``b"<millitokens> <updated_ns>"``."""
        return b"%d %d" % (self.millitokens, self.updated_ns)


class RateLimitRoot(RootContext):
    """Loads and checks the configuration."""

    settings: Settings

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.settings = load(Settings, self.get_plugin_configuration())  # ConfigError refuses it
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return LimitRequest(context_id, self.context_id, self.settings)


class LimitRequest(HttpContext):
    """Takes a token for the request, or answers 429 when the bucket is empty."""

    def __init__(self, context_id: int, root_context_id: int, settings: Settings) -> None:
        super().__init__(context_id, root_context_id)
        self.settings = settings
        self.remaining = 0

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        header = self.settings.key_header
        key = "rate_limit:" + ((self.get_http_request_header(header) or "") if header else "")
        wait_ms = self.take_token(key)
        if wait_ms is None:
            return Action.CONTINUE
        proxywasm.log_debug(f"{key} is empty: 429, next token in {wait_ms} ms")
        self.send_http_response(429, [("retry-after", str(-(-wait_ms // 1000))),
                                      *self.limit_headers()], b"too many requests\n")
        return Action.PAUSE

    def take_token(self, key: str) -> int | None:
        """Take a token from ``key``'s bucket: None if taken, else the milliseconds to wait."""
        for _ in range(ATTEMPTS):
            value, cas = self.get_shared_data(key)
            now_ns = self.get_current_time_ns()
            bucket = Bucket.parse(value, now_ns, self.settings.burst)
            bucket.refill(now_ns, self.settings)
            if bucket.millitokens < MILLI:
                self.remaining = 0
                return -int(-(MILLI - bucket.millitokens) // self.settings.rate)  # rounded up
            bucket.millitokens -= MILLI
            try:
                self.set_shared_data(key, bucket.encode(), cas)
            except CasMismatchError:
                continue  # another worker took a token in between: read the bucket again
            self.remaining = bucket.millitokens // MILLI
            return None
        proxywasm.log_warn(f"{key}: lost {ATTEMPTS} races for the bucket; letting it through")
        return None

    def limit_headers(self) -> list[tuple[str, str]]:
        """The headers that tell a client its limit and what is left of it."""
        return [("x-ratelimit-limit", str(self.settings.burst)),
                ("x-ratelimit-remaining", str(self.remaining))]

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        for name, value in self.limit_headers():
            self.set_http_response_header(name, value)
        return Action.CONTINUE


proxywasm.set_root_context(RateLimitRoot)
