"""The pii_redaction example in a real Envoy: the backend echoes a document with PII, the
client gets it redacted (framed anew: the length changed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywasm_filter.envoy import Envoy, Upstream
from tests.conftest import EXAMPLES
from tests.e2e import envoy_in_front
from tests.e2e.client import send

pytestmark = pytest.mark.envoy

DOCUMENT = (b'{"user": "ana@example.com", "card": "4111-1111-1111-1111", '
            b'"phone": "+1 415 555 0100", "order": "12345678901234567890"}')


@pytest.fixture(scope="module")
def envoy(built: Callable[[Path], Path], body_echo: Upstream,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    module = built(EXAMPLES / "pii_redaction" / "pii_redaction.py")
    with envoy_in_front(module, body_echo, tmp_path_factory.mktemp("envoy")) as running:
        yield running


def test_the_client_gets_the_document_redacted_and_the_log_counts(envoy: Envoy) -> None:
    response = send(envoy.port, "/account", DOCUMENT,
                    headers={"content-type": "application/json"})
    assert response.status == 200
    assert response.body == (b'{"user": "[email]", "card": "[card]", "phone": "[phone]", '
                             b'"order": "12345678901234567890"}')
    assert response.headers["content-length"] is None
    assert "/account: redacted 1 email, 1 card, 1 phone" in envoy.wait_for_log("redacted")


def test_a_binary_response_passes_unchanged(envoy: Envoy) -> None:
    response = send(envoy.port, "/", DOCUMENT, headers={"content-type": "image/png"})
    assert response.body == DOCUMENT
    assert response.headers["content-length"] == str(len(DOCUMENT))
