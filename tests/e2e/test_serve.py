"""`pywasm-filter serve --request` builds, runs Envoy, and prints what a request returns."""

from __future__ import annotations

import socket

import pytest

from pywasm_filter.cli import main
from tests.conftest import EXAMPLES
from tests.upstream import http_upstream

pytestmark = pytest.mark.envoy


def test_serve_prints_the_response_and_the_filter_log(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["serve", str(EXAMPLES / "http_headers" / "http_headers.py"), "--request", "/"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "HTTP 200" in printed
    assert "x-powered-by: pywasm-filter" in printed
    assert "[info] #2 -> :path: /" in printed


def test_serve_routes_to_the_upstream_on_the_given_port(
    capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with http_upstream() as upstream:
        status = main(["serve", str(EXAMPLES / "http_headers" / "http_headers.py"),
                       "--port", str(port), "--upstream", upstream, "--request", "/echo"])
    printed = capsys.readouterr().out
    assert status == 0
    assert f"at http://127.0.0.1:{port} " in printed
    assert "upstream saw /echo" in printed
    assert "x-powered-by: pywasm-filter" in printed
