"""The `pywasm-filter` subcommands, one module each, all shaped as ``Command``.

A command module adds its parser to the CLI's subcommands and handles the parsed arguments by
calling the library (build, oci, deploy, run, ...); it holds the option parsing and the printing,
the library holds none. `pywasm_filter.cli` assembles the modules and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Protocol, TypeAlias

# What `ArgumentParser.add_subparsers` returns (not subscriptable at run time, hence the string).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class Command(Protocol):
    """What every module of this package provides (the module itself is the command)."""

    def add_parser(self, commands: Subcommands) -> argparse.ArgumentParser:
        """Add this command's parser (name, help, options) to the CLI's subcommands."""
        ...

    def handle(self, args: argparse.Namespace) -> None:
        """Run the command; raise PywasmFilterError with the user's fix when it fails."""
        ...


def add_import_path_option(parser: argparse.ArgumentParser, *flags: str) -> None:
    """The option of every command that builds: more directories holding the filter's
    third-party packages (``packages.Packages.from_environment``), as ``import_paths``."""
    parser.add_argument(*flags, dest="import_paths", action="append", type=Path, default=[],
                        metavar="DIR",
                        help="look for the filter's third-party packages in DIR first "
                             "(repeatable), then where this Python finds them (its "
                             "site-packages, PYTHONPATH)")
