"""Shared fixtures: building filters once per session and paths to test filters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILTERS = Path(__file__).resolve().parent / "filters"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def built(proxywasm_build: Callable[[Path], Path]) -> Callable[[Path], Path]:
    """Build a filter source into a .wasm once per test session and return its path."""
    return proxywasm_build
