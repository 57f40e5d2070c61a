"""The command line: exit status and messages a user sees."""

from __future__ import annotations

import os
import socket
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from pywasm_filter.cli import main
from tests.conftest import EXAMPLES


def test_build_reports_where_it_wrote_and_the_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.wasm"
    status = main(["build", str(EXAMPLES / "http_headers" / "http_headers.py"), "-o", str(output)])
    printed = capsys.readouterr().out
    assert status == 0
    assert output.is_file()
    assert f"wrote {output}" in printed
    assert "code" in printed and "data" in printed


def test_bad_filter_exits_1_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "broken.py"
    source.write_text("import proxywasm\nx = (\n")
    status = main(["build", str(source), "-o", str(tmp_path / "broken.wasm")])
    assert status == 1
    assert f"{source}:2: error: syntax error" in capsys.readouterr().err
    assert not (tmp_path / "broken.wasm").exists()


def test_init_creates_a_project_that_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "my-filter"
    assert main(["init", str(project)]) == 0
    assert (project / "filter.py").is_file()
    assert main(["build", str(project / "filter.py"), "-o", str(tmp_path / "f.wasm")]) == 0


def test_init_declares_the_filters_dependencies_in_pyproject(tmp_path: Path) -> None:
    project = tmp_path / "my_filter"
    assert main(["init", str(project)]) == 0
    declared = tomllib.loads((project / "pyproject.toml").read_text())
    assert declared["project"]["name"] == "my-filter"
    assert declared["project"]["dependencies"] == []
    assert declared["project"]["optional-dependencies"]["dev"] == [
        f"pywasm-filter[envoy]>={metadata.version('pywasm-filter')}", "pytest>=8"]
    assert "pip install -e '.[dev]'" in (project / "README.md").read_text()


def test_init_refuses_a_non_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "existing.txt").write_text("keep me")
    assert main(["init", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "existing.txt").read_text() == "keep me"


def test_init_names_the_templates_when_one_is_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "new"), "--template", "grpc-magic"]) == 1
    assert ("unknown template 'grpc-magic': choose one of http-headers, http-body, "
            "http-callout, tcp") in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_negative_callback_budget_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["build", str(EXAMPLES / "http_headers" / "http_headers.py"),
                   "-o", str(tmp_path / "out.wasm"), "--callback-budget", "-5"])
    assert status == 1
    assert "--callback-budget -5: give a positive number" in capsys.readouterr().err


def test_serve_on_a_busy_port_names_the_holder_before_building(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "never_built.py"
    source.write_text("import proxywasm\nx = (\n")  # a build would fail: the port check is first
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        status = main(["serve", str(source), "--port", str(port), "--request", "/"])
    error = capsys.readouterr().err
    assert status == 1
    assert f"port {port} on 127.0.0.1 is not available" in error
    assert f"process {os.getpid()} (" in error
    assert "choose another port with --port" in error
    assert "syntax error" not in error
