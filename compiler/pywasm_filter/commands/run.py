"""`pywasm-filter run`: one request through a filter in the emulator, reported per phase."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import run
from ..errors import PywasmFilterError
from . import Subcommands, add_import_path_option


def add_parser(commands: Subcommands) -> argparse.ArgumentParser:
    """`run FILTER [--engine E] [--input FILE] [request and response options]`."""
    parser = commands.add_parser("run", help="drive one request through a filter in the emulator")
    parser.add_argument("filter", type=Path, help="a filter .py (or package) or a built .wasm")
    parser.add_argument("--engine", choices=("source", "wasm"),
                        help="run a .py from source (default) or build it and run the module")
    parser.add_argument("--input", type=Path,
                        help="YAML or JSON file describing the request (options override it)")
    parser.add_argument("--method", help="request method (default GET)")
    parser.add_argument("--path", help="request path (default /)")
    parser.add_argument("--header", action="append", default=[], metavar="NAME:VALUE",
                        help="a request header (repeatable)")
    parser.add_argument("--body", help="the request body")
    parser.add_argument("--config", metavar="FILE_OR_TEXT",
                        help="the plugin configuration: a file's contents, or the text itself")
    parser.add_argument("--vm-config", metavar="FILE_OR_TEXT", help="the VM configuration")
    parser.add_argument("--status", type=int, help="the upstream's response status (200)")
    parser.add_argument("--response-header", action="append", default=[],
                        metavar="NAME:VALUE", help="an upstream response header (repeatable)")
    parser.add_argument("--response-body", help="the upstream's response body")
    add_import_path_option(parser, "--import-path")
    return parser


def handle(args: argparse.Namespace) -> None:
    """Run the scenario and print the report; exit status 1 when the filter failed or refused."""
    overrides = run.Overrides(
        method=args.method, path=args.path,
        headers=[_pair(text, "--header") for text in args.header],
        body=_encoded(args.body), configuration=_file_or_text(args.config),
        vm_configuration=_file_or_text(args.vm_config), response_status=args.status,
        response_headers=[_pair(text, "--response-header") for text in args.response_header],
        response_body=_encoded(args.response_body))
    if run.run(args.filter, run.scenario_from(args.input, overrides), args.engine, print,
               args.import_paths):
        raise PywasmFilterError(f"{args.filter}: the filter failed or refused to start; "
                                "its log is above")


def _pair(text: str, option: str) -> tuple[str, str]:
    """NAME:VALUE (or :PSEUDO:VALUE) of a header option, stripped."""
    name, separator, value = text.partition(":")
    if name == "" and separator:
        pseudo, separator, value = value.partition(":")
        name = ":" + pseudo
    if not separator or not name:
        raise PywasmFilterError(f"error: {option} {text!r} is not NAME:VALUE\n"
                                f"  fix: write it like {option} x-user:alice")
    return name.strip(), value.strip()


def _encoded(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def _file_or_text(value: str | None) -> bytes | None:
    """The contents of the file `value` names, or else the text itself."""
    if value is None:
        return None
    path = Path(value)
    return path.read_bytes() if path.is_file() else value.encode()
