"""The docs show what the code does: the API reference, the generated nginx.conf."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pywasm_filter.cli import main
from tests.conftest import EXAMPLES, ROOT


def test_api_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("generate_api", ROOT / "docs" / "generate_api.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    current = Path(generator.API_PATH).read_text()
    assert current == generator.render(), "run: python docs/generate_api.py"


def test_wasmx_page_shows_what_deploy_wasmx_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "shared_counter.wasm"
    module.write_bytes(b"\0asm\x01\0\0\0")
    monkeypatch.chdir(EXAMPLES / "shared_counter")
    assert main(["deploy", "wasmx", str(module), "--filter", "shared_counter.py",
                 "--module-path", "/srv/filters/shared_counter.wasm"]) == 0
    page = (ROOT / "docs" / "wasmx.md").read_text()
    assert f"```nginx\n{capsys.readouterr().out}```" in page
