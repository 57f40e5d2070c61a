"""Installs what the benchmark needs beyond the Python packages: Debian's wrk and the npm SDK."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ASSEMBLYSCRIPT_DIR = Path(__file__).parent / "filters" / "assemblyscript"


class SetupError(RuntimeError):
    """A tool the benchmark needs could not be installed."""


def ensure_wrk() -> str:
    """Return the path of wrk, installing the Debian package (we are root) if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SetupError(f"{' '.join(command)} failed; install wrk by hand:\n{result.stderr}")
    found = shutil.which("wrk")
    if not found:
        raise SetupError("apt-get installed wrk but it is not on PATH")
    return found


def ensure_assemblyscript() -> Path | None:
    """Install the AssemblyScript SDK into benchmarks-local node_modules; None without npm."""
    compiler = ASSEMBLYSCRIPT_DIR / "node_modules" / "assemblyscript" / "bin" / "asc"
    if compiler.exists():
        return compiler
    npm = shutil.which("npm")
    if npm is None:
        return None
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent"],
        cwd=ASSEMBLYSCRIPT_DIR, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise SetupError(f"npm install in {ASSEMBLYSCRIPT_DIR} failed:\n{result.stderr}")
    return compiler
