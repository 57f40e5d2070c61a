"""Where pywasm-filter keeps downloads and built runtimes between builds."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache directory: $PYWASM_FILTER_CACHE, else $XDG_CACHE_HOME/pywasm-filter."""
    explicit = os.environ.get("PYWASM_FILTER_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pywasm-filter"
