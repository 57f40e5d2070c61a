"""`deploy istio` and `deploy wasmx`: the resources a user applies, and the rules they obey."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import yaml

from pywasm_filter.cli import main
from pywasm_filter.deploy import DeployError, IstioOptions, wasm_plugin
from tests.conftest import EXAMPLES
from tests.registry import Registry


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """Deploy only reads the module's bytes: any file named .wasm stands in for one."""
    path = tmp_path / "my_filter.wasm"
    path.write_bytes(b"\0asm\x01\0\0\0module bytes")
    return path


def _istio(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(["deploy", "istio", *arguments]) == 0
    loaded: dict[str, object] = yaml.safe_load(capsys.readouterr().out)
    return loaded


def test_wasm_plugin_for_a_file(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("header: x-team\nvalue: payments\n")
    plugin = _istio(capsys, str(module), "--config", str(config), "--namespace", "shop",
                    "--selector", "app=checkout", "--phase", "AUTHZ", "--priority", "5",
                    "--fail-strategy", "FAIL_OPEN")
    assert plugin == {
        "apiVersion": "extensions.istio.io/v1alpha1", "kind": "WasmPlugin",
        "metadata": {"name": "my-filter", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "checkout"}},
            "url": module.resolve().as_uri(),
            "sha256": hashlib.sha256(module.read_bytes()).hexdigest(),
            "phase": "AUTHZ", "priority": 5, "failStrategy": "FAIL_OPEN",
            "pluginConfig": {"header": "x-team", "value": "payments"},
        },
    }


def test_envoy_and_istio_configs_reload_a_failed_vm_by_default(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "envoy", str(module), "--snippet"]) == 0
    snippet = yaml.safe_load(capsys.readouterr().out)
    assert snippet[0]["typed_config"]["config"]["failure_policy"] == "FAIL_RELOAD"
    plugin = _istio(capsys, str(module))
    assert isinstance(plugin["spec"], dict) and plugin["spec"]["failStrategy"] == "FAIL_RELOAD"


@pytest.mark.registry
def test_wasm_plugin_for_an_image_pins_the_manifest_digest(
    tmp_path: Path, built: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with Registry(tmp_path / "registry") as registry:
        reference = f"{registry.host}/filters/headers:v1"
        assert main(["push", str(built(EXAMPLES / "http_headers" / "http_headers.py")),
                     reference]) == 0
        manifest = requests.get(f"http://{registry.host}/v2/filters/headers/manifests/v1",
                                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
                                timeout=10)
        plugin = _istio(capsys, reference)
    spec = plugin["spec"]
    assert isinstance(spec, dict)
    assert spec["url"] == f"oci://{reference}"
    assert spec["sha256"] == hashlib.sha256(manifest.content).hexdigest()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("url", "ftp://example.com/f.wasm", "Istio accepts the schemes"),
    ("sha256", "sha256:abc", "64 lowercase hex digits"),
    ("phase", "LATE", "phase 'LATE' is not allowed"),
    ("fail_strategy", "FAIL_CLOSED", "failStrategy 'FAIL_CLOSED' is not allowed"),
    ("priority", 2**31, "does not fit in a 32-bit integer"),
    ("name", "My_Filter", "DNS subdomain"),
    ("namespace", "Shop", "lowercase"),
    ("selector", {"app": "web*"}, "selector label 'app=web*'"),
    ("selector", {"-app": "web"}, "selector label key '-app'"),
    ("image_pull_policy", "Never", "imagePullPolicy 'Never'"),
])
def test_wasm_plugin_rules_are_checked_offline(field: str, value: object, message: str) -> None:
    fields: dict[str, object] = {"name": "f", "url": "oci://localhost:5000/f:v1", field: value}
    options = IstioOptions(**fields)
    with pytest.raises(DeployError, match=message.replace("*", r"\*")):
        wasm_plugin(options)


def test_plugin_config_must_be_a_mapping(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(["not", "a", "mapping"]))
    assert main(["deploy", "istio", str(module), "--config", str(config)]) == 1
    assert "pluginConfig must be a mapping" in capsys.readouterr().err


def test_plugin_config_syntax_error_names_the_line(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("header: x\nvalue: [unclosed\n")
    assert main(["deploy", "istio", str(module), "--config", str(config)]) == 1
    assert f"{config}:3: not valid JSON or YAML" in capsys.readouterr().err


def test_wasmx_block_and_directive_carry_the_configuration(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.txt"
    config.write_text("it's {\"a\": 1}")
    assert main(["deploy", "wasmx", str(module), "--config", str(config)]) == 0
    printed = capsys.readouterr().out
    assert f"wasm {{\n    module my_filter {module.resolve()};\n}}" in printed
    assert "proxy_wasm my_filter 'it\\'s {\"a\": 1}';" in printed

