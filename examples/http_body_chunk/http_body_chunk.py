"""Scan the request body chunk by chunk as it streams, and deny it with 403 on a pattern.

The Go SDK's ``http_body_chunk`` example in Python. Each chunk is passed on as soon as it is
scanned (CONTINUE), so the proxy buffers nothing and a body of any size streams through. A
pattern split across two chunks is still found: the filter keeps the last ``len(pattern) -
1`` bytes of the previous chunk and scans them together with the next one.

The plugin configuration lists the patterns, one per line (default: ``forbidden``).
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, RootContext

DEFAULT_PATTERNS = (b"forbidden",)


class ChunkScanRoot(RootContext):
    """Reads the patterns from the plugin configuration."""

    patterns: tuple[bytes, ...] = DEFAULT_PATTERNS

    def on_configure(self, plugin_configuration_size: int) -> bool:
        configuration = self.get_plugin_configuration() or b""
        lines = tuple(line.strip() for line in configuration.splitlines() if line.strip())
        self.patterns = lines or DEFAULT_PATTERNS
        proxywasm.log_info(f"denying request bodies that contain {len(self.patterns)} "
                           "pattern(s)")
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return ChunkScan(self.patterns)


class ChunkScan(HttpContext):
    """Scans each request body chunk with the tail of the one before."""

    def __init__(self, patterns: tuple[bytes, ...]) -> None:
        super().__init__()
        self.patterns = patterns
        self.keep = max(len(pattern) for pattern in patterns) - 1
        self.tail = b""
        self.seen = 0

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        chunk = self.get_http_request_body(0, body_size) or b""
        window = self.tail + chunk
        for pattern in self.patterns:
            at = window.find(pattern)
            if at >= 0:
                offset = self.seen - len(self.tail) + at
                proxywasm.log_warn(f"denied: the request body has {pattern!r} at byte {offset}")
                self.send_http_response(403, body=b"request body denied\n")
                return Action.PAUSE
        self.seen += len(chunk)
        self.tail = window[-self.keep:] if self.keep else b""
        return Action.CONTINUE


proxywasm.set_root_context(ChunkScanRoot)
