"""`deploy istio` and `deploy wasmx`: the resources a user applies, and the rules they obey;
the Envoy bootstraps `deploy envoy` and `init` write."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import yaml

from pywasm_filter.cli import main
from pywasm_filter.deploy import DeployError, IstioOptions, wasm_plugin
from pywasm_filter.scaffold import TEMPLATES
from tests.conftest import EXAMPLES
from tests.nginx_conf import (
    Directive,
    nginx_test,
    parse,
    running_nginx,
    two_free_ports,
    without_wasmx,
)
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


@pytest.mark.parametrize("source", ["deploy envoy", *(f"init {name}" for name in TEMPLATES)])
def test_envoy_bootstraps_hand_freed_memory_back_with_a_comment_saying_why(
    source: str, module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, _, template = source.partition(" ")
    if command == "deploy":
        assert main(["deploy", "envoy", str(module)]) == 0
        text = capsys.readouterr().out
    else:
        assert main(["init", str(tmp_path / "project"), "--template", template]) == 0
        text = (tmp_path / "project" / "envoy.yaml").read_text()
    lines = text.splitlines()
    comment = lines[lines.index("memory_allocator_manager:") - 1]
    assert comment.startswith("# ") and "back to the kernel" in comment
    assert yaml.safe_load(text)["memory_allocator_manager"] == {
        "bytes_to_release": 1048576, "memory_release_interval": "1s"}


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


def test_wasm_plugin_for_a_digest_reference_needs_no_registry(
    capsys: pytest.CaptureFixture[str]
) -> None:
    digest = "0123456789abcdef" * 4
    reference = f"127.0.0.1:9/filters/headers@sha256:{digest}"
    spec = _istio(capsys, reference)["spec"]
    assert isinstance(spec, dict)
    assert (spec["url"], spec["sha256"]) == (f"oci://{reference}", digest)


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


def _wasmx(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    capsys.readouterr()
    assert main(["deploy", "wasmx", *arguments]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _filter_location(conf: Directive) -> Directive:
    """The location of the first server in http {}: the one running the filter."""
    return conf.one("http").find("server")[0].one("location", "/")


def test_wasmx_conf_runs_the_filter_in_front_of_a_proxied_backend(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = parse(_wasmx(capsys, str(module), "--filter",
                        str(EXAMPLES / "http_headers" / "http_headers.py"), "--port", "8000"))
    assert conf.one("wasm").block == [Directive("module", ["my_filter", str(module.resolve())])]
    location = _filter_location(conf)
    assert location.one("proxy_wasm").args == ["my_filter"]
    assert location.one("proxy_pass").args == ["http://127.0.0.1:8001"]
    assert not location.find("return")
    backend = conf.one("http").find("server")[1]
    assert backend.one("listen").args == ["127.0.0.1:8001"]
    assert backend.one("location", "/").one("return").args[0] == "200"


@pytest.mark.parametrize("configuration", [
    "it's {\"a\": 1}", "back\\slash \\n and \\'", "two\nlines; { braces } # not a comment",
])
def test_wasmx_plugin_configuration_is_quoted_for_nginx(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], configuration: str
) -> None:
    config, vm_config = tmp_path / "config.txt", tmp_path / "vm.txt"
    config.write_text(configuration)
    vm_config.write_text(configuration[::-1])
    conf = parse(_wasmx(capsys, str(module), "--config", str(config), "--vm-config",
                        str(vm_config), "--upstream", "http://10.0.0.7:9000"))
    assert _filter_location(conf).one("proxy_wasm").args == ["my_filter", configuration]
    assert _filter_location(conf).one("proxy_pass").args == ["http://10.0.0.7:9000"]
    assert conf.one("wasm").one("module").args[2] == configuration[::-1]


@pytest.mark.parametrize(("example", "zone"), [
    ("shared_counter/shared_counter.py", ["shm_kv", "*", "1m"]),
    ("shared_queue/collector.py", ["shm_queue", "requests", "1m"]),
    ("shared_queue/producer.py", ["shm_queue", "requests", "1m"]),
])
def test_wasmx_shm_zones_come_from_the_filter_source(
    module: Path, capsys: pytest.CaptureFixture[str], example: str, zone: list[str]
) -> None:
    conf = parse(_wasmx(capsys, str(module), "--filter", str(EXAMPLES / example)))
    assert conf.one("wasm").find(zone[0]) == [Directive(zone[0], zone[1:])]


def test_wasmx_shm_zones_from_options_have_the_given_size(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = parse(_wasmx(capsys, str(module), "--shm-kv", "--shm-queue", "events",
                        "--shm-size", "64k"))
    wasm = conf.one("wasm")
    assert wasm.one("shm_kv").args == ["*", "64k"]
    assert wasm.one("shm_queue").args == ["events", "64k"]


def test_wasmx_queue_named_at_run_time_needs_shm_queue(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "queue_filter.py"
    source.write_text(
        "import proxywasm\n\n\nclass Root(proxywasm.RootContext):\n"
        "    def on_configure(self, size: int) -> bool:\n"
        "        self.register_shared_queue(self.get_plugin_configuration().decode())\n"
        "        return True\n\n\nproxywasm.set_root_context(Root)\n")
    assert main(["deploy", "wasmx", str(module), "--filter", str(source)]) == 1
    error = capsys.readouterr().err
    assert "queue_filter.py:6: the queue name is computed at run time" in error
    assert "give it with --shm-queue NAME" in error
    conf = parse(_wasmx(capsys, str(module), "--filter", str(source), "--shm-queue", "jobs"))
    assert conf.one("wasm").one("shm_queue").args == ["jobs", "1m"]


def test_wasmx_callout_upstream_needs_an_address(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = EXAMPLES / "http_auth" / "http_auth.py"
    assert main(["deploy", "wasmx", str(module), "--filter", str(source)]) == 1
    error = capsys.readouterr().err
    assert "http_auth.py:23: the filter calls upstream 'auth'; WasmX connects to auth:80" in error
    assert "--callout auth=IP" in error
    conf = parse(_wasmx(capsys, str(module), "--filter", str(source),
                        "--callout", "auth=127.0.0.1"))
    assert conf.one("http").find("resolver_add") == [
        Directive("resolver_add", ["127.0.0.1", "auth"])]


@pytest.mark.parametrize(("example", "buffers"), [
    ("pii_redaction/pii_redaction.py", ["4", "1m"]),
    ("http_body/http_body.py", ["4", "1m"]),
    ("http_body_chunk/http_body_chunk.py", None),
    ("metrics/metrics.py", None),
])
def test_wasmx_buffers_response_bodies_a_filter_holds(
    module: Path, capsys: pytest.CaptureFixture[str], example: str, buffers: list[str] | None
) -> None:
    """PAUSE in on_http_response_body needs room in WasmX; a filter that streams needs none."""
    conf = parse(_wasmx(capsys, str(module), "--filter", str(EXAMPLES / example)))
    found = _filter_location(conf).find("wasm_response_body_buffers")
    assert found == ([] if buffers is None else [
        Directive("wasm_response_body_buffers", buffers)])


def test_wasmx_response_body_buffers_option(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = str(EXAMPLES / "pii_redaction" / "pii_redaction.py")
    conf = parse(_wasmx(capsys, str(module), "--filter", source,
                        "--response-body-buffers", "8 2m"))
    assert _filter_location(conf).one("wasm_response_body_buffers").args == ["8", "2m"]
    assert main(["deploy", "wasmx", str(module), "--response-body-buffers", "lots"]) == 1
    assert "response body buffers 'lots': write NUMBER SIZE, e.g. '4 1m'" in (
        capsys.readouterr().err)


def test_wasmx_refuses_tcp_filters(module: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = EXAMPLES / "tcp_filter" / "tcp_filter.py"
    assert main(["deploy", "wasmx", str(module), "--filter", str(source)]) == 1
    error = capsys.readouterr().err
    assert "tcp_filter.py:14: Shout makes this a TCP (stream) filter" in error
    assert "proxy_wasm is not allowed in stream {}" in error


def test_wasmx_snippet_has_the_pieces_to_add(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "wasmx", str(module), "--snippet"]) == 1
    assert "--snippet needs --upstream http://HOST:PORT" in capsys.readouterr().err
    conf = parse(_wasmx(capsys, str(module), "--snippet", "--upstream", "http://app:8080",
                        "--callout", "auth=10.0.0.2", "--shm-kv"))
    assert [directive.name for directive in conf.block or []] == [
        "wasm", "resolver_add", "location"]
    assert conf.one("location", "/").one("proxy_pass").args == ["http://app:8080"]
    assert conf.one("wasm").one("shm_kv").args == ["*", "1m"]


def test_wasmx_conf_without_its_wasmx_directives_passes_nginx_t(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.txt"
    config.write_text("it's {\"a\": [1, 2]};\n\\ end")
    text = _wasmx(capsys, str(module), "--filter", str(EXAMPLES / "shared_counter" /
                  "shared_counter.py"), "--config", str(config), "--port", "18080",
                  "--callout", "auth=127.0.0.1", "--address", "127.0.0.1")
    checked = nginx_test(without_wasmx(text), tmp_path / "nginx")
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_wasmx_conf_proxies_the_filter_location_to_its_backend(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stand-in add_header echoes the plugin configuration as nginx read it."""
    configuration = "it's {\"a\": [1, 2]}; two\\\\backslashes"
    config = tmp_path / "config.txt"
    config.write_text(configuration)
    port = two_free_ports()
    text = _wasmx(capsys, str(module), "--port", str(port), "--address", "127.0.0.1",
                  "--name", "tagger", "--config", str(config))
    url = f"http://127.0.0.1:{port}/"
    with running_nginx(without_wasmx(text), tmp_path / "nginx", url):
        with urllib.request.urlopen(url, timeout=10) as response:
            body, header = response.read(), response.headers["tagger"]
    assert body == b"hello from the nginx backend\n"
    assert header == configuration
