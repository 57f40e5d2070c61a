"""`pywasm-filter push`: a built module pushed to an OCI registry as an image Istio fetches."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import oci
from . import Subcommands

# The --plain-http option of push and pull.
PLAIN_HTTP_HELP = "speak plain HTTP to the registry (automatic for localhost and 127.0.0.1)"


def add_parser(commands: Subcommands) -> argparse.ArgumentParser:
    """`push MODULE REFERENCE [--variant V] [--root-id ID]... [--plain-http]`."""
    parser = commands.add_parser("push", help="push a .wasm module to an OCI registry")
    parser.add_argument("module", type=Path, help="the .wasm module to push")
    parser.add_argument("reference", help="REGISTRY/REPOSITORY:TAG")
    parser.add_argument("--variant", default="compat", choices=oci.VARIANTS,
                        help="image layout: compat (tar+gzip layer, default) or oci")
    parser.add_argument("--root-id", action="append", default=[],
                        help="root id recorded in the oci variant's config (repeatable)")
    parser.add_argument("--plain-http", action="store_true", help=PLAIN_HTTP_HELP)
    return parser


def handle(args: argparse.Namespace) -> None:
    """Push, then print the digests and how an Istio WasmPlugin pins this image."""
    result = oci.push(args.module, args.reference, args.variant, root_ids=args.root_id,
                      plain_http=args.plain_http or None)
    print(f"pushed {result.reference} ({result.variant} variant)")
    print(f"manifest digest: {result.manifest_digest}")
    print(f"module sha256:   {result.module_sha256}")
    print(f"Istio WasmPlugin: url oci://{result.reference} pins sha256 "
          f"{result.manifest_digest.removeprefix('sha256:')} (the manifest's; a file:// or "
          "https:// url pins the module's)")
