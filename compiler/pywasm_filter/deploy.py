"""Ready-to-apply proxy configuration for a module (`pywasm-filter deploy envoy|istio`).

- Envoy: a complete bootstrap (listener, Wasm filter, router) or only the filter entry;
- Istio: a `WasmPlugin` resource, checked offline against the rules its CRD enforces.
Nginx WasmX's nginx.conf (`deploy wasmx`) is written by `nginx`, Envoy Gateway's
`EnvoyExtensionPolicy` (`deploy envoy-gateway`) by `envoy_gateway`.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .envoy import (
    DEFAULT_FAILURE_POLICY,
    FAILURE_POLICIES,
    MEMORY_RELEASE,
    MEMORY_RELEASE_NOTE,
    HttpBootstrap,
    Upstream,
    WasmFilter,
)
from .errors import PywasmFilterError

ISTIO_PHASES = ("UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS")
ISTIO_FAIL_STRATEGIES = ("FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD")
ISTIO_PULL_POLICIES = ("UNSPECIFIED_POLICY", "IfNotPresent", "Always")
ISTIO_TYPES = ("HTTP", "NETWORK")
ISTIO_URL_SCHEMES = ("oci", "file", "http", "https")
_INT32 = (-(2**31), 2**31 - 1)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_SHA256 = re.compile(r"^[a-f0-9]{64}$")


class DeployError(PywasmFilterError):
    """An option the target proxy would reject, named with the rule it breaks."""


# Envoy


@dataclass
class EnvoyOptions:
    """What the Envoy bootstrap needs besides the module."""

    module_path: Path
    configuration: str = ""
    vm_configuration: str = ""
    root_id: str = ""
    name: str = "pywasm"
    failure_policy: str = DEFAULT_FAILURE_POLICY
    port: int = 10000
    admin_port: int = 9901
    listen_address: str = "0.0.0.0"
    upstream: str | None = None


def parse_upstream(url: str) -> tuple[str, int]:
    """(host, port) of an http:// upstream URL, or a DeployError saying what to write."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise DeployError(
            f"upstream '{url}': write it as http://HOST:PORT (plain HTTP; Envoy's cluster TLS "
            "is not configured by pywasm-filter)"
        )
    try:
        port = parts.port or 80
    except ValueError:
        raise DeployError(f"upstream '{url}': the port is not a number") from None
    return parts.hostname, port


def _check_port(port: int, what: str) -> None:
    if not 0 <= port <= 65535:
        raise DeployError(f"{what} {port} is out of range: use 0 to 65535")


def envoy_filter(options: EnvoyOptions) -> WasmFilter:
    """The Wasm filter entry the options describe."""
    if options.failure_policy not in FAILURE_POLICIES:
        raise DeployError(f"failure policy '{options.failure_policy}': choose one of "
                          f"{', '.join(FAILURE_POLICIES)}")
    return WasmFilter(options.module_path, configuration=options.configuration,
                      vm_configuration=options.vm_configuration, root_id=options.root_id,
                      name=options.name, failure_policy=options.failure_policy)


def envoy_bootstrap(options: EnvoyOptions) -> dict[str, Any]:
    """A complete Envoy bootstrap: listener, Wasm filter, router, direct response or cluster."""
    _check_port(options.port, "listener port")
    _check_port(options.admin_port, "admin port")
    clusters: list[Upstream] = []
    if options.upstream:
        host, port = parse_upstream(options.upstream)
        clusters.append(Upstream("upstream", port, address=host))
    bootstrap = HttpBootstrap(
        filters=[envoy_filter(options)], route_to="upstream" if clusters else None,
        clusters=clusters, port=options.port, admin_port=options.admin_port,
        address=options.listen_address)
    return bootstrap.to_config()


def envoy_yaml(document: Any) -> str:
    """``document`` as YAML, its memory_allocator_manager (if any) under a comment saying why."""
    key = "memory_allocator_manager:"
    return re.sub(rf"^{key}", f"# {MEMORY_RELEASE_NOTE}\n{key}",
                  yaml.safe_dump(document, sort_keys=False), count=1, flags=re.MULTILINE)


def memory_release_yaml() -> str:
    """The commented memory_allocator_manager block, for the envoy.yaml `init` writes."""
    return envoy_yaml({"memory_allocator_manager": MEMORY_RELEASE})


# Istio


@dataclass
class IstioOptions:
    """The fields of a WasmPlugin that pywasm-filter writes."""

    name: str
    url: str
    sha256: str = ""
    namespace: str = ""
    plugin_config: Mapping[str, Any] | None = None
    plugin_name: str = ""
    phase: str = ""
    priority: int | None = None
    fail_strategy: str = "FAIL_RELOAD"
    image_pull_policy: str = ""
    selector: Mapping[str, str] = field(default_factory=dict)
    type: str = "HTTP"


def _check_choice(value: str, choices: Sequence[str], what: str) -> None:
    if value and value not in choices:
        raise DeployError(f"{what} '{value}' is not allowed: choose one of {', '.join(choices)}")


def _check_label(key: str, value: str) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        raise DeployError(f"selector label key '{key}': the prefix must be a DNS subdomain "
                          "(lowercase letters, digits, '-' and '.')")
    if not _LABEL_NAME.match(name):
        raise DeployError(f"selector label key '{key}': a name is 1-63 letters, digits, '-', "
                          "'_' or '.', starting and ending with a letter or digit (no '*')")
    if value and not _LABEL_NAME.match(value):
        raise DeployError(f"selector label '{key}={value}': a value is at most 63 letters, "
                          "digits, '-', '_' or '.', starting and ending with a letter or digit")


def validate_wasm_plugin(options: IstioOptions) -> None:
    """Apply the WasmPlugin rules that need no cluster: names, url, enums, sha256, labels."""
    if len(options.name) > 253 or not _DNS_SUBDOMAIN.match(options.name):
        raise DeployError(f"name '{options.name}': a WasmPlugin name is a DNS subdomain "
                          "(lowercase letters, digits, '-' and '.', at most 253)")
    if options.namespace and not _DNS_LABEL.match(options.namespace):
        raise DeployError(f"namespace '{options.namespace}': use at most 63 lowercase letters, "
                          "digits and '-'")
    scheme = urllib.parse.urlsplit(options.url).scheme
    if not options.url or (scheme and scheme not in ISTIO_URL_SCHEMES):
        raise DeployError(f"url '{options.url}': Istio accepts the schemes "
                          f"{', '.join(ISTIO_URL_SCHEMES)}")
    if options.sha256 and not _SHA256.match(options.sha256):
        raise DeployError(f"sha256 '{options.sha256}': write 64 lowercase hex digits "
                          "(no 'sha256:' prefix)")
    _check_choice(options.phase, ISTIO_PHASES, "phase")
    _check_choice(options.fail_strategy, ISTIO_FAIL_STRATEGIES, "failStrategy")
    _check_choice(options.image_pull_policy, ISTIO_PULL_POLICIES, "imagePullPolicy")
    _check_choice(options.type, ISTIO_TYPES, "type")
    if options.priority is not None and not _INT32[0] <= options.priority <= _INT32[1]:
        raise DeployError(f"priority {options.priority} does not fit in a 32-bit integer")
    for key, value in options.selector.items():
        _check_label(key, value)


def wasm_plugin(options: IstioOptions) -> dict[str, Any]:
    """A validated `extensions.istio.io/v1alpha1` WasmPlugin resource."""
    validate_wasm_plugin(options)
    metadata: dict[str, Any] = {"name": options.name}
    if options.namespace:
        metadata["namespace"] = options.namespace
    spec: dict[str, Any] = {}
    if options.selector:
        spec["selector"] = {"matchLabels": dict(options.selector)}
    spec["url"] = options.url
    optional: dict[str, Any] = {
        "sha256": options.sha256, "imagePullPolicy": options.image_pull_policy,
        "pluginName": options.plugin_name, "phase": options.phase,
        "priority": options.priority, "failStrategy": options.fail_strategy,
    }
    spec.update({key: value for key, value in optional.items() if value not in ("", None)})
    if options.type != "HTTP":
        spec["type"] = options.type
    if options.plugin_config is not None:
        spec["pluginConfig"] = dict(options.plugin_config)
    return {"apiVersion": "extensions.istio.io/v1alpha1", "kind": "WasmPlugin",
            "metadata": metadata, "spec": spec}


def load_structured(path: Path) -> Any:
    """The value a JSON or YAML file holds; a syntax error is reported with its line."""
    try:
        return yaml.safe_load(path.read_text())
    except OSError as error:
        raise DeployError(f"{path}: cannot read it ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise DeployError(f"{where}: not valid JSON or YAML: fix the syntax") from None


def load_plugin_config(path: Path) -> dict[str, Any]:
    """A JSON or YAML file whose top level is a mapping (Istio's pluginConfig is a Struct)."""
    loaded = load_structured(path)
    if not isinstance(loaded, dict):
        raise DeployError(f"{path}: pluginConfig must be a mapping (a JSON object), "
                          f"not {type(loaded).__name__}")
    return loaded
