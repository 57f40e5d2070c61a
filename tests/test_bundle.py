"""Locating a filter and checking its imports on the host, before any wasm runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pywasm_filter.bundle import locate, scan_imports
from pywasm_filter.errors import FilterSourceError
from pywasm_filter.toolchain import ensure_cpython


@pytest.fixture(scope="module")
def stdlib() -> Path:
    return ensure_cpython().stdlib


def test_single_file_filter_is_imported_by_its_stem(tmp_path: Path) -> None:
    path = tmp_path / "my_filter.py"
    path.write_text("import proxywasm\n")
    source = locate(path)
    assert (source.module, source.search_root, source.user_root) == ("my_filter", tmp_path,
                                                                     tmp_path)


def test_package_directory_is_imported_as_a_package(tmp_path: Path) -> None:
    package = tmp_path / "pkg_filter"
    package.mkdir()
    (package / "__init__.py").write_text("from . import helpers\n")
    (package / "helpers.py").write_text("import json\n")
    source = locate(package)
    assert source.module == "pkg_filter"
    assert source.user_root == package


def test_directory_without_init_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FilterSourceError, match="not a Python package"):
        locate(tmp_path)


def test_non_python_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "filter.txt"
    path.write_text("")
    with pytest.raises(FilterSourceError, match=r"\.py file"):
        locate(path)


def test_function_level_and_sibling_imports_are_collected(tmp_path: Path, stdlib: Path) -> None:
    (tmp_path / "helper.py").write_text("import base64\n")
    path = tmp_path / "main_filter.py"
    path.write_text("import proxywasm\nimport helper\n\ndef f():\n    import json\n")
    modules = scan_imports(locate(path), stdlib)
    assert modules == ["proxywasm", "helper", "base64", "json"]


def test_relative_imports_in_a_package_resolve(tmp_path: Path, stdlib: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from . import helpers\n")
    (package / "helpers.py").write_text("import hashlib\n")
    modules = scan_imports(locate(package), stdlib)
    assert "pkg" in modules and "hashlib" in modules


def test_guarded_imports_are_left_to_the_filter(tmp_path: Path, stdlib: Path) -> None:
    path = tmp_path / "guarded.py"
    path.write_text(
        "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
        "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    import typing_extensions\n"
    )
    assert scan_imports(locate(path), stdlib) == []
