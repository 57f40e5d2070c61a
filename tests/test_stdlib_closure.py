"""Which optional C modules a build links: those its imports reach when they are imported."""

from __future__ import annotations

from pathlib import Path

import pytest

import proxywasm
from pywasm_filter.stdlib_closure import optional_modules
from pywasm_filter.toolchain import ensure_cpython


@pytest.fixture(scope="module")
def roots() -> list[Path]:
    return [ensure_cpython().stdlib, Path(proxywasm.__file__).parent.parent]


def test_a_header_filter_links_no_optional_c_module(roots: list[Path]) -> None:
    assert optional_modules(["proxywasm"], roots) == set()


def test_json_links_its_c_accelerator_and_the_regex_engine(roots: list[Path]) -> None:
    assert {"_json", "_sre"} <= optional_modules(["json"], roots)


def test_hashlib_links_the_hash_modules_it_loads_while_imported(roots: list[Path]) -> None:
    assert {"_md5", "_sha1", "_sha256", "_sha512", "_blake2", "_sha3"} <= optional_modules(
        ["hashlib"], roots)


def test_decimal_links_the_c_decimal_module(roots: list[Path]) -> None:
    assert "_decimal" in optional_modules(["decimal"], roots)


def test_a_submodule_import_reaches_its_package_imports(roots: list[Path]) -> None:
    assert "pyexpat" in optional_modules(["xml.parsers.expat"], roots)


def test_imports_inside_functions_are_not_followed(tmp_path: Path, roots: list[Path]) -> None:
    (tmp_path / "lazy.py").write_text("def later():\n    import unicodedata\n")
    assert optional_modules(["lazy"], [tmp_path, *roots]) == set()
