"""``proxywasm.testing`` is for development only: builds leave it out of every module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.build import _stage_sdk, build
from pywasm_filter.errors import FilterSourceError
from pywasm_filter.wasm import packed
from tests.conftest import EXAMPLES


def test_staged_sdk_has_no_testing_package(tmp_path: Path) -> None:
    _stage_sdk(tmp_path)
    staged = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*")}
    assert "proxywasm/_dispatch.py" in staged
    assert not any(path.startswith("proxywasm/testing") for path in staged)


def test_built_module_contains_no_emulator_code(built: Callable[[Path], Path]) -> None:
    module = packed.memory_image(
        built(EXAMPLES / "http_headers" / "http_headers.py").read_bytes())
    assert b"proxywasm/_dispatch.py" in module
    assert b"proxywasm/testing" not in module
    assert b"EmulatedHostModule" not in module


def test_filter_importing_the_emulator_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "uses_testing.py"
    source.write_text("import proxywasm\nfrom proxywasm.testing import Host\n")
    with pytest.raises(FilterSourceError) as refused:
        build(source, tmp_path / "out.wasm")
    assert str(refused.value).startswith(
        f"{source}:2: error: 'proxywasm.testing' is for tests on your machine")
    assert not (tmp_path / "out.wasm").exists()
