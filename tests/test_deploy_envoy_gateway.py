"""`deploy envoy-gateway`: the EnvoyExtensionPolicy a user applies, and the CRD rules it obeys."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from pywasm_filter import oci
from pywasm_filter.cli import main
from pywasm_filter.deploy import DeployError
from pywasm_filter.envoy_gateway import (
    GatewayOptions,
    TargetRef,
    extension_policy,
    validate_extension_policy,
)
from tests.conftest import EXAMPLES, ROOT
from tests.registry import Registry

DIGEST = "0123456789abcdef" * 4
UNREACHABLE = "127.0.0.1:9"
"""A registry address nothing listens on: a command that needs the registry fails there."""


def _gateway(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["deploy", "envoy-gateway", *arguments]) == 0, capsys.readouterr().err
    loaded: dict[str, Any] = yaml.safe_load(capsys.readouterr().out)
    return loaded


def _error(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    capsys.readouterr()
    assert main(["deploy", "envoy-gateway", *arguments]) == 1
    return capsys.readouterr().err


@pytest.mark.registry
def test_policy_for_an_image_pins_the_manifest_digest(
    tmp_path: Path, built: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("header: x-team\nvalue: payments\n")
    with Registry(tmp_path / "registry") as registry:
        reference = f"{registry.host}/filters/headers:v1"
        assert main(["push", str(built(EXAMPLES / "http_headers" / "http_headers.py")),
                     reference]) == 0
        manifest = requests.get(f"http://{registry.host}/v2/filters/headers/manifests/v1",
                                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
                                timeout=10)
        policy = _gateway(capsys, reference, "--target-ref", "Gateway/eg", "--namespace",
                          "shop", "--config", str(config))
    assert policy == {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "EnvoyExtensionPolicy",
        "metadata": {"name": "headers", "namespace": "shop"},
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                            "name": "eg"}],
            "wasm": [{
                "name": "headers",
                "code": {"type": "Image", "image": {
                    "url": reference, "sha256": hashlib.sha256(manifest.content).hexdigest()}},
                "config": {"header": "x-team", "value": "payments"},
                "failOpen": False,
            }],
        },
    }


def test_deploy_page_shows_what_the_command_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/deploy.md's example, with the registry's answer for the tag stood in for."""
    digest = "bdf49c3c3882102fc017ffb661108c63a836d065888a4093994398cc55c2ea2f"

    def fetch_manifest(reference: oci.Reference, plain_http: bool | None = None) -> tuple[
            None, None, dict[str, Any], str]:
        assert str(reference) == "registry.example.com/filters/auth:v1"
        return None, None, {}, f"sha256:{digest}"

    monkeypatch.setattr(oci, "fetch_manifest", fetch_manifest)
    monkeypatch.chdir(tmp_path)
    Path("auth.yaml").write_text("allowed: [/books]\n")
    capsys.readouterr()
    assert main(["deploy", "envoy-gateway", "registry.example.com/filters/auth:v1",
                 "--target-ref", "HTTPRoute/backend", "--namespace", "shop",
                 "--config", "auth.yaml"]) == 0
    page = (ROOT / "docs" / "deploy.md").read_text()
    assert f"```yaml\n{capsys.readouterr().out}```" in page


def test_digest_reference_is_pinned_without_asking_the_registry(
    capsys: pytest.CaptureFixture[str]
) -> None:
    reference = f"{UNREACHABLE}/filters/auth@sha256:{DIGEST}"
    wasm = _gateway(capsys, reference, "--target-ref", "HTTPRoute/api")["spec"]["wasm"][0]
    assert wasm["code"]["image"] == {"url": reference, "sha256": DIGEST}


def test_tag_reference_reads_its_digest_from_the_registry(
    capsys: pytest.CaptureFixture[str]
) -> None:
    error = _error(capsys, f"{UNREACHABLE}/filters/auth:v1", "--target-ref", "Gateway/eg")
    assert f"cannot reach the registry at http://{UNREACHABLE}/v2/" in error


def test_given_sha256_must_match_the_digest_reference(capsys: pytest.CaptureFixture[str]) -> None:
    error = _error(capsys, f"{UNREACHABLE}/f@sha256:{DIGEST}", "--sha256", "f" * 64,
                   "--target-ref", "Gateway/eg")
    assert f"--sha256 {'f' * 64} differs from the digest in" in error


def test_url_goes_with_a_module_file_only(capsys: pytest.CaptureFixture[str]) -> None:
    error = _error(capsys, f"{UNREACHABLE}/f:v1", "--url", "https://files.example.com/f.wasm",
                   "--target-ref", "Gateway/eg")
    assert "--url goes with a FILE.wasm" in error


def test_target_refs_options_and_pull_secret_are_written(
    capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _gateway(capsys, f"{UNREACHABLE}/filters/auth:v2", "--sha256", DIGEST,
                    "--target-ref", "Gateway/eg/https", "--target-ref", "HTTPRoute/api",
                    "--target-ref", "GRPCRoute/rpc", "--name", "auth-policy", "--root-id",
                    "auth", "--fail-open", "--pull-secret", "registry-creds")["spec"]
    assert [(ref["kind"], ref["name"], ref.get("sectionName")) for ref in spec["targetRefs"]] == [
        ("Gateway", "eg", "https"), ("HTTPRoute", "api", None), ("GRPCRoute", "rpc", None)]
    assert {ref["group"] for ref in spec["targetRefs"]} == {"gateway.networking.k8s.io"}
    wasm = spec["wasm"][0]
    assert (wasm["name"], wasm["rootID"], wasm["failOpen"]) == ("auth-policy", "auth", True)
    assert wasm["code"]["image"]["pullSecretRef"] == {"kind": "Secret", "name": "registry-creds"}


@pytest.mark.parametrize(("text", "value"), [
    ('{"rules": [{"path": "/admin", "allow": false}]}',
     {"rules": [{"path": "/admin", "allow": False}]}),
    ("[1, 2, 3]", [1, 2, 3]),
    ('"plain text"', "plain text"),
])
def test_config_is_any_json_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, value: object
) -> None:
    config = tmp_path / "config.json"
    config.write_text(text)
    wasm = _gateway(capsys, f"{UNREACHABLE}/f:v1", "--sha256", DIGEST, "--target-ref",
                    "Gateway/eg", "--config", str(config))["spec"]["wasm"][0]
    assert wasm["config"] == value


def test_config_without_a_json_form_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("expires: 2027-01-01\n")
    error = _error(capsys, f"{UNREACHABLE}/f:v1", "--sha256", DIGEST, "--target-ref",
                   "Gateway/eg", "--config", str(config))
    assert "spec.wasm[0].config: not representable as JSON" in error
    assert "quote dates" in error


def test_config_syntax_error_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("header: x\nvalue: [unclosed\n")
    error = _error(capsys, f"{UNREACHABLE}/f:v1", "--target-ref", "Gateway/eg",
                   "--config", str(config))
    assert f"{config}:3: not valid JSON or YAML" in error


def test_a_module_file_is_pushed_or_served_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "filter.wasm"
    module.write_bytes(b"\0asm\x01\0\0\0")
    error = _error(capsys, str(module), "--target-ref", "Gateway/eg")
    assert f"push this one (pywasm-filter push {module} REGISTRY/REPOSITORY:TAG)" in error
    assert "or serve the file over HTTP(S) and give --url URL" in error


def test_a_module_file_served_over_https_is_pinned_by_its_sha256(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "my_filter.wasm"
    module.write_bytes(b"\0asm\x01\0\0\0module bytes")
    url = "https://files.example.com/filters/my_filter.wasm"
    policy = _gateway(capsys, str(module), "--url", url, "--target-ref", "Gateway/eg")
    assert policy["metadata"] == {"name": "my-filter"}
    assert policy["spec"]["wasm"][0]["code"] == {"type": "HTTP", "http": {
        "url": url, "sha256": hashlib.sha256(module.read_bytes()).hexdigest()}}


@pytest.mark.parametrize("text", ["eg", "Gateway/", "Gateway/eg/http/extra", "/eg"])
def test_target_ref_syntax_is_explained(capsys: pytest.CaptureFixture[str], text: str) -> None:
    error = _error(capsys, f"{UNREACHABLE}/f:v1", "--sha256", DIGEST, "--target-ref", text)
    assert f"target ref '{text}': write KIND/NAME or KIND/NAME/SECTION" in error


def test_a_target_ref_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["deploy", "envoy-gateway", f"{UNREACHABLE}/f:v1", "--sha256", DIGEST])
    assert "--target-ref" in capsys.readouterr().err


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "My_Filter", "metadata.name 'My_Filter': a Kubernetes object name is a DNS"),
    ("namespace", "Shop", "namespace 'Shop'"),
    ("targets", [TargetRef("Service", "web")], "targetRefs[0].kind 'Service': this policy "
     "targets one of Gateway, ListenerSet, HTTPRoute"),
    ("targets", [TargetRef("TCPRoute", "db")], "a Wasm extension is an HTTP filter"),
    ("targets", [TargetRef("HTTPRoute", "API")], "targetRefs[0].name 'API'"),
    ("targets", [TargetRef("Gateway", "eg", "HTTP_1")], "targetRefs[0].sectionName 'HTTP_1'"),
    ("targets", [], "give the Gateway or route the policy attaches to"),
    ("image", "filters/f:v1", "spec.wasm[0].code.image.url: 'filters/f:v1' is not an image"),
    ("sha256", f"sha256:{DIGEST}", "64 lowercase hex digits (no 'sha256:' prefix)"),
    ("image", f"example.com/f@sha256:{'e' * 64}", "the url pins sha256:eee"),
    ("pull_secret", "Creds", "pullSecretRef.name 'Creds'"),
    ("url", "https://files.example.com/f.wasm", "exactly one of the module's image REF and"),
])
def test_policy_rules_are_checked_offline(field: str, value: object, message: str) -> None:
    fields: dict[str, Any] = {"name": "f", "image": "example.com/f:v1", "sha256": DIGEST,
                              "targets": [TargetRef("Gateway", "eg")], field: value}
    with pytest.raises(DeployError, match=re.escape(message)):
        extension_policy(GatewayOptions(**fields))


@pytest.mark.parametrize(("fields", "message"), [
    ({"url": "s3://bucket/f.wasm"}, "code.http.url 's3://bucket/f.wasm': Envoy Gateway "
     "downloads modules from http:// or https:// URLs"),
    ({"url": "https://files.example.com/f.wasm", "pull_secret": "creds"},
     "--pull-secret is for images"),
    ({"url": "https://files.example.com/f.wasm", "sha256": "F" * 64},
     "code.http.sha256 'FFFF"),
])
def test_url_rules_are_checked_offline(fields: dict[str, str], message: str) -> None:
    options: dict[str, Any] = {"name": "f", "sha256": DIGEST,
                               "targets": [TargetRef("Gateway", "eg")], **fields}
    with pytest.raises(DeployError, match=re.escape(message)):
        extension_policy(GatewayOptions(**options))


def _valid_policy() -> dict[str, Any]:
    return extension_policy(GatewayOptions(
        name="f", image="example.com/f:v1", sha256=DIGEST, targets=[TargetRef("Gateway", "eg")]))


def _set(policy: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    changed = copy.deepcopy(policy)
    *parents, last = path.split(".")
    node: Any = changed
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[last] = value
    return changed


@pytest.mark.parametrize(("path", "value", "message"), [
    ("spec.wasm", [_valid_policy()["spec"]["wasm"][0]] * 17,
     "spec.wasm has 17 entries: the CRD allows 1 to 16"),
    ("spec.wasm", [], "spec.wasm has 0 entries"),
    ("spec.wasm.0.code", {"type": "Image"}, "type Image goes with the image field"),
    ("spec.wasm.0.code", {"type": "HTTP", "image": {}}, "type HTTP goes with the http field"),
    ("spec.wasm.0.code", {"type": "ConfigMap"}, "code.type: choose one of HTTP, Image"),
    ("spec.wasm.0.failOpen", "yes", "failOpen must be true or false"),
    ("spec.targetRef", {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "eg"},
     "targetRefs, or the deprecated targetRef, not both"),
    ("spec.targetRefs.0.group", "", "this policy only targets group gateway.networking.k8s.io"),
    ("spec.wasm.0.code.image.pullSecretRef", {"kind": "ConfigMap", "name": "c"},
     "only a Secret is supported"),
    ("kind", "WasmPlugin", "kind: EnvoyExtensionPolicy"),
])
def test_documents_breaking_a_crd_rule_are_refused(path: str, value: object, message: str) -> None:
    validate_extension_policy(_valid_policy())
    with pytest.raises(DeployError, match=re.escape(message)):
        validate_extension_policy(_set(_valid_policy(), path, value))
