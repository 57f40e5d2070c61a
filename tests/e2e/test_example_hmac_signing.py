"""The hmac_signing example in a real Envoy: signed requests reach the backend, others get
401. The signatures are computed with the proxy's clock (Envoy's is the machine's)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywasm_filter.envoy import Envoy, Upstream
from tests.conftest import EXAMPLES
from tests.e2e import envoy_in_front
from tests.e2e.client import send

pytestmark = pytest.mark.envoy

KEY = b"s3cret"


def signed_headers(method: str, path: str, body: bytes, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    digest = hmac.new(KEY, f"{method}\n{path}\n{timestamp}\n".encode() + body,
                      hashlib.sha256).hexdigest()
    return {"x-timestamp": timestamp, "x-signature": f"sha256={digest}"}


@pytest.fixture(scope="module")
def envoy(built: Callable[[Path], Path], body_echo: Upstream,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    module = built(EXAMPLES / "hmac_signing" / "hmac_signing.py")
    with envoy_in_front(module, body_echo, tmp_path_factory.mktemp("envoy"),
                        configuration='{"key": "s3cret", "max_age_seconds": 300}') as running:
        yield running


def test_a_signed_request_reaches_the_backend(envoy: Envoy) -> None:
    body = b'{"amount": 10}'
    response = send(envoy.port, "/pay?to=bob", body,
                    headers=signed_headers("POST", "/pay?to=bob", body))
    assert response.status == 200
    assert response.body == body


def test_a_tampered_body_is_answered_401(envoy: Envoy) -> None:
    response = send(envoy.port, "/pay", b'{"amount": 1000}',
                    headers=signed_headers("POST", "/pay", b'{"amount": 10}'))
    assert response.status == 401
    assert response.body == b"the signature does not match the request\n"


def test_a_stale_or_unsigned_request_is_answered_401(envoy: Envoy) -> None:
    stale = send(envoy.port, "/pay", b"x", headers=signed_headers("POST", "/pay", b"x", age=600))
    assert stale.status == 401
    assert stale.body.startswith(b"the timestamp is 600 s off the proxy's clock")
    unsigned = send(envoy.port, "/pay", b"x", method="GET")
    assert unsigned.status == 401
    assert unsigned.headers["www-authenticate"] == "HMAC-SHA256"
