"""A VM's linear memory with N streams paused at once: ``benchmarks/streams.py [N ...]``.

Builds benchmarks/filters/pausing_filter.py, starts one VM against the minimal host of
fuel.py, creates N stream contexts whose request headers pause, and prints the VM's linear
memory size and the part of it that is not zero (pages a proxy must keep resident).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from wasmtime import Func, Memory, Store

from pywasm_filter.build import build

from .fuel import ROOT_ID, instantiate
from .variants import FILTERS

PAGE = 4096


def memory_figures(store: Store, memory: Memory) -> tuple[float, float]:
    """Linear memory size and its non-zero 4 KiB pages, in MiB."""
    data = bytes(memory.read(store, 0, memory.data_len(store)))
    touched = sum(1 for start in range(0, len(data), PAGE)
                  if data[start:start + PAGE].count(0) != PAGE)
    return len(data) / 2**20, touched * PAGE / 2**20


def paused_streams(module: Path, counts: list[int]) -> list[tuple[int, float, float]]:
    """(streams, memory MiB, non-zero MiB) after each count of concurrently paused streams."""
    store, exports = instantiate(module)
    memory, create, headers = (exports["memory"], exports["proxy_on_context_create"],
                               exports["proxy_on_request_headers"])
    assert isinstance(memory, Memory) and isinstance(create, Func) and isinstance(headers, Func)
    rows = [(0, *memory_figures(store, memory))]
    opened = 0
    for count in sorted(counts):
        while opened < count:
            stream = 1000 + opened
            create(store, stream, ROOT_ID)
            headers(store, stream, 5, 1)
            opened += 1
        rows.append((count, *memory_figures(store, memory)))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Build the pausing filter and print memory figures for each count of paused streams."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[1, 10, 100, 1000])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        module = build(FILTERS / "pausing_filter.py", Path(tmp) / "pausing.wasm").output
        print(f"{'paused streams':>15}{'memory MiB':>12}{'non-zero MiB':>14}")
        for count, size, touched in paused_streams(module, args.counts):
            print(f"{count:>15}{size:>12.2f}{touched:>14.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
