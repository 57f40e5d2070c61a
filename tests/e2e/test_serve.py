"""`pywasm-filter serve --request` builds, runs Envoy, and prints what a request returns."""

from __future__ import annotations

import json

import pytest

from pywasm_filter.cli import main
from pywasm_filter.envoy import Upstream, free_port
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.envoy


def test_serve_prints_the_response_and_the_filter_log(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["serve", str(EXAMPLES / "http_headers" / "http_headers.py"), "--request", "/"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "HTTP 200" in printed
    assert "x-powered-by: pywasm-filter" in printed
    assert "[info] #2 -> :path: /" in printed


def test_serve_routes_to_the_upstream_on_the_given_port(
    capsys: pytest.CaptureFixture[str], backend: Upstream
) -> None:
    port = free_port()
    status = main(["serve", str(EXAMPLES / "http_headers" / "http_headers.py"),
                   "--port", str(port), "--upstream", f"http://127.0.0.1:{backend.port}",
                   "--request", "/echo"])
    printed = capsys.readouterr().out
    assert status == 0
    assert f"at http://127.0.0.1:{port} " in printed
    assert "x-powered-by: pywasm-filter" in printed
    body = printed.split("\n\n", 1)[1].split("\nfilter log:", 1)[0]
    assert "x-forwarded-proto" in json.loads(body)  # the backend echoed Envoy's request
