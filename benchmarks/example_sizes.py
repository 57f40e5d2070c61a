"""Module size of every example, built with default options: ``benchmarks/example_sizes.py``.

Prints one row per filter source under ``examples/`` (file, code and data bytes, the
third-party packages bundled) and writes nothing else; builds go to a temporary directory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from pywasm_filter.build import build

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def main() -> None:
    """Build each example's filter sources and print their sizes, smallest first."""
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for source in sorted(EXAMPLES.glob("*/*.py")):
            result = build(source, Path(scratch) / f"{source.stem}.wasm")
            rows.append((result.file_bytes, result.code_bytes, result.data_bytes,
                         f"{source.parent.name}/{source.name}", ", ".join(result.packages)))
    print(f"{'example':<40} {'file':>11} {'code':>11} {'data':>11}  packages")
    for file_bytes, code, data, name, packages in sorted(rows):
        print(f"{name:<40} {file_bytes:>11,} {code:>11,} {data:>11,}  {packages}")


if __name__ == "__main__":
    main()
