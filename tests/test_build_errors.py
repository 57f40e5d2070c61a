"""A bad filter gets an error naming its file and line, and no output file is left."""

from __future__ import annotations

from pathlib import Path

import pytest

from pywasm_filter.build import build
from pywasm_filter.errors import FilterSourceError


def _write(tmp_path: Path, source: str, name: str = "bad_filter.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def _build_fails(tmp_path: Path, source: str) -> FilterSourceError:
    filter_path = _write(tmp_path, source)
    output = tmp_path / "out.wasm"
    with pytest.raises(FilterSourceError) as failure:
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
    assert error.message == ("'_sqlite3' is a C module of the standard library that the "
                             "pywasm-filter runtime does not include")
    assert "get_shared_data" in error.fix


def test_stdlib_module_needing_a_missing_c_extension_is_reported(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\nimport socket\n")
    assert error.line == 3
    assert error.message == ("'socket' is a standard library module, but it needs the C module "
                             "'_socket', which the pywasm-filter runtime does not include")
    assert "self.http_call" in error.fix


def test_stdlib_import_inside_a_function_keeps_its_line(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\n\ndef f():\n    import ctypes\n")
    assert error.line == 5
    assert "needs the C module '_ctypes'" in error.message
    assert "foreign functions" in error.fix


def test_missing_name_in_an_sdk_module_is_named_with_a_suggestion(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\nfrom proxywasm.types import Actoin\n")
    assert error.line == 2
    assert error.message == "'Actoin' is not in 'proxywasm.types': did you mean 'Action'?"


def test_filter_without_a_context_is_refused(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\nX = 1\n")
    assert "registers no context" in error.message
    assert "set_root_context" in error.fix


def test_exception_at_import_shows_its_traceback_and_no_host_call_hint(tmp_path: Path) -> None:
    source = "import proxywasm\n\n\ndef load():\n    return {}['setting']\n\n\nload()\n"
    error = _build_fails(tmp_path, source)
    path = tmp_path / "bad_filter.py"
    assert error.line == 5
    assert error.message.startswith("KeyError: 'setting'\n")
    assert f"{path}:8 in <module>\n    {path}:5 in load" in error.message
    assert "host call" not in error.fix


def test_host_call_at_import_time_names_the_line(tmp_path: Path) -> None:
    error = _build_fails(tmp_path, "import proxywasm\n\nproxywasm.log_info('too early')\n")
    assert error.line == 3
    assert "build time" in error.message
    assert "move host calls into on_vm_start" in error.fix
