"""Shared fixtures: building filters once per session and paths to test filters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.build import build

ROOT = Path(__file__).resolve().parent.parent
FILTERS = Path(__file__).resolve().parent / "filters"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """Build a filter source into a .wasm once per test session and return its path."""
    cache: dict[Path, Path] = {}
    directory = tmp_path_factory.mktemp("modules")

    def build_once(source: Path) -> Path:
        if source not in cache:
            output = directory / f"{source.stem}-{len(cache)}.wasm"
            cache[source] = build(source, output).output
        return cache[source]

    return build_once
