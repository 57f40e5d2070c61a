"""`deploy envoy` output runs: a real Envoy started with it answers through the filter."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pywasm_filter.cli import main
from pywasm_filter.envoy import Envoy, HttpBootstrap, Upstream, envoy_binary
from tests.conftest import FILTERS
from tests.e2e.client import get

pytestmark = pytest.mark.envoy


@pytest.fixture
def module(built: Callable[[Path], Path]) -> Path:
    """A filter that adds the header its JSON configuration names."""
    return built(FILTERS / "config_header.py")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A plugin configuration the filter accepts."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"header": "x-deployed", "value": "yes"}))
    return path


def _deploy(tmp_path: Path, *arguments: str) -> object:
    output = tmp_path / "out.yaml"
    assert main(["deploy", "envoy", *arguments, "-o", str(output)]) == 0
    return yaml.safe_load(output.read_text())


def test_bootstrap_runs_in_envoy(tmp_path: Path, module: Path, config_file: Path) -> None:
    bootstrap = _deploy(tmp_path, str(module), "--config", str(config_file),
                        "--port", "0", "--admin-port", "0", "--address", "127.0.0.1")
    assert isinstance(bootstrap, dict)
    with Envoy(bootstrap, tmp_path / "envoy") as envoy:
        response = get(envoy.url + "/")
        released = envoy.wait_for_log("Configured tcmalloc with background release rate")
    assert response.status == 200
    assert response.headers["x-deployed"] == "yes"
    assert "1048576 bytes per second" in released


def test_bootstrap_passes_envoy_validate(tmp_path: Path, module: Path, config_file: Path) -> None:
    assert main(["deploy", "envoy", str(module), "--config", str(config_file),
                 "-o", str(tmp_path / "envoy.yaml")]) == 0
    result = subprocess.run(
        [str(envoy_binary()), "--mode", "validate", "-c", "envoy.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "configuration 'envoy.yaml' OK" in result.stdout + result.stderr, result.stderr[-2000:]


def test_bootstrap_routes_to_the_upstream(
    tmp_path: Path, module: Path, config_file: Path, backend: Upstream
) -> None:
    bootstrap = _deploy(tmp_path, str(module), "--config", str(config_file),
                        "--port", "0", "--admin-port", "0", "--address", "127.0.0.1",
                        "--upstream", f"http://127.0.0.1:{backend.port}")
    assert isinstance(bootstrap, dict)
    with Envoy(bootstrap, tmp_path / "envoy") as envoy:
        response = get(envoy.url + "/hello")
    assert "x-forwarded-proto" in json.loads(response.body)  # the backend echoed the request
    assert response.headers["x-deployed"] == "yes"


def test_snippet_works_in_an_existing_chain(
    tmp_path: Path, module: Path, config_file: Path
) -> None:
    snippet = _deploy(tmp_path, str(module), "--config", str(config_file), "--snippet",
                      "--failure-policy", "FAIL_OPEN")
    assert isinstance(snippet, list)
    assert snippet[0]["typed_config"]["config"]["failure_policy"] == "FAIL_OPEN"
    bootstrap = HttpBootstrap(filters=[]).to_config()
    manager = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    manager["typed_config"]["http_filters"][:0] = snippet
    with Envoy(bootstrap, tmp_path / "envoy") as envoy:
        response = get(envoy.url + "/")
    assert response.headers["x-deployed"] == "yes"


def test_an_image_reference_is_refused_for_envoy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "envoy", "localhost:5000/filters/x:v1"]) == 1
    assert "pywasm-filter pull localhost:5000/filters/x:v1" in capsys.readouterr().err
