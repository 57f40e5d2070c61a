"""The `pywasm-filter` command line: init, build and serve."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import deploy, oci, scaffold
from .build import BuildResult, build
from .envoy import Envoy, HttpBootstrap, WasmFilter
from .errors import PywasmFilterError


def _size(count: int) -> str:
    return f"{count / 1_000_000:.2f} MB" if count >= 100_000 else f"{count / 1000:.1f} KB"


def _report(result: BuildResult) -> None:
    print(
        f"wrote {result.output} ({_size(result.file_bytes)}: code {_size(result.code_bytes)}, "
        f"data {_size(result.data_bytes)}) in {result.seconds:.1f} s"
    )


def _default_output(filter_path: Path) -> Path:
    stem = filter_path.resolve().name.removesuffix(".py")
    return Path(f"{stem}.wasm")


def _command_build(args: argparse.Namespace) -> None:
    _report(build(args.filter, args.output or _default_output(args.filter)))


def _command_init(args: argparse.Namespace) -> None:
    for path in scaffold.create(args.directory, args.template):
        print(f"created {path}")
    print(f"next: pywasm-filter serve {args.directory / 'filter.py'} --request /")


def _module_for(path: Path, workdir: Path) -> Path:
    """A .wasm to serve: the given module, or one built from the given source."""
    if path.suffix == ".wasm":
        return path.resolve()
    result = build(path, workdir / _default_output(path))
    _report(result)
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


# Envoy's line for a proxy_log call: "[time][thread][level][wasm] [source] wasm log NAME VM: text".
_WASM_LOG = re.compile(r"\]\[(\w+)\]\[wasm\] \[[^\]]*\] wasm log [^:]*: (.*)")


def _filter_log_lines(envoy: Envoy) -> list[str]:
    """The filter's own log lines from Envoy's log, as "[level] text"."""
    return [
        f"[{match[1]}] {match[2]}"
        for match in map(_WASM_LOG.search, envoy.logs().splitlines())
        if match
    ]


def _command_serve(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="pywasm-serve-") as tmp:
        workdir = Path(tmp)
        module = _module_for(args.filter, workdir)
        configuration = args.config.read_text() if args.config else ""
        bootstrap = HttpBootstrap(filters=[WasmFilter(module, configuration=configuration)])
        with Envoy(bootstrap.to_config(), workdir) as envoy:
            print(f"Envoy is serving {module.name} at {envoy.url} (admin {envoy.admin_url})")
            if args.request is not None:
                print(f"GET {args.request}")
                _print_response(envoy.url + args.request)
                time.sleep(0.2)
                print("filter log:")
                for line in _filter_log_lines(envoy):
                    print(f"  {line}")
                return
            print("press Ctrl-C to stop; filter log lines follow")
            _follow_logs(envoy)


def _follow_logs(envoy: Envoy) -> None:
    shown = 0
    try:
        while envoy.running():
            lines = _filter_log_lines(envoy)
            for line in lines[shown:]:
                print(line, flush=True)
            shown = len(lines)
            time.sleep(0.2)
    except KeyboardInterrupt:
        return


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pywasm-filter",
        description="Build Proxy-Wasm filters for Envoy, Istio and Nginx WasmX from Python.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="create a new filter project from a template")
    init.add_argument("directory", type=Path)
    init.add_argument("--template", default="http_headers", choices=scaffold.TEMPLATES)
    init.set_defaults(run=_command_init)

    build_command = commands.add_parser("build", help="compile a Python filter to a .wasm module")
    build_command.add_argument("filter", type=Path,
                               help="the filter .py file or package directory")
    build_command.add_argument("-o", "--output", type=Path,
                               help="output .wasm (default: ./NAME.wasm)")
    build_command.set_defaults(run=_command_build)

    serve = commands.add_parser("serve", help="run a filter in a local Envoy on 127.0.0.1")
    serve.add_argument("filter", type=Path, help="a filter .py (built first) or a .wasm module")
    serve.add_argument("--config", type=Path, help="file whose text is the plugin configuration")
    serve.add_argument("--request", metavar="PATH",
                       help="send one GET request for PATH, print the response and stop")
    serve.set_defaults(run=_command_serve)

    oci.add_commands(commands)
    deploy.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pywasm-filter` console script."""
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except PywasmFilterError as error:
        print(error, file=sys.stderr)
        return 1
    return 0
