"""Filters written from the docs without passing context ids run in Envoy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import WasmFilter
from tests.conftest import FILTERS
from tests.e2e import RunEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy


def test_contexts_made_without_ids_serve_requests(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    tagging = WasmFilter(built(FILTERS / "docs_style.py"), configuration="blue", name="tagging")
    greeting = WasmFilter(built(FILTERS / "contexts_registered.py"), name="greeting")
    with run_envoy(tagging, greeting) as envoy:
        responses = [get(envoy.url + "/"), get(envoy.url + "/")]
    for response in responses:
        assert response.status == 200
        assert response.headers["x-tag"] == "blue"
        stream, root = response.headers["x-tag-ids"].split()
        assert int(stream) > int(root) > 0
        assert response.headers["x-init"] == "ran"
    assert responses[0].headers["x-ids"] != responses[1].headers["x-ids"]
