"""`pywasm-filter build`: a Python filter compiled to a .wasm module, and what it is made of."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import abi, linking, size_report
from ..build import DEFAULT_CALLBACK_BUDGET, BuildResult, build
from ..errors import PywasmFilterError
from . import Subcommands, add_import_path_option


def add_parser(commands: Subcommands) -> argparse.ArgumentParser:
    """`build FILTER [-o OUT] [--report] [--hosts H] [--size-report] [--callback-budget N]
    [--path DIR]`."""
    parser = commands.add_parser("build", help="compile a Python filter to a .wasm module")
    parser.add_argument("filter", type=Path, help="the filter .py file or package directory")
    parser.add_argument("-o", "--output", type=Path, help="output .wasm (default: ./NAME.wasm)")
    parser.add_argument("--report", action="store_true",
                        help="list what each proxy lacks that the filter uses")
    parser.add_argument("--hosts", metavar="HOSTS",
                        help="proxies the module must run in, e.g. envoy,wasmx (a host that "
                             "cannot run the filter is an error; default: every host that can "
                             "run it)")
    parser.add_argument("--size-report", action="store_true",
                        help="also say what the module's size is made of, import by import "
                             "(builds one more module per import)")
    parser.add_argument("--callback-budget", type=int, metavar="N",
                        default=DEFAULT_CALLBACK_BUDGET,
                        help="loop iterations and Python calls one callback may run before it "
                             "raises proxywasm.CallbackTimeout "
                             f"(default {DEFAULT_CALLBACK_BUDGET:,}; 0: no limit)")
    add_import_path_option(parser, "--path", "--import-path")
    return parser


def handle(args: argparse.Namespace) -> None:
    """Build, print the sizes, then the size report (if asked) and the hosts' support."""
    try:
        hosts = abi.parse_hosts(args.hosts) if args.hosts else None
    except ValueError as error:
        raise PywasmFilterError(f"--hosts: {error}") from None
    result = build(args.filter, args.output or default_output(args.filter), hosts,
                   callback_budget=args.callback_budget, paths=args.import_paths)
    report(result)
    if args.size_report:
        print(size_report.report(args.filter, result, args.import_paths))
    print(linking.report(result.plan) if args.report else linking.summary(result.plan))


def default_output(filter_path: Path) -> Path:
    """./NAME.wasm for a filter NAME.py or a package directory NAME."""
    stem = filter_path.resolve().name.removesuffix(".py")
    return Path(f"{stem}.wasm")


def report(result: BuildResult) -> None:
    """The line every build prints: where the module went, its sizes and the time taken."""
    print(
        f"wrote {result.output} ({_size(result.file_bytes)}: code {_size(result.code_bytes)}, "
        f"data {_size(result.data_bytes)}) in {result.seconds:.1f} s"
    )
    if result.packages:
        print("packages: " + ", ".join(result.packages))
    for note in result.notes:
        print(note)


def _size(count: int) -> str:
    return f"{count / 1_000_000:.2f} MB" if count >= 100_000 else f"{count / 1000:.1f} KB"
