"""`pywasm-filter pull`: the module of an image in an OCI registry, written to a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import oci
from . import Subcommands
from .push import PLAIN_HTTP_HELP


def add_parser(commands: Subcommands) -> argparse.ArgumentParser:
    """`pull REFERENCE -o OUTPUT [--plain-http]`."""
    parser = commands.add_parser("pull", help="pull a .wasm module from an OCI registry")
    parser.add_argument("reference", help="REGISTRY/REPOSITORY:TAG or ...@sha256:DIGEST")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="where to write the module")
    parser.add_argument("--plain-http", action="store_true", help=PLAIN_HTTP_HELP)
    return parser


def handle(args: argparse.Namespace) -> None:
    """Pull, then print the layout found and the digests."""
    result = oci.pull(args.reference, args.output, plain_http=args.plain_http or None)
    print(f"wrote {args.output} ({result.variant} variant)")
    print(f"manifest digest: {result.manifest_digest}")
    print(f"module sha256:   {result.module_sha256}")
