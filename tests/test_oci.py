"""`push` and `pull` against a real registry on 127.0.0.1: layouts, digests and bad input."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from pywasm_filter.cli import main
from tests.conftest import EXAMPLES
from tests.registry import Registry

pytestmark = pytest.mark.registry

USER, PASSWORD = "filter-dev", "correct-horse"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """An open registry shared by this module's tests."""
    with Registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry that wants basic-auth credentials (htpasswd)."""
    with Registry(tmp_path_factory.mktemp("secured"), users={USER: PASSWORD}) as running:
        yield running


@pytest.fixture
def module(built: Callable[[Path], Path]) -> Path:
    """The example filter, built once per session."""
    return built(EXAMPLES / "http_headers" / "http_headers.py")


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials come only from what each test sets, never from the developer's machine."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("REGISTRY_PASSWORD", raising=False)


def _manifest(registry: Registry, repository: str, tag: str) -> dict[str, object]:
    response = requests.get(
        f"http://{registry.host}/v2/{repository}/manifests/{tag}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=10)
    response.raise_for_status()
    manifest: dict[str, object] = response.json()
    return manifest


def _printed(capsys: pytest.CaptureFixture[str], label: str) -> str:
    for line in capsys.readouterr().out.splitlines():
        if line.startswith(label):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no '{label}' line printed")


@pytest.mark.parametrize("variant", ["compat", "oci"])
def test_push_then_pull_gives_back_the_same_bytes(
    registry: Registry, module: Path, tmp_path: Path, variant: str
) -> None:
    reference = f"{registry.host}/filters/roundtrip:{variant}"
    assert main(["push", str(module), reference, "--variant", variant]) == 0
    pulled = tmp_path / "pulled.wasm"
    assert main(["pull", reference, "-o", str(pulled)]) == 0
    assert pulled.read_bytes() == module.read_bytes()


def test_compat_image_has_one_tar_gzip_layer(registry: Registry, module: Path) -> None:
    assert main(["push", str(module), f"{registry.host}/filters/layout:compat"]) == 0
    manifest = _manifest(registry, "filters/layout", "compat")
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == (
        "application/vnd.oci.image.config.v1+json")
    assert [layer["mediaType"] for layer in manifest["layers"]] == [
        "application/vnd.oci.image.layer.v1.tar+gzip"]
    assert manifest["annotations"] == {"module.wasm.image/variant": "compat"}


def test_oci_image_has_wasm_config_and_wasm_layer(registry: Registry, module: Path) -> None:
    reference = f"{registry.host}/filters/layout:oci"
    assert main(["push", str(module), reference, "--variant", "oci", "--root-id", "main"]) == 0
    manifest = _manifest(registry, "filters/layout", "oci")
    config = manifest["config"]
    assert config["mediaType"] == "application/vnd.module.wasm.config.v1+json"
    assert [layer["mediaType"] for layer in manifest["layers"]] == [
        "application/vnd.module.wasm.config.v1+json",
        "application/vnd.module.wasm.content.layer.v1+wasm"]
    blob = requests.get(f"http://{registry.host}/v2/filters/layout/blobs/"
                        f"{config['digest']}", timeout=10)
    assert json.loads(blob.content) == {
        "type": "envoy_proxy", "abiVersions": ["proxy_abi_version_0_2_1"],
        "config": {"root_ids": ["main"]}}


def test_push_prints_the_module_sha256_and_the_manifest_digest(
    registry: Registry, module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["push", str(module), f"{registry.host}/filters/digests:v1"]) == 0
    printed = capsys.readouterr().out
    assert f"module sha256:   {hashlib.sha256(module.read_bytes()).hexdigest()}" in printed
    response = requests.get(f"http://{registry.host}/v2/filters/digests/manifests/v1",
                            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
                            timeout=10)
    digest = f"sha256:{hashlib.sha256(response.content).hexdigest()}"
    assert f"manifest digest: {digest}" in printed


def test_pull_by_digest(
    registry: Registry, module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["push", str(module), f"{registry.host}/filters/bydigest:v1"]) == 0
    digest = _printed(capsys, "manifest digest")
    pulled = tmp_path / "pulled.wasm"
    assert main(["pull", f"{registry.host}/filters/bydigest@{digest}", "-o", str(pulled)]) == 0
    assert pulled.read_bytes() == module.read_bytes()


def test_reference_without_tag_is_refused(
    registry: Registry, module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["push", str(module), f"{registry.host}/filters/untagged"]) == 1
    assert "has no tag: add one" in capsys.readouterr().err


def test_unreachable_registry_is_named(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["push", str(module), "127.0.0.1:9/filters/nowhere:v1"]) == 1
    assert "cannot reach the registry at http://127.0.0.1:9/v2/" in capsys.readouterr().err


def test_a_file_that_is_not_proxy_wasm_is_not_pushed(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.wasm"
    plain.write_bytes(b"\0asm\x01\0\0\0")
    assert main(["push", str(plain), f"{registry.host}/filters/plain:v1"]) == 1
    assert "not a Proxy-Wasm module" in capsys.readouterr().err
    tags = requests.get(f"http://{registry.host}/v2/filters/plain/tags/list", timeout=10)
    assert tags.status_code == 404


def test_wrong_credentials_are_reported(
    secured: Registry, module: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REGISTRY_USERNAME", USER)
    monkeypatch.setenv("REGISTRY_PASSWORD", "wrong")
    assert main(["push", str(module), f"{secured.host}/filters/locked:v1"]) == 1
    assert f"rejected the credentials of user '{USER}'" in capsys.readouterr().err


def test_missing_credentials_are_reported(
    secured: Registry, module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["push", str(module), f"{secured.host}/filters/locked:v1"]) == 1
    assert "needs credentials" in capsys.readouterr().err


def test_docker_config_credentials_are_used(
    secured: Registry, module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docker = tmp_path / "docker"
    docker.mkdir()
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {secured.host: {"auth": token}}}))
    reference = f"{secured.host}/filters/locked:v1"
    assert main(["push", str(module), reference]) == 0
    pulled = tmp_path / "pulled.wasm"
    assert main(["pull", reference, "-o", str(pulled)]) == 0
    assert pulled.read_bytes() == module.read_bytes()
