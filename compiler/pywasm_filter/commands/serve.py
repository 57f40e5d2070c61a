"""`pywasm-filter serve`: a filter in a local Envoy on 127.0.0.1, its log followed live.

With --request it sends one GET and stops; with --watch it rebuilds on every change of the
sources and restarts Envoy on the same port, keeping the last build that worked.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from .. import deploy, watch
from ..build import build
from ..envoy import (
    DEFAULT_FAILURE_POLICY,
    FAILURE_POLICIES,
    Envoy,
    HttpBootstrap,
    Upstream,
    WasmFilter,
    check_port_free,
)
from ..errors import PywasmFilterError
from . import Subcommands, add_import_path_option
from .build import default_output, report

# Envoy's line for a proxy_log call: "[time][thread][level][wasm] [source] wasm log NAME VM: text".
_WASM_LOG = re.compile(r"\]\[(\w+)\]\[wasm\] \[[^\]]*\] wasm log [^:]*: (.*)")


def add_parser(commands: Subcommands) -> argparse.ArgumentParser:
    """`serve FILTER [--config F] [--request PATH] [--port N] [--upstream URL] [--watch] ...`."""
    parser = commands.add_parser("serve", help="run a filter in a local Envoy on 127.0.0.1")
    parser.add_argument("filter", type=Path, help="a filter .py (built first) or a .wasm module")
    parser.add_argument("--config", type=Path, help="file whose text is the plugin configuration")
    parser.add_argument("--request", metavar="PATH",
                        help="send one GET request for PATH, print the response and stop")
    parser.add_argument("--port", type=int, default=0,
                        help="listener port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--upstream", metavar="URL",
                        help="route to http://HOST:PORT instead of a direct response")
    parser.add_argument("--watch", action="store_true",
                        help="rebuild and restart when the filter's .py files (or --config) "
                             "change")
    parser.add_argument("--failure-policy", default=DEFAULT_FAILURE_POLICY,
                        choices=FAILURE_POLICIES,
                        help="what Envoy does after a Wasm trap (default "
                             f"{DEFAULT_FAILURE_POLICY}: a new VM serves the next request)")
    add_import_path_option(parser, "--path", "--import-path")
    return parser


def handle(args: argparse.Namespace) -> None:
    """Serve until Ctrl-C or SIGTERM (or after the one --request), then stop Envoy."""
    if args.port:
        check_port_free(args.port)  # before building: a busy port would fail only after it
    with tempfile.TemporaryDirectory(prefix="pywasm-serve-") as tmp:
        workdir = Path(tmp)
        if args.request is None:
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            if args.watch:
                _serve_watching(args, workdir)
                return
            module = _module_for(args.filter, workdir, args.import_paths)
            with Envoy(_serve_config(args, module, args.port), workdir) as envoy:
                _announce(envoy, module)
                if args.request is not None:
                    print(f"GET {args.request}")
                    _print_response(envoy.url + args.request)
                    time.sleep(0.2)
                    print("filter log:")
                    for line in _filter_log_lines(envoy):
                        print(f"  {line}")
                    return
                print("press Ctrl-C to stop; filter log lines follow", flush=True)
                _follow_logs(envoy)
        except KeyboardInterrupt:
            return


def _module_for(path: Path, workdir: Path, import_paths: list[Path]) -> Path:
    """A .wasm to serve: the given module, or one built from the given source."""
    if path.suffix == ".wasm":
        return path.resolve()
    result = build(path, workdir / default_output(path), paths=import_paths)
    report(result)
    return result.output


def _print_response(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    print(f"HTTP {status}")
    for name, value in headers.items():
        print(f"{name}: {value}")
    print()
    print(body.decode(errors="replace"))


def _filter_log_lines(envoy: Envoy) -> list[str]:
    """The filter's own log lines from Envoy's log, as "[level] text"."""
    return [
        f"[{match[1]}] {match[2]}"
        for match in map(_WASM_LOG.search, envoy.logs().splitlines())
        if match
    ]


def _serve_config(args: argparse.Namespace, module: Path, port: int) -> dict[str, Any]:
    """The bootstrap `serve` runs: the filter before a direct response or the --upstream."""
    configuration = args.config.read_text() if args.config else ""
    clusters = []
    if args.upstream:
        host, upstream_port = deploy.parse_upstream(args.upstream)
        clusters.append(Upstream("upstream", upstream_port, address=host))
    plugin = WasmFilter(module, configuration=configuration, failure_policy=args.failure_policy)
    return HttpBootstrap(filters=[plugin],
                         route_to="upstream" if clusters else None, clusters=clusters,
                         port=port).to_config()


def _announce(envoy: Envoy, module: Path) -> None:
    print(f"Envoy is serving {module.name} at {envoy.url} (admin {envoy.admin_url})", flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops `serve` like Ctrl-C does, so Envoy is stopped too."""
    raise KeyboardInterrupt


def _serve_watching(args: argparse.Namespace, workdir: Path) -> None:
    """Build, run Envoy and stream its log; on a change of the sources, rebuild while the old
    Envoy still serves, then restart on the same port. A failed build keeps the old one."""
    watcher = watch.Watcher(args.filter, [args.config] if args.config else [])
    port = args.port
    envoy: Envoy | None = None
    generation = 0
    try:
        while True:
            generation += 1
            envoy, port = _rebuild_and_restart(args, envoy, workdir / f"run-{generation}", port)
            if envoy is not None and not _follow_logs(envoy, until=watcher.changed):
                print(f"Envoy stopped:\n{envoy.log_tail()}", file=sys.stderr, flush=True)
                envoy = None
            if envoy is None:
                print("waiting for a change to rebuild", flush=True)
                while not watcher.changed():
                    time.sleep(0.3)
            print("change detected: rebuilding", flush=True)
    finally:
        if envoy is not None:
            envoy.stop()


def _rebuild_and_restart(args: argparse.Namespace, envoy: Envoy | None, run_dir: Path,
                         port: int) -> tuple[Envoy | None, int]:
    """The Envoy serving now (a new one if the build succeeded) and its listener port."""
    try:
        module = _module_for(args.filter, run_dir, args.import_paths)
    except PywasmFilterError as error:
        print(error, file=sys.stderr, flush=True)
        if envoy is not None:
            print("still serving the last build that worked", flush=True)
        return envoy, port
    if envoy is not None:
        envoy.stop()
        shutil.rmtree(envoy.workdir, ignore_errors=True)
    fresh = Envoy(_serve_config(args, module, port), run_dir)
    try:
        fresh.start()
    except PywasmFilterError as error:
        print(error, file=sys.stderr, flush=True)
        return None, port
    _announce(fresh, module)
    print(f"watching {args.filter} for changes; press Ctrl-C to stop", flush=True)
    return fresh, fresh.port


def _follow_logs(envoy: Envoy, until: Callable[[], bool] | None = None) -> bool:
    """Print the filter's new log lines while Envoy runs; True once `until()` says stop."""
    shown = 0
    while envoy.running():
        lines = _filter_log_lines(envoy)
        for line in lines[shown:]:
            print(line, flush=True)
        shown = len(lines)
        if until is not None and until():
            return True
        time.sleep(0.2)
    return False
