"""How deep Python may recurse in the built module: measured in the snapshot, then capped.

CPython counts recursion (Python frames and C-level re-entries), not stack bytes, and a count
that is safe natively overflows the WebAssembly stacks: the engine's own stack (V8's is about
1 MB) and the module's shadow stack in linear memory (1 MiB, runtime link flags). After the
snapshot is taken, each probe below recurses without end through a different C path; the
count reached when the stack overflowed (a trap, which the snapshotter catches) is read from
CPython's thread state. The module's recursion limit is capped below the smallest of them, and
``sys.setrecursionlimit`` cannot raise it past that (runtime/limits.c).

The probes run in wasmtime with a 512 KiB stack. Measured against Envoy 1.40's V8 (2026-12,
this project's runtime), every probe went 1.5 to 2.8 times deeper in V8, so the cap holds there
with room to spare, and in the emulator's wasmtime (the same 512 KiB default).
"""

from __future__ import annotations

from collections.abc import Iterable

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
