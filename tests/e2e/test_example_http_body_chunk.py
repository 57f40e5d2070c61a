"""The http_body_chunk example in a real Envoy: bodies stream through unbuffered (5 MiB, over
Envoy's 1 MiB buffer limit) unless a pattern appears, even split across two chunks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywasm_filter.envoy import Envoy, Upstream
from tests.conftest import EXAMPLES
from tests.e2e import envoy_in_front
from tests.e2e.client import send

pytestmark = pytest.mark.envoy

BIG = bytes(range(256)) * (5 * 1024 * 1024 // 256)


@pytest.fixture(scope="module")
def envoy(built: Callable[[Path], Path], body_echo: Upstream,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    module = built(EXAMPLES / "http_body_chunk" / "http_body_chunk.py")
    with envoy_in_front(module, body_echo, tmp_path_factory.mktemp("envoy"),
                        configuration="forbidden\nDROP TABLE") as running:
        yield running


def test_a_pattern_split_across_two_chunks_is_denied_with_403(envoy: Envoy) -> None:
    response = send(envoy.port, "/upload", [b"this is forb", b"idden text"])
    assert response.status == 403
    assert response.body == b"request body denied\n"
    assert "denied: the request body has b'forbidden' at byte 8" in envoy.wait_for_log(
        "denied: the request body")


def test_a_large_clean_body_streams_through_unbuffered(envoy: Envoy) -> None:
    response = send(envoy.port, "/digest", BIG)
    assert response.status == 200
    assert json.loads(response.body) == {"length": len(BIG),
                                         "sha256": hashlib.sha256(BIG).hexdigest()}


def test_a_pattern_after_megabytes_of_body_is_still_denied(envoy: Envoy) -> None:
    response = send(envoy.port, "/digest", BIG + b"; DROP TABLE users")
    assert response.status == 403
