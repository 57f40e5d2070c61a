"""The API reference in docs/ matches the SDK it documents."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import ROOT


def test_api_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("generate_api", ROOT / "docs" / "generate_api.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    current = Path(generator.API_PATH).read_text()
    assert current == generator.render(), "run: python docs/generate_api.py"
