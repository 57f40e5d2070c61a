"""The build-time entry point, run in a fresh interpreter as the snapshotter would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from proxywasm._bootstrap import MARKER

SDK = Path(__file__).resolve().parent.parent / "sdk"

RUNNER = """
import sys
from proxywasm import _bootstrap
try:
    _bootstrap.initialize(sys.argv[1])
except _bootstrap.BuildError:
    sys.exit(3)
import gc
print("frozen", gc.get_freeze_count() > 0)
try:
    import not_bundled_module
except ModuleNotFoundError as error:
    print(error)
"""

GOOD = """
import proxywasm
proxywasm.set_http_context(proxywasm.HttpContext)
"""


def build(tmp_path: Path, source: str, *extra: str) -> tuple[int, dict[str, object] | None, str]:
    """Run ``initialize`` on ``source`` as module ``user_filter``; return rc, report, stdout."""
    (tmp_path / "user_filter.py").write_text(source)
    spec = "\n".join([f"path={tmp_path}", "main=user_filter", f"user_root={tmp_path}", *extra])
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = [{str(SDK)!r}, {str(tmp_path)!r}]\n{RUNNER}",
            spec,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    reports = [line for line in result.stderr.splitlines() if line.startswith(MARKER)]
    assert len(reports) <= 1, result.stderr
    report = json.loads(reports[0][len(MARKER) :]) if reports else None
    return result.returncode, report, result.stdout


def test_success_freezes_the_heap_and_blocks_later_imports(tmp_path: Path) -> None:
    rc, report, out = build(tmp_path, GOOD, "import=json")
    assert (rc, report) == (0, None)
    assert "frozen True" in out
    assert (
        "module not_bundled_module was not imported when the filter was built; import it at "
        "module level in your filter so it is bundled"
    ) in out


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    rc, report, _ = build(tmp_path, "import proxywasm\n\ndef broken(:\n    pass\n")
    assert rc == 3 and report is not None
    assert report["kind"] == "syntax"
    assert report["file"] == str(tmp_path / "user_filter.py")
    assert report["line"] == 3
    assert report["module"] is None


def test_import_error_names_the_missing_module(tmp_path: Path) -> None:
    rc, report, _ = build(tmp_path, "import proxywasm\nimport requestz_missing\n")
    assert rc == 3
    assert report == {
        "kind": "import",
        "file": str(tmp_path / "user_filter.py"),
        "line": 2,
        "message": "No module named 'requestz_missing'",
        "module": "requestz_missing",
        "importing": "user_filter",
    }


def test_missing_context_is_reported(tmp_path: Path) -> None:
    rc, report, _ = build(tmp_path, "import proxywasm\n")
    assert rc == 3 and report is not None
    file = str(tmp_path / "user_filter.py")
    assert report["kind"] == "no_context" and report["file"] == file
    assert report["message"] == (
        f"{file} registers no context: call proxywasm.set_root_context(...) or "
        "proxywasm.set_http_context(...) at module level"
    )


def test_exception_points_at_the_innermost_user_frame(tmp_path: Path) -> None:
    source = "import proxywasm\n\ndef load():\n    return {}['key']\n\nCONFIG = load()\n"
    rc, report, _ = build(tmp_path, source)
    assert rc == 3 and report is not None
    assert (report["kind"], report["line"]) == ("exception", 4)
    assert report["message"] == "KeyError: 'key'"


def test_exception_inside_the_sdk_points_at_the_user_call(tmp_path: Path) -> None:
    rc, report, _ = build(tmp_path, "import proxywasm\n\nproxywasm.set_root_context(42)\n")
    assert rc == 3 and report is not None
    assert (report["kind"], report["line"]) == ("exception", 3)
    assert "set_root_context() needs a class or function" in str(report["message"])


def test_extra_import_failure_is_an_import_error(tmp_path: Path) -> None:
    rc, report, _ = build(tmp_path, GOOD, "import=no_such_stdlib_module")
    assert rc == 3 and report is not None
    assert report["kind"] == "import" and report["module"] == "no_such_stdlib_module"
    assert report["importing"] == "no_such_stdlib_module"
