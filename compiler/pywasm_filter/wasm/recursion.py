"""How deep Python may recurse in the built module: measured in the snapshot, then capped.

CPython counts recursion (Python frames and C-level re-entries), not stack bytes, and a count
that is safe natively overflows the WebAssembly stacks: the engine's own stack (V8's is about
1 MB) and the module's shadow stack in linear memory (1 MiB, runtime link flags). After the
snapshot is taken, each probe below recurses without end through a different C path; the
count reached when the stack overflowed (a trap, which the snapshotter catches) is read from
CPython's thread state. The module's recursion limit is capped below the smallest of them, and
``sys.setrecursionlimit`` cannot raise it past that (runtime/limits.c).

The cap depends on the runtime's code only, so it is measured once per cached runtime, in a
child process (``cached_cap``): a probe ends in a stack-overflow trap, and wasmtime-py was seen
to abort at interpreter exit (a panic in a tokio worker thread) in processes where such traps
had happened; the child leaves with ``os._exit`` right after printing the cap.

The probes run in wasmtime with a 512 KiB stack. Measured against Envoy 1.40's V8 (2026-12,
this project's runtime), every probe went 1.5 to 2.8 times deeper in V8, so the cap holds there
with room to spare, and in the emulator's wasmtime (the same 512 KiB default).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

PROBE_STACK_BYTES = 512 * 1024
# The recursion limit a probe runs with: far beyond any stack.
PROBE_LIMIT = 1 << 30
# The cap keeps this share of the shallowest probe, for the frames below a callback's code.
MARGIN = 0.9

# Unbounded recursion through C paths that filters reach: a __repr__ calling repr, a key
# function of sorted (its merge state sits on the shadow stack), map inside list, __getattr__,
# __init__ creating an instance, __hash__.
PROBES = {
    "repr": "class R:\n    def __repr__(self):\n        return repr(R())\nrepr(R())\n",
    "sorted": "def f(x):\n    return sorted((x,), key=f)\nf(0)\n",
    "map": "def f(x):\n    return list(map(f, (x,)))\nf(0)\n",
    "getattr": "class A:\n    def __getattr__(self, name):\n        return getattr(self, name)\n"
               "A().x\n",
    "init": "class C:\n    def __init__(self):\n        C()\nC()\n",
    "hash": "class H:\n    def __hash__(self):\n        return hash(H())\nhash(H())\n",
}


def safe_limit(depths: Iterable[int]) -> int:
    """The recursion cap for the counts the probes reached when their stack overflowed."""
    return int(min(depths) * MARGIN)


CAP_FILE = "recursion-cap"


def cached_cap(base: Path, init_argument: bytes, preopens: Sequence[tuple[Path, str]]) -> int:
    """The recursion cap of the runtime ``base``, measured in a child process on first use.

    The child initializes ``base`` with ``init_argument`` and ``preopens`` (any filter's build
    inputs do) and runs the probes; the cap is kept beside ``base`` in the runtime cache.
    """
    cache = base.parent / CAP_FILE
    if cache.exists():
        return int(cache.read_text())
    with tempfile.NamedTemporaryFile(suffix=".spec") as spec:
        spec.write(init_argument)
        spec.flush()
        pairs = [f"{host}={guest}" for host, guest in preopens]
        child = subprocess.run(
            [sys.executable, "-m", __name__, str(base), spec.name, *pairs],
            capture_output=True, text=True, check=False)
    lines = child.stdout.split()
    if child.returncode != 0 or not lines or not lines[-1].isdigit():
        from .snapshot import SnapshotError

        raise SnapshotError("initializing the runtime to measure how deep Python may recurse "
                            "failed", child.stdout + child.stderr)
    cache.with_suffix(".partial").write_text(lines[-1])
    cache.with_suffix(".partial").rename(cache)
    return int(lines[-1])


def _main(arguments: list[str]) -> None:
    """Child process of ``cached_cap``: BASE SPEC [HOST=GUEST ...] -> prints the cap."""
    from .snapshot import SnapshotError, measure_recursion_cap

    base, spec, *pairs = arguments
    preopens = [(Path(host), guest) for host, guest in (pair.split("=", 1) for pair in pairs)]
    try:
        cap = measure_recursion_cap(Path(base).read_bytes(), Path(spec).read_bytes(), preopens)
    except SnapshotError as error:
        # The module's output first: the build reads the filter's failure report from it.
        print(error.output, error, sep="\n", flush=True)
        os._exit(1)
    print(cap, flush=True)
    os._exit(0)


if __name__ == "__main__":
    _main(sys.argv[1:])
