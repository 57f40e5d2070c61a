"""`pywasm-filter serve --request` builds, runs Envoy, and prints what a request returns."""

from __future__ import annotations

import pytest

from pywasm_filter.cli import main
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.envoy


def test_serve_prints_the_response_and_the_filter_log(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["serve", str(EXAMPLES / "http_headers" / "http_headers.py"), "--request", "/"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "HTTP 200" in printed
    assert "x-powered-by: pywasm-filter" in printed
    assert "[info] #2 -> :path: /" in printed
