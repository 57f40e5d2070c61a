"""The peer variants that are not Wasm: Envoy's Lua filter and an ext_proc server in Python.

They do the same header work as the Wasm variants (benchmarks/filters/bench.lua and
benchmarks/filters/ext_proc_server.py); this module makes their Envoy filter entries, the
ext_proc server's cluster, and runs that server in its own process on Envoy's core.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from pywasm_filter.envoy import terminate

from .setup_tools import ensure_ext_proc_python

FILTERS = Path(__file__).parent / "filters"
EXT_PROC_CLUSTER = "bench_ext_proc"
_LUA = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
_EXT_PROC = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor"
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def lua_filter() -> dict[str, Any]:
    """The `envoy.filters.http.lua` entry with bench.lua inline."""
    code = (FILTERS / "bench.lua").read_text()
    return {"name": "envoy.filters.http.lua",
            "typed_config": {"@type": _LUA, "default_source_code": {"inline_string": code}}}


def ext_proc_filter() -> dict[str, Any]:
    """The `envoy.filters.http.ext_proc` entry: request and response headers only."""
    mode = {"request_header_mode": "SEND", "response_header_mode": "SEND",
            "request_body_mode": "NONE", "response_body_mode": "NONE",
            "request_trailer_mode": "SKIP", "response_trailer_mode": "SKIP"}
    return {"name": "envoy.filters.http.ext_proc", "typed_config": {
        "@type": _EXT_PROC,
        "grpc_service": {"envoy_grpc": {"cluster_name": EXT_PROC_CLUSTER}, "timeout": "2s"},
        "processing_mode": mode}}


def ext_proc_cluster(port: int) -> dict[str, Any]:
    """The HTTP/2 cluster Envoy reaches the ext_proc server through, on 127.0.0.1:port."""
    address = {"socket_address": {"address": "127.0.0.1", "port_value": port}}
    return {
        "name": EXT_PROC_CLUSTER, "type": "STATIC", "connect_timeout": "1s",
        "typed_extension_protocol_options": {_HTTP_OPTIONS: {
            "@type": f"type.googleapis.com/{_HTTP_OPTIONS}",
            "explicit_http_config": {"http2_protocol_options": {}}}},
        "load_assignment": {"cluster_name": EXT_PROC_CLUSTER, "endpoints": [
            {"lb_endpoints": [{"endpoint": {"address": address}}]}]},
    }


class ExtProcServer:
    """The ext_proc server process, pinned to ``core`` (Envoy's: a sidecar shares its budget).

    It runs in its own virtualenv (grpcio, xds-protos), made by setup_tools on first use.
    """

    def __init__(self, port: int, log_path: Path, core: str) -> None:
        self.port = port
        self.log_path = log_path
        self.core = core
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._process is not None, "the ext_proc server is not running"
        return self._process.pid

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until its port accepts connections."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                ["taskset", "-c", self.core, str(ensure_ext_proc_python()),
                 str(FILTERS / "ext_proc_server.py"), str(self.port)],
                stdout=log, stderr=subprocess.STDOUT)
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self._process.poll() is not None:
                raise RuntimeError(f"the ext_proc server exited: see {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the ext_proc server did not listen in {timeout} s: see "
                           f"{self.log_path}")

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit in 10 s)."""
        terminate(self._process)
