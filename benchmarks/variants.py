"""The filter variants under test, built from the files in benchmarks/filters/.

All of them do the same work per request: read ``:path`` from the request headers and set one
response header (``x-bench``); each Wasm one logs once when its VM starts, which times the
plugin load. The peers (``lua``, ``ext_proc``) are Envoy's own filters, see peers.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pywasm_filter.build import build
from pywasm_filter.wasm import binary

from .setup_tools import (
    ASSEMBLYSCRIPT_DIR,
    SetupError,
    ensure_assemblyscript,
    ensure_ext_proc_python,
)

FILTERS = Path(__file__).parent / "filters"
NAMES = ("none", "c_floor", "python", "assemblyscript", "lua", "ext_proc")
VM_STARTED = "bench vm started"


@dataclass(frozen=True)
class Variant:
    """One configuration of Envoy: no filter, one Wasm module or one peer doing the header work.

    ``peer`` names a non-Wasm filter made by peers.py: "lua" or "ext_proc";
    ``release_memory`` False leaves out the bootstrap's memory_allocator_manager, ``inline_code``
    puts the module's bytes into the configuration instead of its file name (to measure them).
    """

    name: str
    module: Path | None
    peer: str | None = None
    release_memory: bool = True
    inline_code: bool = False

    @property
    def filtered(self) -> bool:
        """Whether a filter does the header work (every variant but "none")."""
        return self.module is not None or self.peer is not None

    def sizes(self) -> dict[str, int]:
        """File, code section and data section sizes of the module (empty without one)."""
        if self.module is None:
            return {}
        data = self.module.read_bytes()
        return {"file_bytes": len(data), "code_bytes": binary.code_size(data),
                "data_bytes": binary.data_size(data)}


def build_c_floor(out: Path) -> Path:
    output = out / "c_floor.wasm"
    subprocess.run(
        [sys.executable, "-m", "ziglang", "cc", "-target", "wasm32-wasi", "-mexec-model=reactor",
         "-O2", "-g0", "-s", str(FILTERS / "floor.c"), "-o", str(output)],
        check=True,
    )
    return output


def _build_assemblyscript(out: Path) -> Path | None:
    compiler = ensure_assemblyscript()
    node = shutil.which("node")
    if compiler is None or node is None:
        return None
    output = out / "assemblyscript.wasm"
    result = subprocess.run(
        [node, str(compiler), "assembly/index.ts", "-b", str(output),
         "--use", "abort=abort_proc_exit", "--optimize"],
        cwd=ASSEMBLYSCRIPT_DIR, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        print(f"assemblyscript: asc failed, variant skipped:\n{result.stderr}", file=sys.stderr)
        return None
    return output


def build_variants(out: Path) -> tuple[list[Variant], list[str]]:
    """Build every variant into ``out``; returns the variants and notes on any that were skipped."""
    out.mkdir(parents=True, exist_ok=True)
    variants = [Variant("none", None), Variant("c_floor", build_c_floor(out))]
    python = build(FILTERS / "python_filter.py", out / "python.wasm")
    variants.append(Variant("python", python.output))
    notes: list[str] = []
    assemblyscript = _build_assemblyscript(out)
    if assemblyscript is None:
        notes.append("assemblyscript: not built (needs node and npm, or asc failed)")
    else:
        variants.append(Variant("assemblyscript", assemblyscript))
    variants.append(Variant("lua", None, peer="lua"))
    try:
        ensure_ext_proc_python()
    except SetupError as error:
        notes.append(f"ext_proc: not run ({str(error).splitlines()[0]})")
    else:
        variants.append(Variant("ext_proc", None, peer="ext_proc"))
    return variants, notes
