"""Prints the developer-loop figures: build, push/pull per image layout, serve --watch restart.

Run from the repository root: `.venv/bin/python benchmarks/dev_loop.py` (needs Debian's
docker-registry: scripts/install-system-packages.sh).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pywasm_filter import oci
from pywasm_filter.build import build
from tests.registry import Registry

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "http_headers" / "http_headers.py"


def _header(url: str, name: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            value: str | None = response.headers[name]
            return value
    except (urllib.error.URLError, OSError):
        return None


def _watch_restart_seconds(workdir: Path) -> float:
    """Seconds from saving an edit to the first response that shows it."""
    source = workdir / "stamp.py"
    source.write_text(EXAMPLE.read_text())
    process = subprocess.Popen(
        [sys.executable, "-c", "from pywasm_filter.cli import main; raise SystemExit(main())",
         "serve", str(source), "--watch"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            found = re.search(r"Envoy is serving \S+ at (http://\S+)", line)
            if found:
                url = found[1]
                break
        source.write_text(source.read_text().replace('"pywasm-filter"', '"edited"'))
        saved = time.monotonic()
        while _header(url + "/", "x-powered-by") != "edited":
            time.sleep(0.05)
        return time.monotonic() - saved
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    """Measure and print."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        module = build(EXAMPLE, workdir / "example.wasm").output
        print(f"build (warm cache): {time.monotonic() - started:.2f} s, "
              f"module {module.stat().st_size / 1e6:.2f} MB")
        with Registry(workdir / "registry") as registry:
            for variant in oci.VARIANTS:
                reference = f"{registry.host}/bench/example:{variant}"
                started = time.monotonic()
                oci.push(module, reference, variant)
                pushed = time.monotonic() - started
                started = time.monotonic()
                oci.pull(reference, workdir / f"{variant}.wasm")
                pulled = time.monotonic() - started
                _, _, manifest, _ = oci.fetch_manifest(oci.parse_reference(reference,
                                                                           need_tag=True))
                size = sum(layer["size"] for layer in manifest["layers"])
                print(f"{variant}: push {pushed:.2f} s, pull {pulled:.2f} s, "
                      f"layers {size / 1e6:.2f} MB")
        print(f"serve --watch, save to new behaviour: {_watch_restart_seconds(workdir):.1f} s")


if __name__ == "__main__":
    main()
