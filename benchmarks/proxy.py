"""Envoy pinned to one core, with the measurements the benchmark takes from outside it.

CPU time and RSS come from /proc (the admin /memory endpoint misses the Wasm heaps); the load
time is measured from process start to the first 200 on the listener, and from the log's
"Base Wasm created" line to the filter's first log line (its on_vm_start). The ext_proc
variant's server runs beside Envoy, started and stopped with it, measured the same way.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from pywasm_filter.envoy import Envoy, HttpBootstrap, WasmFilter, free_port

from . import peers
from .variants import VM_STARTED, Variant

ENVOY_CORE = "0"
_TICKS = os.sysconf("SC_CLK_TCK")
_LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]")
_VM_CREATED = "Base Wasm created"


def _get_status(port: int) -> int | None:
    """The status of one GET / on 127.0.0.1:port, or None if nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            head = connection.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a whole process (all threads), from /proc."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _rss_mib(pid: int) -> float:
    """Resident set size of a process from /proc/<pid>/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc status")


def _peer_filter(config: dict[str, Any], variant: Variant,
                 server: peers.ExtProcServer | None) -> None:
    """Put the variant's peer filter (and the ext_proc server's cluster) into ``config``."""
    if variant.peer is None:
        return
    entry = peers.lua_filter() if variant.peer == "lua" else peers.ext_proc_filter()
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    manager["typed_config"]["http_filters"].insert(0, entry)
    if server is not None:
        config["static_resources"]["clusters"].append(peers.ext_proc_cluster(server.port))


def _inline_code(config: dict[str, Any], module: Path) -> None:
    """Give the Wasm filter in ``config`` its module as ``inline_bytes`` instead of a file."""
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    vm_config = manager["typed_config"]["http_filters"][0]["typed_config"]["config"]["vm_config"]
    vm_config["code"] = {"local": {"inline_bytes": base64.b64encode(module.read_bytes()).decode()}}


def _log_time(line: str) -> float | None:
    match = _LOG_TIME.match(line)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()


class PinnedEnvoy(Envoy):
    """Envoy serving a direct response through one variant's filter, on one core.

    ``server`` is the ext_proc variant's server process (None for the other variants).
    """

    def __init__(self, variant: Variant, workdir: Path, concurrency: int = 1) -> None:
        self.variant = variant
        port = free_port()
        filters = [] if variant.module is None else [WasmFilter(variant.module)]
        config = HttpBootstrap(filters=filters, direct_response_body="ok\n",
                               release_memory=variant.release_memory).to_config()
        config["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = port
        directory = workdir / f"{variant.name}-c{concurrency}"
        self.server = (peers.ExtProcServer(free_port(), directory / "ext_proc.log", ENVOY_CORE)
                       if variant.peer == "ext_proc" else None)
        _peer_filter(config, variant, self.server)
        if variant.inline_code and variant.module is not None:
            _inline_code(config, variant.module)
        super().__init__(config, directory,
                         concurrency=concurrency, log_level="warn",
                         command_prefix=["taskset", "-c", ENVOY_CORE])
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.load_seconds = 0.0
        self.load_cpu_seconds = 0.0

    @property
    def pid(self) -> int:
        """Envoy's process id."""
        assert self._process is not None, "Envoy is not running"
        return self._process.pid

    def start(self, timeout: float = 60.0) -> None:
        """Start Envoy and wait for the first 200; records the wall and CPU time it took.

        The CPU time (all of Envoy's threads) is the steadier figure on a busy machine. An
        ext_proc server is started first and is not part of these figures.
        """
        try:
            if self.server is not None:
                self.server.start()
            self._start_envoy(timeout)
        except BaseException:
            self.stop()
            raise

    def _start_envoy(self, timeout: float) -> None:
        started = time.monotonic()
        process = self._launch()
        while time.monotonic() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"Envoy ({self.variant.name}) exited: see {self.log_path}")
            if _get_status(self.port) == 200:
                self.load_seconds = time.monotonic() - started
                self.load_cpu_seconds = self.cpu_seconds()
                return
            time.sleep(0.005)
        raise RuntimeError(f"Envoy ({self.variant.name}) served no 200 in {timeout} s")

    def stop(self) -> None:
        """Stop Envoy, then its ext_proc server if it has one."""
        super().stop()
        if self.server is not None:
            self.server.stop()

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the whole Envoy process (all threads), from /proc."""
        return _cpu_seconds(self.pid)

    def minor_faults(self) -> int:
        """Page faults of the whole Envoy process served without I/O (e.g. pages the allocator
        handed back to the kernel and touches again), from /proc."""
        return int(_stat_fields(self.pid)[7])

    def rss_mib(self) -> float:
        """Envoy's resident set size, in MiB."""
        return _rss_mib(self.pid)

    def admin_json(self, path: str) -> Any:
        """What Envoy's admin API answers at ``path`` (e.g. "/memory"), decoded from JSON."""
        address = (self.workdir / "admin.address").read_text().strip()
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as response:
            return json.loads(response.read())

    def server_cpu_seconds(self) -> float | None:
        """CPU time of the ext_proc server process (None without one)."""
        return None if self.server is None else _cpu_seconds(self.server.pid)

    def server_rss_mib(self) -> float | None:
        """The ext_proc server's resident set size in MiB (None without one)."""
        return None if self.server is None else _rss_mib(self.server.pid)

    def vm_to_first_callback(self) -> float | None:
        """Seconds from "Base Wasm created" to the filter's first log line, from Envoy's log."""
        created = first = None
        for line in self.log_path.read_text(errors="replace").splitlines():
            if created is None and _VM_CREATED in line:
                created = _log_time(line)
            elif created is not None and VM_STARTED in line:
                first = _log_time(line)
                break
        if created is None or first is None:
            return None
        return first - created
