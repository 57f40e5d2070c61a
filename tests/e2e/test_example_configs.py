"""Every example's envoy.yaml is a configuration that Envoy 1.40 accepts with its module."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.envoy import envoy_binary
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.envoy

CONFIGS = sorted(EXAMPLES.glob("*/envoy.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.parent.name)
def test_example_config_validates(
    config: Path, built: Callable[[Path], Path], tmp_path: Path
) -> None:
    modules = re.findall(r"filename: (\w+)\.wasm", config.read_text())
    assert modules, f"{config} loads no module"
    for name in modules:
        shutil.copy(built(config.parent / f"{name}.py"), tmp_path / f"{name}.wasm")
    shutil.copy(config, tmp_path / "envoy.yaml")
    result = subprocess.run(
        [str(envoy_binary()), "--mode", "validate", "-c", "envoy.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert "configuration 'envoy.yaml' OK" in result.stdout + result.stderr, result.stderr[-2000:]
