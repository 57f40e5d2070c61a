"""Where Envoy's memory goes: ``benchmarks/envoy_memory.py [--starts N] [--settle S] [A.wasm ...]``.

For no filter, the C floor filter and each module (default: examples/http_headers, built), at
concurrency 1 and 2 (others with ``--concurrency 1,2,8``), with and without the bootstrap's
memory_allocator_manager (the setting `pywasm-filter deploy envoy` writes): VmRSS, split by
/proc/<pid>/smaps into file-backed pages (Envoy's binary), tcmalloc's heap (its parts from the
admin /memory endpoint), V8's compiled code (the executable anonymous mappings), the VMs' linear
memories (anonymous mappings the size of the module's memory) and the rest of the anonymous
memory (V8's heaps, stacks; tcmalloc's figure counts some metadata that is not resident, so this
rest can come out a few MiB below zero). Read twice: 0.5 s after the first 200 and ``--settle``
seconds after the start (tcmalloc hands back free pages of partly used huge pages only after
about a minute). One round starts every configuration, one after the other, and keeps them all
running until the late reading; medians over ``--starts`` rounds. Also Envoy's CPU time while
idle between the two readings (the release thread's cost). With ``--inline``, each module also
given inline in the configuration instead of as a file (NAME-inline).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from pywasm_filter.build import build
from pywasm_filter.wasm import binary

from .proxy import PinnedEnvoy
from .variants import Variant, build_c_floor

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "http_headers" / "http_headers.py"
MIB = 1024 * 1024
_MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")
# admin /memory fields, in MiB under these names
_TCMALLOC = {"allocated": "tcmalloc allocated", "pageheap_free": "tcmalloc pageheap_free",
             "total_thread_cache": "tcmalloc thread caches",
             "pageheap_unmapped": "tcmalloc returned (unmapped)"}


def linear_memory_kib(module: Path | None) -> int | None:
    """The size in KiB of the module's memory at instantiation (None without a module)."""
    if module is None:
        return None
    section = binary.find_section(binary.parse_module(module.read_bytes()),
                                  binary.SectionId.MEMORY)
    if section is None:
        return None
    return binary.decode_memories(section.payload)[0].minimum * 64


def smaps_parts(text: str, memory_kib: int | None) -> dict[str, float]:
    """Resident MiB of /proc/<pid>/smaps ``text`` by kind: file-backed, anonymous executable
    (V8's code), linear memories (anonymous mappings of ``memory_kib``) and all anonymous."""
    parts = {"file-backed": 0, "anonymous": 0, "V8 code (rwx)": 0, "linear memories": 0}
    kind = ""
    for line in text.splitlines():
        mapping = _MAPPING.match(line)
        if mapping is not None:
            start, end, permissions, name = mapping.groups()
            size_kib = (int(end, 16) - int(start, 16)) // 1024
            if name.startswith("/"):
                kind = "file-backed"
            elif "x" in permissions:
                kind = "V8 code (rwx)"
            elif size_kib == memory_kib and permissions.startswith("rw"):
                kind = "linear memories"
            else:
                kind = "anonymous"
        elif line.startswith("Rss:"):
            kib = int(line.split()[1])
            parts[kind] += kib
            if kind != "file-backed" and kind != "anonymous":
                parts["anonymous"] += kib
    return {key: value / 1024 for key, value in parts.items()}


def reading(envoy: PinnedEnvoy, memory_kib: int | None) -> dict[str, float]:
    """VmRSS and its parts (MiB) for one running Envoy."""
    row = {"VmRSS": envoy.rss_mib()}
    row.update(smaps_parts(Path(f"/proc/{envoy.pid}/smaps").read_text(), memory_kib))
    memory = envoy.admin_json("/memory")
    physical = int(memory["total_physical_bytes"]) / MIB
    row["tcmalloc physical"] = physical
    row.update({name: int(memory[key]) / MIB for key, name in _TCMALLOC.items()})
    row["other anonymous"] = (row["anonymous"] - physical - row["V8 code (rwx)"]
                              - row["linear memories"])
    return row


def measure(variants: list[Variant], concurrencies: list[int], starts: int, settle: float,
            work: Path) -> dict[str, dict[str, list[float]]]:
    """Samples per configuration ("name cN") and figure, early and settled readings."""
    samples: dict[str, dict[str, list[float]]] = {}
    for _ in range(starts):
        with ExitStack() as stack:
            running = []
            for variant in variants:
                for concurrency in concurrencies:
                    envoy = stack.enter_context(PinnedEnvoy(variant, work, concurrency))
                    started = time.monotonic()
                    time.sleep(0.5)  # every worker's VM is created by now
                    key = f"{variant.name} c{concurrency}"
                    memory_kib = linear_memory_kib(variant.module)
                    for name, value in reading(envoy, memory_kib).items():
                        samples.setdefault(key, {}).setdefault(name, []).append(value)
                    running.append((key, envoy, started, memory_kib, envoy.cpu_seconds()))
            for key, envoy, started, memory_kib, cpu in running:
                time.sleep(max(0.0, started + settle - time.monotonic()))
                idle = (envoy.cpu_seconds() - cpu) / (time.monotonic() - started - 0.5)
                samples[key].setdefault("idle CPU until settled (ms/s)", []).append(idle * 1e3)
                for name, value in reading(envoy, memory_kib).items():
                    samples[key].setdefault(f"{name}, settled", []).append(value)
    return samples


def main(argv: list[str] | None = None) -> int:
    """Measure and print one column per configuration (medians, MiB)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", type=Path, help=".wasm files (default: "
                        "examples/http_headers built)")
    parser.add_argument("--concurrency", default="1,2",
                        help="Envoy --concurrency values, comma-separated (default 1,2)")
    parser.add_argument("--inline", action="store_true",
                        help="also each module given inline (vm_config.code.local.inline_bytes)")
    parser.add_argument("--starts", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--settle", type=float, default=75.0,
                        help="seconds from start to the late reading (default 75)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        modules: list[Path] = args.modules or [build(EXAMPLE, out / "http_headers.wasm").output]
        plain = [Variant("none", None), Variant("c_floor", build_c_floor(out)),
                 *(Variant(path.stem, path) for path in modules)]
        variants = [*plain, *(Variant(f"{variant.name}-keep", variant.module,
                                      release_memory=False) for variant in plain)]
        if args.inline:
            variants += [Variant(f"{path.stem}-inline", path, inline_code=True)
                         for path in modules]
        concurrencies = [int(value) for value in args.concurrency.split(",")]
        samples = measure(variants, concurrencies, args.starts, args.settle, out)
    print(f"medians of {args.starts} rounds, MiB; '-keep': without memory_allocator_manager; "
          f"'settled': {args.settle:.0f} s after the start")
    columns = list(samples)
    print("figure".ljust(36) + "".join(column.rjust(21) for column in columns))
    for figure in samples[columns[0]]:
        print(figure.ljust(36) + "".join(f"{statistics.median(samples[column][figure]):21.1f}"
                                         for column in columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
