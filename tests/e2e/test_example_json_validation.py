"""The json_validation example in a real Envoy, in front of a backend that echoes bodies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywasm_filter.envoy import Envoy, Upstream
from tests.conftest import EXAMPLES
from tests.e2e import envoy_in_front
from tests.e2e.client import send

pytestmark = pytest.mark.envoy

CONFIG = '{"required": {"id": "integer", "name": "string"}}'
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def envoy(built: Callable[[Path], Path], body_echo: Upstream,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    module = built(EXAMPLES / "json_validation" / "json_validation.py")
    with envoy_in_front(module, body_echo, tmp_path_factory.mktemp("envoy"),
                        configuration=CONFIG) as running:
        yield running


def test_a_valid_document_reaches_the_backend(envoy: Envoy) -> None:
    body = b'{"id": 7, "name": "lamp"}'
    response = send(envoy.port, "/items", [body[:9], body[9:]], headers=JSON)
    assert response.status == 200
    assert response.body == body


def test_an_invalid_document_is_answered_400_saying_why(envoy: Envoy) -> None:
    response = send(envoy.port, "/items", b'{"id": "7"}', headers=JSON)
    assert response.status == 400
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {
        "error": "key 'id' must be integer, not string; missing key 'name' (string)"}


def test_a_body_that_is_not_json_is_answered_415_or_400(envoy: Envoy) -> None:
    assert send(envoy.port, "/items", b"id=7",
                headers={"content-type": "application/x-www-form-urlencoded"}).status == 415
    assert send(envoy.port, "/items", b"{nope", headers=JSON).status == 400
