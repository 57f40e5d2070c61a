"""jwt_auth in Envoy: PyJWT from the test environment, bundled by `build`, accepts a valid
HS256 token (the backend sees its subject) and refuses the others with 401."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest

from pywasm_filter.envoy import HttpBootstrap, Upstream, WasmFilter
from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get

pytestmark = pytest.mark.envoy

SOURCE = EXAMPLES / "jwt_auth" / "jwt_auth.py"
KEY = "k" * 32
CONFIGURATION = json.dumps({"keys": {"kid1": KEY}, "issuer": "https://issuer.example"})


def bearer(key: str = KEY, expires_in: int = 3600) -> dict[str, str]:
    claims = {"sub": "alice", "iss": "https://issuer.example",
              "exp": int(time.time()) + expires_in}
    token = jwt.encode(claims, key, algorithm="HS256", headers={"kid": "kid1"})
    return {"authorization": f"Bearer {token}"}


def test_envoy_accepts_valid_tokens_and_refuses_the_others(
    start_envoy: StartEnvoy, built: Callable[[Path], Path], backend: Upstream
) -> None:
    config = HttpBootstrap(filters=[WasmFilter(built(SOURCE), configuration=CONFIGURATION)],
                           route_to="backend", clusters=[backend]).to_config()
    with start_envoy(config) as envoy:
        valid = get(envoy.url + "/orders", headers={**bearer(), "x-jwt-sub": "mallory"})
        missing = get(envoy.url + "/orders")
        expired = get(envoy.url + "/orders", headers=bearer(expires_in=-60))
        forged = get(envoy.url + "/orders", headers=bearer(key="f" * 32))
    assert valid.status == 200
    assert json.loads(valid.body)["x-jwt-sub"] == "alice"
    assert (missing.status, missing.body) == (401, b"missing bearer token\n")
    assert missing.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert (expired.status, expired.body) == (401, b"token expired\n")
    assert (forged.status, forged.body) == (401, b"bad signature\n")
