"""The http_routing example's envoy.yaml in a real Envoy: a request whose ``:authority`` the
filter renamed reaches the canary's virtual host (Envoy clears its route cache)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get
from tests.e2e.example_config import example_bootstrap

pytestmark = pytest.mark.envoy

DIRECTORY = EXAMPLES / "http_routing"
REQUESTS = 40


def test_requests_reach_the_host_the_filter_chose(
    start_envoy: StartEnvoy, built: Callable[[Path], Path]
) -> None:
    config = example_bootstrap(DIRECTORY / "envoy.yaml",
                               {"http_routing": built(DIRECTORY / "http_routing.py")},
                               json.dumps({"canary_percent": 50}))
    with start_envoy(config) as envoy:
        always = get(envoy.url + "/", headers={"x-canary": "always"})
        never = get(envoy.url + "/", headers={"x-canary": "never"})
        spread = Counter(get(envoy.url + "/").body for _ in range(REQUESTS))
    assert always.body == b"hello from canary\n"
    assert never.body == b"hello from primary\n"
    assert set(spread) == {b"hello from canary\n", b"hello from primary\n"}
