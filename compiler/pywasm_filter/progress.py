"""Progress lines for long build steps, written to stderr so stdout stays for results."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def step(message: str) -> Iterator[None]:
    """Print `message...` before a long step and its duration after it."""
    print(f"pywasm-filter: {message}...", file=sys.stderr, flush=True)
    started = time.monotonic()
    yield
    print(
        f"pywasm-filter: {message}: done in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
