"""The http_body example in a real Envoy, in front of a backend that echoes the request body
and says how it was framed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywasm_filter.envoy import Envoy, Upstream
from tests.conftest import EXAMPLES
from tests.e2e import envoy_in_front
from tests.e2e.client import send

pytestmark = pytest.mark.envoy


@pytest.fixture(scope="module")
def envoy(built: Callable[[Path], Path], body_echo: Upstream,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    module = built(EXAMPLES / "http_body" / "http_body.py")
    with envoy_in_front(module, body_echo, tmp_path_factory.mktemp("envoy")) as running:
        yield running


@pytest.mark.parametrize(("operation", "expected"), [
    ("append", b"[initial body][this is appended body]"),
    ("prepend", b"[this is prepended body][initial body]"),
    ("replace", b"[this is replaced body]"),
])
def test_the_backend_gets_the_changed_request_body_without_a_stale_length(
    envoy: Envoy, operation: str, expected: bytes,
) -> None:
    response = send(envoy.port, "/", b"[initial body]", headers={"buffer-operation": operation})
    assert response.status == 200
    assert response.body == expected
    assert response.headers["x-got-content-length"] == "none"
    assert response.headers["x-got-transfer-encoding"] == "chunked"


def test_a_chunked_request_body_is_changed_whole(envoy: Envoy) -> None:
    response = send(envoy.port, "/", [b"[initial ", b"body]"],
                    headers={"buffer-operation": "append", "buffer-replace-with": "!"})
    assert response.body == b"[initial body]!"


def test_the_client_gets_the_changed_response_body(envoy: Envoy) -> None:
    response = send(envoy.port, "/", b"[initial body]",
                    headers={"buffer-operation": "prepend", "buffer-replace-at": "response"})
    assert response.status == 200
    assert response.body == b"[this is prepended body][initial body]"
    assert response.headers["x-got-content-length"] == "14"
    assert response.headers["content-length"] is None


def test_an_unknown_operation_is_answered_400(envoy: Envoy) -> None:
    response = send(envoy.port, "/", b"x", headers={"buffer-operation": "shuffle"})
    assert response.status == 400
    assert response.body.startswith(b"buffer-operation must be one of append, prepend, replace")
