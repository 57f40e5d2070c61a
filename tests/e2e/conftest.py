"""Fixtures that run built filters in a real Envoy on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from pywasm_filter.envoy import Envoy, HttpBootstrap, WasmFilter


@pytest.fixture
def run_envoy(tmp_path: Path) -> Callable[..., AbstractContextManager[Envoy]]:
    """Start Envoy with the given Wasm filters in front of a direct response."""

    @contextmanager
    def start(*filters: WasmFilter, concurrency: int = 1) -> Iterator[Envoy]:
        workdir = tmp_path / f"envoy-{len(list(tmp_path.iterdir()))}"
        with Envoy(HttpBootstrap(filters=filters).to_config(), workdir,
                   concurrency=concurrency) as envoy:
            yield envoy

    return start
