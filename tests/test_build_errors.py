"""A bad filter gets an error naming its file and line, and no output file is left."""

from __future__ import annotations

from pathlib import Path

import pytest

from pywasm_filter.build import build
from pywasm_filter.errors import FilterError


def _write(tmp_path: Path, source: str, name: str = "bad_filter.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def _build_fails(tmp_path: Path, source: str) -> FilterError:
    filter_path = _write(tmp_path, source)
    output = tmp_path / "out.wasm"
    with pytest.raises(FilterError) as failure:
        build(filter_path, output)
    assert not output.exists()
    assert not list(tmp_path.glob(".out.wasm*"))
    assert failure.value.file == str(filter_path)
    return failure.value


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\ndef broken(:\n    pass\n")
    assert error.line == 3
    assert "syntax error" in error.message


def test_missing_module_names_the_import_line(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\n\ndef f():\n    import no_such_mod\n")
    assert error.line == 5
    assert "'no_such_mod' was not found" in error.message


def test_c_extension_missing_from_the_runtime_is_named(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\nimport _sqlite3\n")
    assert error.line == 2
    assert "C extension" in error.message


def test_stdlib_module_needing_a_missing_c_extension_is_reported(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\nimport socket\n")
    assert error.line == 3
    assert "_socket" in error.message


def test_filter_without_a_context_is_refused(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\nX = 1\n")
    assert "registers no context" in error.message
    assert "set_root_context" in error.fix


def test_exception_at_import_names_the_line(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\n\nraise KeyError('setting')\n")
    assert error.line == 4
    assert "KeyError" in error.message


def test_host_call_at_import_time_names_the_line(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\nproxywasm.log_info('too early')\n")
    assert error.line == 3
    assert "build time" in error.message
