"""Envoy Gateway's `EnvoyExtensionPolicy` that runs a module from an OCI image or an HTTP(S)
URL (`pywasm-filter deploy envoy-gateway`), checked offline against the rules its CRD enforces.

The rules come from `gateway.envoyproxy.io/v1alpha1`: the CRD's patterns, lengths and enums,
its CEL rules (target groups and kinds, `type: Image` with `image` set, at most 16 Wasm
entries), and what Envoy Gateway's translator needs to serve the module (a `sha256` that is the
image's manifest digest, or the module's own for a URL, in hex; an http or https URL).
Envoy Gateway hands `config` to the filter as JSON text.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .deploy import DeployError
from .oci import RegistryError, parse_reference

API_VERSION = "gateway.envoyproxy.io/v1alpha1"
KIND = "EnvoyExtensionPolicy"
TARGET_GROUP = "gateway.networking.k8s.io"
TARGET_KINDS = ("Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute", "UDPRoute", "TCPRoute",
                "TLSRoute")
"""The kinds the CRD's CEL rule lets a policy target."""
HTTP_TARGET_KINDS = ("Gateway", "ListenerSet", "HTTPRoute", "GRPCRoute")
"""The kinds whose traffic passes the HTTP filter chain, where a Wasm extension runs."""
CODE_TYPES = ("HTTP", "Image")
MAX_WASM = 16
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_KIND = re.compile(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$")
_SHA256 = re.compile(r"^[a-f0-9]{64}$")


@dataclass(frozen=True)
class TargetRef:
    """A Gateway API object the policy attaches to, optionally one section (listener, rule)."""

    kind: str
    name: str
    section: str = ""

    def to_config(self) -> dict[str, str]:
        """The `targetRefs` entry."""
        ref = {"group": TARGET_GROUP, "kind": self.kind, "name": self.name}
        if self.section:
            ref["sectionName"] = self.section
        return ref


def parse_target_ref(text: str) -> TargetRef:
    """`KIND/NAME` or `KIND/NAME/SECTION` as given to --target-ref."""
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise DeployError(f"target ref '{text}': write KIND/NAME or KIND/NAME/SECTION, e.g. "
                          "Gateway/eg, HTTPRoute/backend or Gateway/eg/http")
    return TargetRef(*parts)


@dataclass
class GatewayOptions:
    """The fields of an EnvoyExtensionPolicy with one Wasm extension, from an image or a URL."""

    name: str
    sha256: str
    """The image's manifest digest, or the module's sha256 for a URL, in hex: Envoy Gateway
    refuses code that differs."""
    targets: Sequence[TargetRef]
    image: str = ""
    """REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:HEX, as Envoy Gateway pulls it."""
    url: str = ""
    """Instead of an image: the http(s) URL Envoy Gateway downloads the module from."""
    namespace: str = ""
    root_id: str = ""
    config: Any = None
    """Any JSON value (None: no config); the filter receives it as JSON text."""
    fail_open: bool = False
    pull_secret: str = ""


def extension_policy(options: GatewayOptions) -> dict[str, Any]:
    """A validated `EnvoyExtensionPolicy` that runs the module on the targets."""
    metadata: dict[str, Any] = {"name": options.name}
    if options.namespace:
        metadata["namespace"] = options.namespace
    wasm: dict[str, Any] = {"name": options.name}
    if options.root_id:
        wasm["rootID"] = options.root_id
    wasm["code"] = _code(options)
    if options.config is not None:
        wasm["config"] = options.config
    wasm["failOpen"] = options.fail_open
    policy = {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata,
              "spec": {"targetRefs": [target.to_config() for target in options.targets],
                       "wasm": [wasm]}}
    validate_extension_policy(policy)
    return policy


def _code(options: GatewayOptions) -> dict[str, Any]:
    if bool(options.image) == bool(options.url):
        raise DeployError("give exactly one of the module's image REF and its --url")
    if options.url:
        if options.pull_secret:
            raise DeployError("--pull-secret is for images: a URL is downloaded as it is")
        return {"type": "HTTP", "http": {"url": options.url, "sha256": options.sha256}}
    image: dict[str, Any] = {"url": options.image, "sha256": options.sha256}
    if options.pull_secret:
        image["pullSecretRef"] = {"kind": "Secret", "name": options.pull_secret}
    return {"type": "Image", "image": image}


def validate_extension_policy(policy: Mapping[str, Any]) -> None:
    """Apply the rules an EnvoyExtensionPolicy with Wasm extensions must pass, without a cluster."""
    if policy.get("apiVersion") != API_VERSION or policy.get("kind") != KIND:
        raise DeployError(f"write apiVersion: {API_VERSION} and kind: {KIND}")
    metadata = policy.get("metadata") or {}
    _check_dns_subdomain(metadata.get("name", ""), "metadata.name")
    namespace = metadata.get("namespace", "")
    if namespace and not _DNS_LABEL.match(namespace):
        raise DeployError(f"namespace '{namespace}': a namespace is at most 63 lowercase "
                          "letters, digits and '-', starting and ending with a letter or digit")
    spec = policy.get("spec") or {}
    _check_targets(spec)
    entries = spec.get("wasm") or []
    if not 1 <= len(entries) <= MAX_WASM:
        raise DeployError(f"spec.wasm has {len(entries)} entries: the CRD allows 1 to "
                          f"{MAX_WASM} (maxItems {MAX_WASM})")
    for index, entry in enumerate(entries):
        _check_wasm(entry, f"spec.wasm[{index}]")


def _check_dns_subdomain(name: str, what: str) -> None:
    if not name or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise DeployError(f"{what} '{name}': a Kubernetes object name is a DNS subdomain "
                          "(1-253 lowercase letters, digits, '-' and '.'): use --name")


def _check_targets(spec: Mapping[str, Any]) -> None:
    targets = spec.get("targetRefs") or []
    if "targetRef" in spec or not targets:
        raise DeployError("give the Gateway or route the policy attaches to: --target-ref "
                          "Gateway/NAME or --target-ref HTTPRoute/NAME (the CRD wants "
                          "targetRefs, or the deprecated targetRef, not both)")
    for index, ref in enumerate(targets):
        what = f"targetRefs[{index}]"
        if ref.get("group") != TARGET_GROUP:
            raise DeployError(f"{what}.group '{ref.get('group')}': this policy only targets "
                              f"group {TARGET_GROUP}")
        kind = ref.get("kind", "")
        if kind not in TARGET_KINDS or not _KIND.match(kind):
            raise DeployError(f"{what}.kind '{kind}': this policy targets one of "
                              f"{', '.join(TARGET_KINDS)}")
        if kind not in HTTP_TARGET_KINDS:
            raise DeployError(f"{what}.kind '{kind}': a Wasm extension is an HTTP filter and "
                              f"never sees {kind} traffic: target one of "
                              f"{', '.join(HTTP_TARGET_KINDS)}")
        _check_dns_subdomain(ref.get("name", ""), f"{what}.name")
        section = ref.get("sectionName")
        if section is not None and (len(section) > 253 or not _DNS_SUBDOMAIN.match(section)):
            raise DeployError(f"{what}.sectionName '{section}': a listener or rule name is a DNS "
                              "subdomain (lowercase letters, digits, '-' and '.')")


def _check_wasm(entry: Mapping[str, Any], what: str) -> None:
    for key in ("name", "rootID"):
        if key in entry and not isinstance(entry[key], str):
            raise DeployError(f"{what}.{key} must be a string")
    if not isinstance(entry.get("failOpen", False), bool):
        raise DeployError(f"{what}.failOpen must be true or false")
    if "config" in entry:
        _check_json(entry["config"], f"{what}.config")
    code = entry.get("code")
    if not isinstance(code, Mapping) or code.get("type") not in CODE_TYPES:
        raise DeployError(f"{what}.code.type: choose one of {', '.join(CODE_TYPES)}")
    for code_type, key in (("HTTP", "http"), ("Image", "image")):
        if (code["type"] == code_type) != (key in code):
            raise DeployError(f"{what}.code: type {code_type} goes with the {key} field, and "
                              "only that type")
    if code["type"] == "Image":
        _check_image(code["image"], f"{what}.code.image")
    else:
        _check_http(code["http"], f"{what}.code.http")


def _check_image(image: Mapping[str, Any], what: str) -> None:
    url = image.get("url", "")
    try:
        reference = parse_reference(url, need_tag=False)
    except RegistryError as error:
        raise DeployError(f"{what}.url: {error}") from None
    sha256 = image.get("sha256", "")
    if not _SHA256.match(sha256):
        raise DeployError(f"{what}.sha256 '{sha256}': write the manifest digest as 64 lowercase "
                          "hex digits (no 'sha256:' prefix)")
    if reference.digest and reference.digest != f"sha256:{sha256}":
        raise DeployError(f"{what}: the url pins {reference.digest} but sha256 is {sha256}; "
                          "Envoy Gateway would refuse the image: give one digest")
    secret = image.get("pullSecretRef")
    if secret is not None:
        if secret.get("kind", "Secret") != "Secret":
            raise DeployError(f"{what}.pullSecretRef: only a Secret is supported")
        _check_dns_subdomain(secret.get("name", ""), f"{what}.pullSecretRef.name")


def _check_http(http: Mapping[str, Any], what: str) -> None:
    url = http.get("url", "")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeployError(f"{what}.url '{url}': Envoy Gateway downloads modules from http:// or "
                          "https:// URLs with a host")
    sha256 = http.get("sha256", "")
    if not _SHA256.match(sha256):
        raise DeployError(f"{what}.sha256 '{sha256}': write the module's sha256 as 64 lowercase "
                          "hex digits")


def _check_json(value: Any, what: str) -> None:
    """Kubernetes stores `config` as JSON: a YAML date, set or NaN has no JSON form."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise DeployError(f"{what}: not representable as JSON ({error}): quote dates and "
                          "other YAML-only values") from None
