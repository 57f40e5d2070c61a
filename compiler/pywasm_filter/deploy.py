"""`pywasm-filter deploy envoy|istio|wasmx`: ready-to-apply proxy configuration for a module.

- envoy: a complete bootstrap (listener, Wasm filter, router) or only the filter entry;
- istio: a `WasmPlugin` resource, checked offline against the rules its CRD enforces;
- wasmx: a complete nginx.conf for Nginx WasmX, or the pieces to add (see `nginx`).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import compat, nginx, oci
from .envoy import DEFAULT_FAILURE_POLICY, FAILURE_POLICIES, HttpBootstrap, Upstream, WasmFilter
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


def load_plugin_config(path: Path) -> dict[str, Any]:
    """A JSON or YAML file whose top level is a mapping (Istio's pluginConfig is a Struct)."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as error:
        raise DeployError(f"{path}: cannot read it ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise DeployError(f"{where}: not valid JSON or YAML: fix the syntax") from None
    if not isinstance(loaded, dict):
        raise DeployError(f"{path}: pluginConfig must be a mapping (a JSON object), "
                          f"not {type(loaded).__name__}")
    return loaded


# Command line


def _text(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text()
    except OSError as error:
        raise DeployError(f"{path}: cannot read it ({error.strerror})") from None


def _local_module(source: str, target: str) -> Path:
    path = Path(source)
    if path.suffix == ".wasm" and path.is_file():
        return path.resolve()
    if path.suffix == ".wasm":
        raise DeployError(f"{source}: no such file")
    raise DeployError(
        f"{target} loads modules from a file: give FILE.wasm (for an image, first run "
        f"`pywasm-filter pull {source} -o filter.wasm`)"
    )


def _module_name(source: str) -> str:
    stem = Path(source.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]).stem
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "pywasm-filter"


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(f"wrote {output}", file=sys.stderr)


def _command_envoy(args: argparse.Namespace) -> None:
    module = _local_module(args.source, "Envoy")
    options = EnvoyOptions(
        module_path=args.module_path or module, configuration=_text(args.config),
        vm_configuration=_text(args.vm_config), root_id=args.root_id,
        name=args.name or _module_name(args.source), failure_policy=args.failure_policy,
        port=args.port, admin_port=args.admin_port, listen_address=args.address,
        upstream=args.upstream)
    if args.snippet:
        document: Any = [envoy_filter(options).to_config()]
        header = "# envoy.filters.http.wasm entry: put it in http_filters, before the router\n"
    else:
        document = envoy_bootstrap(options)
        header = f"# Envoy bootstrap: envoy -c FILE; listens on :{options.port}\n"
    _write(header + yaml.safe_dump(document, sort_keys=False), args.output)


def _istio_source(args: argparse.Namespace) -> tuple[str, str]:
    """(url, sha256) for a FILE.wasm or an image REF; an image's sha256 is its manifest's."""
    if Path(args.source).suffix == ".wasm":
        module = _local_module(args.source, "Istio")
        url = args.url or module.as_uri()
        return url, args.sha256 or hashlib.sha256(module.read_bytes()).hexdigest()
    reference = oci.parse_reference(args.source, need_tag=False)
    sha256 = args.sha256
    if not sha256:
        *_, digest = oci.fetch_manifest(reference, args.plain_http or None)
        sha256 = digest.removeprefix("sha256:")
    return args.url or f"oci://{reference}", sha256


def _selector(pairs: Sequence[str]) -> dict[str, str]:
    selector = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals:
            raise DeployError(f"selector '{pair}': write KEY=VALUE, e.g. app=reviews")
        selector[key] = value
    return selector


def _command_istio(args: argparse.Namespace) -> None:
    url, sha256 = _istio_source(args)
    options = IstioOptions(
        name=args.name or _module_name(args.source), url=url, sha256=sha256,
        namespace=args.namespace,
        plugin_config=load_plugin_config(args.config) if args.config else None,
        plugin_name=args.plugin_name, phase=args.phase, priority=args.priority,
        fail_strategy=args.fail_strategy, image_pull_policy=args.image_pull_policy,
        selector=_selector(args.selector), type=args.type)
    _write(yaml.safe_dump(wasm_plugin(options), sort_keys=False), args.output)


def _callouts(pairs: Sequence[str]) -> dict[str, str]:
    callouts = {}
    for pair in pairs:
        name, equals, address = pair.partition("=")
        if not equals or not name:
            raise DeployError(f"callout '{pair}': write NAME=IP, e.g. auth=127.0.0.1")
        callouts[name] = address
    return callouts


def _command_wasmx(args: argparse.Namespace) -> None:
    module = _local_module(args.source, "Nginx WasmX")
    options = nginx.WasmxOptions(
        module_path=args.module_path or module,
        name=args.name or _module_name(args.source).replace("-", "_"),
        configuration=_text(args.config), vm_configuration=_text(args.vm_config),
        port=args.port, listen_address=args.address,
        upstream=parse_upstream(args.upstream) if args.upstream else None,
        shared_data=args.shm_kv, queues=list(args.shm_queue),
        callouts=_callouts(args.callout), shm_size=args.shm_size)
    if args.filter is not None:
        nginx.apply_needs(options, compat.needs(args.filter))
    else:
        print("note: without --filter FILTER.py, shm zones and callout names come from the "
              "options only (--shm-kv, --shm-queue, --callout)", file=sys.stderr)
    _write(nginx.snippet(options) if args.snippet else nginx.nginx_conf(options), args.output)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `deploy envoy|istio|wasmx` on the CLI's subcommand parser."""
    deploy = commands.add_parser("deploy", help="write proxy configuration for a module")
    targets = deploy.add_subparsers(dest="target", required=True)

    def common(parser: argparse.ArgumentParser, source_help: str) -> None:
        parser.add_argument("source", help=source_help)
        parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
        parser.add_argument("--name", help="plugin name (default: from the file or image)")

    envoy = targets.add_parser("envoy", help="an Envoy bootstrap or filter snippet")
    common(envoy, "the .wasm module")
    envoy.add_argument("--snippet", action="store_true",
                       help="only the http_filters entry, not a whole bootstrap")
    envoy.add_argument("--config", type=Path, help="file whose text is the plugin configuration")
    envoy.add_argument("--vm-config", type=Path, help="file whose text is the VM configuration")
    envoy.add_argument("--root-id", default="", help="root_id of the plugin")
    envoy.add_argument("--failure-policy", default=DEFAULT_FAILURE_POLICY, choices=FAILURE_POLICIES,
                       help="what Envoy does after a Wasm trap (default "
                            f"{DEFAULT_FAILURE_POLICY}: a new VM serves the next request)")
    envoy.add_argument("--port", type=int, default=10000, help="listener port (default 10000)")
    envoy.add_argument("--admin-port", type=int, default=9901,
                       help="admin port on 127.0.0.1 (default 9901)")
    envoy.add_argument("--address", default="0.0.0.0",
                       help="listener address (default 0.0.0.0, every interface)")
    envoy.add_argument("--upstream", metavar="URL",
                       help="route to http://HOST:PORT instead of a direct response")
    envoy.add_argument("--module-path", type=Path,
                       help="path of the module where Envoy runs (default: this file's path)")
    envoy.set_defaults(handle=_command_envoy)

    istio = targets.add_parser("istio", help="an Istio WasmPlugin resource")
    common(istio, "the .wasm module (file:// url) or an image REF (oci:// url)")
    istio.add_argument("--config", type=Path, help="JSON or YAML file: the pluginConfig")
    istio.add_argument("--namespace", default="", help="metadata.namespace")
    istio.add_argument("--url", help="override the url (e.g. https://... where Istio fetches it)")
    istio.add_argument("--sha256", default="", help="checksum to pin (default: computed)")
    istio.add_argument("--plugin-name", default="", help="pluginName (the root id)")
    istio.add_argument("--phase", default="", choices=ISTIO_PHASES)
    istio.add_argument("--priority", type=int)
    istio.add_argument("--fail-strategy", default="FAIL_RELOAD", choices=ISTIO_FAIL_STRATEGIES,
                       help="what the proxy does after a Wasm trap (default FAIL_RELOAD)")
    istio.add_argument("--image-pull-policy", default="", choices=ISTIO_PULL_POLICIES)
    istio.add_argument("--selector", action="append", default=[], metavar="KEY=VALUE",
                       help="workload label to match (repeatable)")
    istio.add_argument("--type", default="HTTP", choices=ISTIO_TYPES)
    istio.add_argument("--plain-http", action="store_true",
                       help="speak plain HTTP to the registry when reading an image's digest")
    istio.set_defaults(handle=_command_istio)

    wasmx = targets.add_parser("wasmx", help="an nginx.conf for Nginx (Kong) WasmX, or a snippet")
    common(wasmx, "the .wasm module")
    wasmx.add_argument("--filter", type=Path, metavar="FILTER.py",
                       help="the filter's source: finds the shared data, queues and callout "
                            "upstreams the config must provide, and refuses TCP filters")
    wasmx.add_argument("--snippet", action="store_true",
                       help="only the wasm {} block, http-level lines and the location")
    wasmx.add_argument("--config", type=Path, help="file whose text is the filter configuration")
    wasmx.add_argument("--vm-config", type=Path, help="file whose text is the VM configuration")
    wasmx.add_argument("--port", type=int, default=10000, help="listener port (default 10000)")
    wasmx.add_argument("--address", default="0.0.0.0",
                       help="listener address (default 0.0.0.0, every interface)")
    wasmx.add_argument("--upstream", metavar="URL",
                       help="proxy to http://HOST:PORT (default: a backend server in the same "
                            "nginx on 127.0.0.1, port + 1)")
    wasmx.add_argument("--callout", action="append", default=[], metavar="NAME=IP",
                       help="where a callout upstream NAME is (resolver_add; a bare NAME is "
                            "called on port 80); repeatable")
    wasmx.add_argument("--shm-kv", action="store_true",
                       help="add the shm_kv * zone for shared data (found by --filter)")
    wasmx.add_argument("--shm-queue", action="append", default=[], metavar="NAME",
                       help="add an shm_queue zone for queue NAME (found by --filter); repeatable")
    wasmx.add_argument("--shm-size", default="1m", help="size of each shm zone (default 1m)")
    wasmx.add_argument("--module-path", type=Path,
                       help="path of the module where nginx runs (default: this file's path)")
    wasmx.set_defaults(handle=_command_wasmx)

