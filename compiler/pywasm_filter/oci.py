"""A module as an OCI image in a registry, as Istio fetches it (`pywasm-filter push`, `pull`).

Two layouts (Solo's Wasm image spec, both accepted by Istio's image fetcher):
- compat: one `tar+gzip` layer holding `plugin.wasm`, so any registry and tool handles it;
- oci: a Wasm config blob (type, abiVersions, root ids) and one raw `+wasm` layer.
Transfers go through the `oras` library; a quick ping of `/v2/` first turns an unreachable
registry or rejected credentials into one clear error instead of oras's long retry loop.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import oras.provider  # type: ignore[import-untyped]
import requests

from .abi import ABI_MARKER
from .errors import PywasmFilterError
from .verify import VerificationError, verify

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
TAR_GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_TAR_GZIP_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
WASM_CONFIG = "application/vnd.module.wasm.config.v1+json"
WASM_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"
VARIANTS = ("compat", "oci")
PLUGIN_FILE = "plugin.wasm"
VARIANT_ANNOTATION = "module.wasm.image/variant"

_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_REFERENCE = re.compile(
    r"^(?P<registry>[^/]+)/(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_PING_TIMEOUT = 5.0


class RegistryError(PywasmFilterError):
    """A bad image reference, an unreachable registry, or a registry that refused a transfer."""


@dataclass(frozen=True)
class Reference:
    """REGISTRY/REPOSITORY:TAG (or @sha256:...), parsed once and checked."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def plain_http(self) -> bool:
        """Registries on the loopback interface are spoken to over plain HTTP."""
        return self.registry.rsplit(":", 1)[0] in _LOOPBACK or self.registry in _LOOPBACK

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str, *, need_tag: bool) -> Reference:
    """Parse an image reference; `oci://` is accepted and dropped, the registry is required."""
    bare = text.removeprefix("oci://")
    match = _REFERENCE.match(bare)
    if match is None or not _is_registry(match["registry"]):
        raise RegistryError(
            f"'{text}' is not an image reference: write REGISTRY/REPOSITORY:TAG, "
            "e.g. localhost:5000/filters/my-filter:v1"
        )
    if need_tag and not match["tag"]:
        raise RegistryError(
            f"'{text}' has no tag: add one, e.g. {bare}:v1 (pywasm-filter never assumes "
            "'latest')"
        )
    if not match["tag"] and not match["digest"]:
        raise RegistryError(f"'{text}' has no tag or digest: add :TAG or @sha256:DIGEST")
    return Reference(match["registry"], match["repository"], match["tag"], match["digest"])


def _is_registry(host: str) -> bool:
    return "." in host or ":" in host or host == "localhost"


@dataclass(frozen=True)
class PushResult:
    """What was pushed: where, the manifest's digest and the module's sha256."""

    reference: Reference
    variant: str
    manifest_digest: str
    module_sha256: str


@dataclass(frozen=True)
class PullResult:
    """What was pulled: the layout found, the manifest's digest and the module's sha256."""

    variant: str
    manifest_digest: str
    module_sha256: str


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _descriptor(media_type: str, data: bytes, **annotations: str) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "mediaType": media_type, "digest": f"sha256:{_sha256(data)}", "size": len(data)}
    if annotations:
        descriptor["annotations"] = annotations
    return descriptor


def _plugin_tar(module: bytes) -> bytes:
    """A reproducible tar holding only plugin.wasm (root-owned, mode 0644, time 0)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo(PLUGIN_FILE)
        info.size, info.mode, info.mtime = len(module), 0o644, 0
        archive.addfile(info, io.BytesIO(module))
    return buffer.getvalue()


def _image_blobs(module: bytes, variant: str, root_ids: Sequence[str]) -> list[tuple[
        dict[str, Any], bytes]]:
    """(descriptor, bytes) of the config, then of each layer, in the chosen layout.

    The oci layout lists its config blob as a layer too: Istio wants exactly two layers there.
    """
    if variant == "compat":
        tar = _plugin_tar(module)
        layer = gzip.compress(tar, compresslevel=6, mtime=0)
        config = json.dumps({
            "architecture": "wasm", "os": "wasip1",
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{_sha256(tar)}"]},
        }, sort_keys=True).encode()
        return [(_descriptor(IMAGE_CONFIG, config), config),
                (_descriptor(TAR_GZIP_LAYER, layer), layer)]
    config = json.dumps({
        "type": "envoy_proxy", "abiVersions": [ABI_MARKER],
        "config": {"root_ids": list(root_ids)},
    }, sort_keys=True).encode()
    config_blob = (_descriptor(WASM_CONFIG, config), config)
    return [config_blob, config_blob,
            (_descriptor(WASM_LAYER, module, **{"org.opencontainers.image.title": PLUGIN_FILE}),
             module)]


def _docker_config() -> dict[str, Any]:
    directory = os.environ.get("DOCKER_CONFIG")
    path = Path(directory) / "config.json" if directory else Path.home() / ".docker/config.json"
    if not path.is_file():
        return {}
    try:
        config: dict[str, Any] = json.loads(path.read_text())
    except ValueError as error:
        raise RegistryError(f"{path}: not valid JSON ({error}): fix or remove it") from None
    return config


def _helper_credentials(helper: str, registry: str) -> tuple[str, str] | None:
    try:
        found = subprocess.run([f"docker-credential-{helper}", "get"], input=registry.encode(),
                               capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        raise RegistryError(
            f"the docker credential helper '{helper}' failed for {registry}: {error}"
        ) from None
    secret = json.loads(found.stdout)
    return str(secret["Username"]), str(secret["Secret"])


def credentials(registry: str) -> tuple[str, str] | None:
    """(user, password) from REGISTRY_USERNAME/REGISTRY_PASSWORD, else the docker config."""
    user, password = os.environ.get("REGISTRY_USERNAME"), os.environ.get("REGISTRY_PASSWORD")
    if user and password:
        return user, password
    config = _docker_config()
    entry = config.get("auths", {}).get(registry, {})
    if entry.get("auth"):
        name, _, secret = base64.b64decode(entry["auth"]).decode().partition(":")
        return name, secret
    if entry.get("username") and entry.get("password"):
        return str(entry["username"]), str(entry["password"])
    helper = config.get("credHelpers", {}).get(registry) or config.get("credsStore")
    return _helper_credentials(helper, registry) if helper else None


class _Registry(oras.provider.Registry):  # type: ignore[misc]
    """oras's client without its retry loop, which sleeps minutes on a refused request."""

    def do_request(self, *args: Any, **kwargs: Any) -> requests.Response:
        response: requests.Response = oras.provider.Registry.do_request.__wrapped__(
            self, *args, **kwargs)
        return response


def _connect(reference: Reference, plain_http: bool | None) -> _Registry:
    """An oras client for the registry, after checking it answers and accepts our credentials."""
    insecure = reference.plain_http if plain_http is None else plain_http
    base = f"{'http' if insecure else 'https'}://{reference.registry}/v2/"
    found = credentials(reference.registry)
    try:
        response = requests.get(base, timeout=_PING_TIMEOUT)
        scheme = response.headers.get("WWW-Authenticate", "").split(" ", 1)[0].lower()
        if response.status_code == 401 and scheme == "basic":
            if found is None:
                raise RegistryError(
                    f"{reference.registry} needs credentials: set REGISTRY_USERNAME and "
                    "REGISTRY_PASSWORD, or log in with `docker login` (docker config)"
                )
            response = requests.get(base, auth=found, timeout=_PING_TIMEOUT)
            if response.status_code == 401:
                raise RegistryError(
                    f"{reference.registry} rejected the credentials of user '{found[0]}': "
                    "check REGISTRY_USERNAME/REGISTRY_PASSWORD or your docker config"
                )
    except requests.RequestException as error:
        raise RegistryError(
            f"cannot reach the registry at {base}: {type(error).__name__}; check the address "
            "and that the registry runs (plain HTTP is used for localhost/127.0.0.1 only; "
            "--plain-http forces it)"
        ) from None
    client = _Registry(hostname=reference.registry, insecure=insecure,
                       auth_backend="basic" if scheme == "basic" else "token")
    if found is not None:
        client.auth.set_basic_auth(*found)
    return client


def _check(response: requests.Response, what: str, reference: Reference) -> None:
    if response.status_code in (401, 403):
        raise RegistryError(f"{reference.registry} refused to {what} {reference}: "
                            f"HTTP {response.status_code}; check your credentials")
    if response.status_code >= 300:
        raise RegistryError(f"the registry could not {what} {reference}: HTTP "
                            f"{response.status_code} {response.text.strip()[:300]}")


def _not_proxy_wasm(module: bytes) -> str:
    """Why `module` is not a Proxy-Wasm module, in one line; empty if it is one."""
    if not module.startswith(b"\0asm"):
        return "it is not a WebAssembly file"
    try:
        verify(module)
    except (VerificationError, ValueError) as error:
        return " ".join(str(error).split())[:300]
    return ""


def _container(client: _Registry, reference: Reference) -> Any:
    return client.get_container(str(reference))


def push(module_path: Path, reference_text: str, variant: str = "compat", *,
         root_ids: Sequence[str] = (), plain_http: bool | None = None) -> PushResult:
    """Check the file is a Proxy-Wasm module, then push it as an image in `variant`'s layout."""
    if variant not in VARIANTS:
        raise RegistryError(f"unknown variant '{variant}': choose one of {', '.join(VARIANTS)}")
    if root_ids and variant != "oci":
        raise RegistryError("--root-id is recorded only by the oci variant: add --variant oci")
    reference = parse_reference(reference_text, need_tag=True)
    if reference.digest:
        raise RegistryError(f"'{reference_text}': push to a tag, not a digest")
    try:
        module = module_path.read_bytes()
    except OSError as error:
        raise RegistryError(f"{module_path}: cannot read it ({error.strerror})") from None
    problem = _not_proxy_wasm(module)
    if problem:
        raise RegistryError(
            f"{module_path}: not a Proxy-Wasm module ({problem}); nothing was pushed: "
            "push a .wasm written by `pywasm-filter build`"
        )
    client = _connect(reference, plain_http)
    container = _container(client, reference)
    blobs = _image_blobs(module, variant, root_ids)
    with tempfile.TemporaryDirectory(prefix="pywasm-push-") as tmp:
        unique = {descriptor["digest"]: (descriptor, data) for descriptor, data in blobs}
        for index, (descriptor, data) in enumerate(unique.values()):
            path = Path(tmp) / f"blob-{index}"
            path.write_bytes(data)
            _check(client.upload_blob(str(path), container, descriptor), "upload a blob to",
                   reference)
    manifest: dict[str, Any] = {
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": blobs[0][0], "layers": [descriptor for descriptor, _ in blobs[1:]],
    }
    if variant == "compat":
        manifest["annotations"] = {VARIANT_ANNOTATION: "compat"}
    response = client.upload_manifest(manifest, container)
    _check(response, "push the manifest of", reference)
    digest = response.headers.get("Docker-Content-Digest") or (
        f"sha256:{_sha256(json.dumps(manifest).encode())}")
    return PushResult(reference, variant, digest, _sha256(module))


def _module_from(client: _Registry, container: Any, manifest: dict[str, Any],
                 reference: Reference) -> tuple[str, bytes]:
    """(variant, module bytes) from a manifest in any of the layouts Istio accepts."""
    layers = manifest.get("layers", [])
    for layer in layers:
        if layer.get("mediaType") == WASM_LAYER:
            return "oci", _blob(client, container, layer, reference)
    if layers and layers[-1].get("mediaType") in (TAR_GZIP_LAYER, DOCKER_TAR_GZIP_LAYER):
        archive = gzip.decompress(_blob(client, container, layers[-1], reference))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.lstrip("./") == PLUGIN_FILE:
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        return "compat", extracted.read()
        raise RegistryError(f"{reference}: the image's last layer has no {PLUGIN_FILE}")
    kinds = ", ".join(str(layer.get("mediaType")) for layer in layers) or "no layers"
    raise RegistryError(f"{reference} is not a Wasm image (layers: {kinds})")


def _blob(client: _Registry, container: Any, layer: dict[str, Any],
          reference: Reference) -> bytes:
    response = client.get_blob(container, layer["digest"])
    _check(response, "fetch a layer of", reference)
    data: bytes = response.content
    if f"sha256:{_sha256(data)}" != layer["digest"]:
        raise RegistryError(f"{reference}: layer {layer['digest']} arrived corrupted")
    return data


def fetch_manifest(reference: Reference, plain_http: bool | None = None) -> tuple[
        _Registry, Any, dict[str, Any], str]:
    """(client, container, manifest, digest) for an image reference."""
    client = _connect(reference, plain_http)
    container = _container(client, reference)
    response = client.do_request(
        f"{client.prefix}://{container.manifest_url()}", "GET",
        headers={"Accept": f"{MANIFEST}, application/vnd.docker.distribution.manifest.v2+json"})
    _check(response, "fetch the manifest of", reference)
    manifest: dict[str, Any] = response.json()
    digest = response.headers.get("Docker-Content-Digest") or f"sha256:{_sha256(response.content)}"
    return client, container, manifest, digest


def pull(reference_text: str, output: Path, *, plain_http: bool | None = None) -> PullResult:
    """Download the module of an image (either layout) to `output`, checking it is Proxy-Wasm."""
    reference = parse_reference(reference_text, need_tag=False)
    client, container, manifest, digest = fetch_manifest(reference, plain_http)
    variant, module = _module_from(client, container, manifest, reference)
    problem = _not_proxy_wasm(module)
    if problem:
        raise RegistryError(f"{reference} holds a file that is not a Proxy-Wasm module: {problem}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(module)
    return PullResult(variant, digest, _sha256(module))
