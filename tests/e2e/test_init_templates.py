"""Every `init` template gives a project that builds and passes its own Envoy test at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pywasm_filter.cli import main
from pywasm_filter.scaffold import TEMPLATES

pytestmark = pytest.mark.envoy


@pytest.mark.parametrize("template", TEMPLATES)
def test_new_project_builds_and_passes_its_tests(
    template: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / f"my-{template}"
    assert main(["init", str(project), "--template", template]) == 0
    assert main(["build", str(project / "filter.py"), "-o", str(tmp_path / "f.wasm")]) == 0
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
