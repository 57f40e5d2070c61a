"""The local_rate_limit example in a real Envoy with two workers: one bucket per key for both."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pywasm_filter.envoy import WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import RunEnvoy
from tests.e2e.client import Response, get

pytestmark = pytest.mark.envoy

# 10 requests at once per key; a token a minute and a half after that, far more than a test
SETTINGS = {"rate": 0.01, "burst": 10, "key_header": "x-api-key"}
REQUESTS = 30


def test_the_limit_holds_across_two_workers(
    run_envoy: RunEnvoy, built: Callable[[Path], Path]
) -> None:
    module = WasmFilter(built(EXAMPLES / "local_rate_limit" / "local_rate_limit.py"),
                        configuration=json.dumps(SETTINGS))

    def send(key: str) -> Response:
        return get(envoy.url + "/", headers={"x-api-key": key})

    with run_envoy(module, concurrency=2) as envoy, ThreadPoolExecutor(8) as pool:
        # A key's first request creates its bucket: it cannot be made atomic (see README.md)
        first = [send("alice"), send("bob")]
        responses = list(pool.map(send, ["alice", "bob"] * REQUESTS))
        logs = envoy.logs()
    assert [response.headers["x-ratelimit-remaining"] for response in first] == ["9", "9"]
    seen = Counter((response.status, key) for response, key in
                   zip(responses, ["alice", "bob"] * REQUESTS, strict=True))
    assert seen == {(200, "alice"): 9, (200, "bob"): 9,
                    (429, "alice"): REQUESTS - 9, (429, "bob"): REQUESTS - 9}
    denied = next(response for response in responses if response.status == 429)
    assert 90 <= int(denied.headers["retry-after"]) <= 100  # a token per 100 s, less the test
    assert denied.headers["x-ratelimit-limit"] == "10"
    assert denied.body == b"too many requests\n"
    workers = set(re.findall(r"\]\[(\d+)\]\[debug\]\[wasm\].* is empty: 429", logs))
    assert len(workers) == 2, "both workers should have denied requests"
