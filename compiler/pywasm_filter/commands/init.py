"""`pywasm-filter init`: a new filter project from a template."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import scaffold
from . import Subcommands


def add_parser(commands: Subcommands) -> argparse.ArgumentParser:
    """`init DIRECTORY [--template NAME]`."""
    parser = commands.add_parser("init", help="create a new filter project from a template")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--template", default=scaffold.DEFAULT_TEMPLATE,
                        help=f"one of {', '.join(scaffold.TEMPLATES)} "
                             f"(default {scaffold.DEFAULT_TEMPLATE})")
    return parser


def handle(args: argparse.Namespace) -> None:
    """Write the project's files and say what to do next."""
    for path in scaffold.create(args.directory, args.template):
        print(f"created {path}")
    print(f"next: cd {args.directory} && pywasm-filter serve filter.py --watch   "
          "(README.md has the tests and the deploy steps)")
