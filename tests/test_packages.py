"""Third-party packages: `build` bundles pure-Python ones from sys.path and --path, refuses an
unguarded C extension, takes a guarded one's fallback, and keeps a module that needs a C module
the runtime lacks as a placeholder; the size report lists each package."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxywasm.testing import FilterError, Host
from pywasm_filter import size_report, stdlib_closure
from pywasm_filter.build import build
from pywasm_filter.bundle import import_sites, locate
from pywasm_filter.cli import main
from pywasm_filter.errors import FilterSourceError, PywasmFilterError
from pywasm_filter.packages import Packages
from pywasm_filter.toolchain import ensure_cpython

FAKE_EXTENSION = "_speedups.cpython-311-x86_64-linux-gnu.so"
FILTER = """\
import proxywasm
from proxywasm import Action, HttpContext
import greeting


class Greet(HttpContext):
    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.get_http_request_header(":path") == "/net":
            greeting.Client()
        self.set_http_request_header("x-greeting", greeting.greet("alice"))
        self.set_http_request_header("x-speedups", str(greeting.SPEEDUPS))
        return Action.CONTINUE


proxywasm.set_http_context(Greet)
"""


def write_package(root: Path) -> Path:
    """``greeting`` in ``root``: pure Python, a guarded fake C speedup, and a module needing
    sockets; returns ``root``."""
    package = root / "greeting"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from .core import SPEEDUPS, greet\nfrom .net import Client\n")
    (package / "core.py").write_text(
        "try:\n    from ._speedups import greet\n    SPEEDUPS = True\n"
        "except ImportError:\n    from ._fallback import greet\n    SPEEDUPS = False\n")
    (package / "_fallback.py").write_text("def greet(name):\n    return f'hello {name}'\n")
    (package / FAKE_EXTENSION).write_bytes(b"\x7fELF not really")
    (package / "net.py").write_text("import socket\n\n\nclass Client:\n    pass\n")
    return root


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the ``greeting`` package, as `pip install --target` makes one."""
    return write_package(tmp_path_factory.mktemp("vendor"))


@pytest.fixture(scope="module")
def greeting_filter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("filter") / "greet_filter.py"
    path.write_text(FILTER)
    return path


@pytest.fixture(scope="module")
def built_with_path(vendor: Path, greeting_filter: Path) -> tuple[Path, str]:
    """The filter built by `pywasm-filter build --path VENDOR`, and what the build printed."""
    output = greeting_filter.with_suffix(".wasm")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["build", str(greeting_filter), "--path", str(vendor),
                     "-o", str(output)]) == 0
    return output, printed.getvalue()


@pytest.fixture
def wasm_host(built_with_path: tuple[Path, str]) -> Iterator[Host]:
    host = Host.from_wasm(built_with_path[0])
    assert host.start()
    yield host
    host.close()


def test_a_built_module_runs_a_package_found_with_path(wasm_host: Host,
                                                       built_with_path: tuple[Path, str]) -> None:
    stream = wasm_host.new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    assert stream.request_headers.get("x-greeting") == "hello alice"
    assert "packages: greeting" in built_with_path[1]


def test_a_guarded_c_extension_gives_way_to_its_pure_python_fallback(wasm_host: Host) -> None:
    stream = wasm_host.new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    assert stream.request_headers.get("x-speedups") == "False"


def test_a_package_module_needing_a_missing_c_module_is_a_placeholder(
        wasm_host: Host, built_with_path: tuple[Path, str], vendor: Path) -> None:
    assert (f"{vendor}/greeting/net.py:1: note: greeting.net is bundled as a placeholder whose "
            "names raise ImportError when used: importing greeting.net needs 'socket', which "
            "needs '_socket', a standard-library module the pywasm-filter runtime does not "
            "include") in built_with_path[1]
    stream = wasm_host.new_http_stream()
    with pytest.raises(FilterError, match=re.escape(
            "ImportError: greeting.net.Client is not available in a filter: importing "
            "greeting.net needs 'socket'")):
        stream.send_request_headers({":path": "/net"}, end_of_stream=True)
    assert stream.response_headers.get(":status") == "500"


def test_packages_on_sys_path_are_found_without_path(
        vendor: Path, greeting_filter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHONPATH, a virtualenv's site-packages: whatever this interpreter's sys.path holds."""
    monkeypatch.setattr(sys, "path", [*sys.path, str(vendor)])
    sites = import_sites(locate(greeting_filter), ensure_cpython().stdlib)
    assert "greeting" in sites


def test_a_package_not_installed_says_how_to_install_it(tmp_path: Path) -> None:
    source = tmp_path / "uses_jwt.py"
    source.write_text("import proxywasm\nimport no_such_package_here\n")
    with pytest.raises(FilterSourceError) as missing:
        build(source, tmp_path / "out.wasm")
    assert str(missing.value) == (
        f"{source}:2: error: module 'no_such_package_here' was not found\n"
        f"  fix: install it where pywasm-filter runs ({sys.executable} -m pip install "
        "no_such_package_here), or give the directory holding it with --path DIR, or put "
        "'no_such_package_here' beside the filter")


def test_a_missing_path_directory_is_an_error(tmp_path: Path, greeting_filter: Path) -> None:
    with pytest.raises(PywasmFilterError, match=r"--path .*nowhere: error: no such directory"):
        build(greeting_filter, tmp_path / "out.wasm", paths=[tmp_path / "nowhere"])


def test_an_unguarded_c_extension_is_refused_naming_it_and_its_import(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    (vendor / "fastjson").mkdir(parents=True)
    (vendor / "fastjson" / "__init__.py").write_text('"""Fast."""\nfrom ._speedups import loads\n')
    (vendor / "fastjson" / FAKE_EXTENSION).write_bytes(b"\x7fELF")
    source = tmp_path / "uses_fastjson.py"
    source.write_text("import proxywasm\n\nimport fastjson\n")
    with pytest.raises(FilterSourceError) as refused:
        build(source, tmp_path / "out.wasm", paths=[vendor])
    assert str(refused.value) == (
        f"{source}:3: error: package 'fastjson' needs the C extension "
        f"{vendor}/fastjson/{FAKE_EXTENSION}, imported at {vendor}/fastjson/__init__.py:2: a "
        "wasm module cannot load native code\n"
        "  fix: use a pure-Python alternative to 'fastjson', or a C module the pywasm-filter "
        "runtime has (docs/guide.md lists them); a package that imports its C speedups inside "
        "try/except ImportError works through its pure-Python fallback")
    assert not (tmp_path / "out.wasm").exists()


def test_the_size_report_lists_what_a_package_adds(tmp_path: Path, vendor: Path) -> None:
    source = tmp_path / "uses_greeting.py"
    source.write_text("import proxywasm\nfrom proxywasm import HttpContext\nimport greeting\n\n"
                      "proxywasm.set_http_context(HttpContext)\n")
    assert size_report.imported_modules(source, Packages((vendor,))) == ["greeting"]
    result = build(source, tmp_path / "out.wasm", paths=[vendor])
    table = size_report.report(source, result, [vendor]).splitlines()
    assert [line.split()[:2] for line in table[3:-1]] == [["package", "greeting"]]


def test_run_finds_packages_with_import_path(vendor: Path, greeting_filter: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(greeting_filter), "--import-path", str(vendor)]) == 0
    assert "+ x-greeting: hello alice" in capsys.readouterr().out


def test_imports_under_a_version_or_platform_test_follow_the_runtimes_branch(
        tmp_path: Path) -> None:
    (tmp_path / "branches.py").write_text(
        "import sys\nif sys.version_info < (3, 9):\n    import unicodedata\n"
        "if sys.platform == 'win32':\n    import _decimal\nelse:\n    import _json\n")
    reached = stdlib_closure.optional_modules(["branches"], [tmp_path, ensure_cpython().stdlib])
    assert "_json" in reached
    assert not {"unicodedata", "_decimal"} & reached


def test_the_filters_own_modules_are_not_packages(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when the filter's directory is on sys.path (python -m from there)."""
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    source = tmp_path / "uses_helper.py"
    source.write_text("import proxywasm\nimport helper\n")
    monkeypatch.setattr(sys, "path", [*sys.path, str(tmp_path)])
    found = Packages.from_environment(own=tmp_path)
    stdlib = ensure_cpython().stdlib
    assert found.check(import_sites(locate(source), stdlib, found), stdlib) == []
