"""The `pywasm-filter` command line: assembles the commands of `pywasm_filter.commands`."""

from __future__ import annotations

import argparse
import sys

from .commands import Command, build, deploy, init, pull, push, run, serve
from .errors import PywasmFilterError

# In the order `pywasm-filter --help` lists them.
COMMANDS: tuple[Command, ...] = (init, build, serve, run, push, pull, deploy)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pywasm-filter",
        description="Build Proxy-Wasm filters for Envoy, Istio and Nginx WasmX from Python.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands).set_defaults(handle=command.handle)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pywasm-filter` console script: 1 on an error the user can fix."""
    args = _parser().parse_args(argv)
    try:
        args.handle(args)
    except PywasmFilterError as error:
        print(error, file=sys.stderr)
        return 1
    return 0
