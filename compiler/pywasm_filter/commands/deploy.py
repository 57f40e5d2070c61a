"""`pywasm-filter deploy envoy|istio|envoy-gateway|wasmx`: ready-to-apply proxy configuration.

The options become `deploy.EnvoyOptions`, `deploy.IstioOptions`, `envoy_gateway.GatewayOptions`
or `nginx.WasmxOptions`; the document goes to stdout, or to --output with a "wrote" line on
stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from .. import compat, envoy_gateway, nginx, oci
from ..deploy import (
    ISTIO_FAIL_STRATEGIES,
    ISTIO_PHASES,
    ISTIO_PULL_POLICIES,
    ISTIO_TYPES,
    DeployError,
    EnvoyOptions,
    IstioOptions,
    envoy_bootstrap,
    envoy_filter,
    envoy_yaml,
    load_plugin_config,
    load_structured,
    parse_upstream,
    wasm_plugin,
)
from ..envoy import DEFAULT_FAILURE_POLICY, FAILURE_POLICIES
from . import Subcommands


def add_parser(commands: Subcommands) -> argparse.ArgumentParser:
    """`deploy envoy|istio|wasmx SOURCE [options]`, one sub-parser per target proxy."""
    parser = commands.add_parser("deploy", help="write proxy configuration for a module")
    targets = parser.add_subparsers(dest="target", required=True)
    _add_envoy(targets.add_parser("envoy", help="an Envoy bootstrap or filter snippet"))
    _add_istio(targets.add_parser("istio", help="an Istio WasmPlugin resource"))
    _add_envoy_gateway(targets.add_parser(
        "envoy-gateway", help="an Envoy Gateway EnvoyExtensionPolicy resource"))
    _add_wasmx(targets.add_parser(
        "wasmx", help="an nginx.conf for Nginx (Kong) WasmX, or a snippet"))
    return parser


def handle(args: argparse.Namespace) -> None:
    """Write the chosen target's configuration."""
    _TARGETS[args.target](args)


def _common(parser: argparse.ArgumentParser, source_help: str) -> None:
    parser.add_argument("source", help=source_help)
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    parser.add_argument("--name", help="plugin name (default: from the file or image)")


def _add_envoy(envoy: argparse.ArgumentParser) -> None:
    _common(envoy, "the .wasm module")
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


def _add_istio(istio: argparse.ArgumentParser) -> None:
    _common(istio, "the .wasm module (file:// url) or an image REF (oci:// url)")
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


def _add_envoy_gateway(gateway: argparse.ArgumentParser) -> None:
    _common(gateway, "the image REF (REGISTRY/REPOSITORY:TAG or @sha256:...), or the .wasm "
                     "module with --url")
    gateway.add_argument("--target-ref", action="append", default=[], required=True,
                         metavar="KIND/NAME[/SECTION]",
                         help="the Gateway, HTTPRoute, GRPCRoute or ListenerSet to attach to, "
                              "e.g. Gateway/eg or HTTPRoute/backend (repeatable)")
    gateway.add_argument("--namespace", default="", help="metadata.namespace (the targets')")
    gateway.add_argument("--config", type=Path,
                         help="JSON or YAML file: the config the filter receives as JSON text")
    gateway.add_argument("--root-id", default="", help="rootID of the plugin")
    gateway.add_argument("--fail-open", action="store_true",
                         help="skip the filter after a fatal error instead of answering 5xx")
    gateway.add_argument("--url", help="with FILE.wasm: the http(s) URL Envoy Gateway "
                                       "downloads it from (its sha256 is the file's)")
    gateway.add_argument("--sha256", default="",
                         help="manifest digest to pin (default: read from the registry)")
    gateway.add_argument("--pull-secret", default="", metavar="SECRET",
                         help="Secret (type dockerconfigjson) with the registry credentials")
    gateway.add_argument("--plain-http", action="store_true",
                         help="speak plain HTTP to the registry when reading the digest")


def _add_wasmx(wasmx: argparse.ArgumentParser) -> None:
    _common(wasmx, "the .wasm module")
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
    wasmx.add_argument("--response-body-buffers", default="", metavar="'NUMBER SIZE'",
                       help="wasm_response_body_buffers for a filter that holds response bodies "
                            f"(default when --filter finds one: "
                            f"'{nginx.DEFAULT_RESPONSE_BODY_BUFFERS}')")
    wasmx.add_argument("--module-path", type=Path,
                       help="path of the module where nginx runs (default: this file's path)")
    wasmx.add_argument("--compile-cache", type=Path, metavar="DIR",
                       help="absolute directory where Wasmtime keeps compiled modules, so a "
                            "worker loads the module instead of compiling it; writes "
                            f"{nginx.CACHE_TOML} beside the -o file (nginx's workers must be "
                            "able to write DIR)")


def _envoy(args: argparse.Namespace) -> None:
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
    _write(header + envoy_yaml(document), args.output)


def _istio(args: argparse.Namespace) -> None:
    url, sha256 = _istio_source(args.source, args.url, args.sha256, args.plain_http or None)
    options = IstioOptions(
        name=args.name or _module_name(args.source), url=url, sha256=sha256,
        namespace=args.namespace,
        plugin_config=load_plugin_config(args.config) if args.config else None,
        plugin_name=args.plugin_name, phase=args.phase, priority=args.priority,
        fail_strategy=args.fail_strategy, image_pull_policy=args.image_pull_policy,
        selector=_selector(args.selector), type=args.type)
    _write(yaml.safe_dump(wasm_plugin(options), sort_keys=False), args.output)


def _envoy_gateway(args: argparse.Namespace) -> None:
    targets = [envoy_gateway.parse_target_ref(text) for text in args.target_ref]
    config = load_structured(args.config) if args.config else None
    options = envoy_gateway.GatewayOptions(
        name=args.name or _module_name(args.source), sha256="", targets=targets,
        namespace=args.namespace, root_id=args.root_id, config=config,
        fail_open=args.fail_open, pull_secret=args.pull_secret)
    if Path(args.source).suffix == ".wasm":
        if not args.url:
            raise DeployError(
                "Envoy Gateway downloads modules itself: push this one "
                f"(pywasm-filter push {args.source} REGISTRY/REPOSITORY:TAG) and deploy the REF, "
                "or serve the file over HTTP(S) and give --url URL")
        module = _local_module(args.source, "Envoy Gateway")
        options.url = args.url
        options.sha256 = args.sha256 or hashlib.sha256(module.read_bytes()).hexdigest()
    else:
        if args.url:
            raise DeployError("--url goes with a FILE.wasm: an image REF is pulled from its "
                              "registry")
        reference = oci.parse_reference(args.source, need_tag=False)
        options.image = str(reference)
        options.sha256 = _image_sha256(reference, args.sha256, args.plain_http or None)
    _write(yaml.safe_dump(envoy_gateway.extension_policy(options), sort_keys=False), args.output)


def _wasmx(args: argparse.Namespace) -> None:
    module = _local_module(args.source, "Nginx WasmX")
    options = nginx.WasmxOptions(
        module_path=args.module_path or module,
        name=args.name or _module_name(args.source).replace("-", "_"),
        configuration=_text(args.config), vm_configuration=_text(args.vm_config),
        port=args.port, listen_address=args.address,
        upstream=parse_upstream(args.upstream) if args.upstream else None,
        shared_data=args.shm_kv, queues=list(args.shm_queue),
        callouts=_callouts(args.callout), shm_size=args.shm_size,
        response_body_buffers=args.response_body_buffers)
    if args.filter is not None:
        nginx.apply_needs(options, compat.needs(args.filter))
    else:
        print("note: without --filter FILTER.py, shm zones and callout names come from the "
              "options only (--shm-kv, --shm-queue, --callout)", file=sys.stderr)
    if args.compile_cache is not None:
        if args.output is None:
            raise DeployError("--compile-cache also writes Wasmtime's cache configuration "
                              f"({nginx.CACHE_TOML}) beside the nginx configuration: give -o FILE")
        options.compile_cache = args.compile_cache
        options.cache_config = args.output.parent.resolve() / nginx.CACHE_TOML
    text = nginx.snippet(options) if args.snippet else nginx.nginx_conf(options)
    if options.cache_config is not None:
        _write(nginx.cache_toml(args.compile_cache), options.cache_config)
    _write(text, args.output)
    if options.cache_config is not None:
        print(f"note: nginx's workers write compiled modules to {args.compile_cache}: make it "
              "writable by the user they run as (nginx's `user` directive, nobody when nginx "
              f"starts as root; e.g. install -d -o nobody {args.compile_cache}); the first "
              "worker to load the module still compiles it", file=sys.stderr)


_TARGETS: dict[str, Callable[[argparse.Namespace], None]] = {
    "envoy": _envoy, "istio": _istio, "envoy-gateway": _envoy_gateway, "wasmx": _wasmx}


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


def _istio_source(source: str, url: str | None, sha256: str,
                  plain_http: bool | None) -> tuple[str, str]:
    """(url, sha256) for a FILE.wasm or an image REF; an image's sha256 is its manifest's."""
    if Path(source).suffix == ".wasm":
        module = _local_module(source, "Istio")
        return (url or module.as_uri(),
                sha256 or hashlib.sha256(module.read_bytes()).hexdigest())
    reference = oci.parse_reference(source, need_tag=False)
    return url or f"oci://{reference}", _image_sha256(reference, sha256, plain_http)


def _image_sha256(reference: oci.Reference, sha256: str, plain_http: bool | None) -> str:
    """The hex manifest digest to pin: the reference's own, --sha256, or the registry's."""
    if reference.digest:
        pinned = reference.digest.removeprefix("sha256:")
        if sha256 and sha256 != pinned:
            raise DeployError(f"--sha256 {sha256} differs from the digest in {reference}: "
                              "give one of them")
        return pinned
    if sha256:
        return sha256
    *_, digest = oci.fetch_manifest(reference, plain_http)
    return digest.removeprefix("sha256:")


def _selector(pairs: Sequence[str]) -> dict[str, str]:
    selector = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals:
            raise DeployError(f"selector '{pair}': write KEY=VALUE, e.g. app=reviews")
        selector[key] = value
    return selector


def _callouts(pairs: Sequence[str]) -> dict[str, str]:
    callouts = {}
    for pair in pairs:
        name, equals, address = pair.partition("=")
        if not equals or not name:
            raise DeployError(f"callout '{pair}': write NAME=IP, e.g. auth=127.0.0.1")
        callouts[name] = address
    return callouts
