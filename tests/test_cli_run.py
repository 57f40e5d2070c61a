"""`pywasm-filter run`: one request through a filter in the emulator, reported per phase."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pywasm_filter.cli import main
from tests.conftest import EXAMPLES, FILTERS

HTTP_FILTER = FILTERS / "emulated_http.py"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["run", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_reports_actions_header_changes_and_logs(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, str(HTTP_FILTER), "--path", "/page", "--header",
                         "X-Secret: s", "--config", '{"greeting": "yo"}',
                         "--response-body", "<p>")
    assert status == 0
    assert "filter " + str(HTTP_FILTER) + " (source engine)" in out
    assert "request headers -> CONTINUE\n  - x-secret: s\n  + x-greeting: yo\n" in out
    assert "response headers -> CONTINUE\n  + x-path: /page\n" in out
    assert "response body -> CONTINUE (3 bytes in, 4 bytes to the client)" in out
    assert "  body: b'<p>!'" in out
    assert "  [info] vm configuration: b''" in out


def test_reports_a_local_response(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, str(HTTP_FILTER), "--path", "/deny")
    assert status == 0
    assert "local response: 403\n  x-denied: yes\n  body: b'denied\\n'\n" in out
    assert "client receives:\n  :status: 403\n" in out


def test_input_file_answers_the_http_call(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "auth.yaml"
    scenario.write_text("path: /auth\nconfig: {greeting: hey}\n"
                        "http_calls:\n  - status: 200\n    body: alice\n"
                        "response:\n  status: 201\n  headers: {x-up: '1'}\n")
    status, out, _ = run(capsys, str(HTTP_FILTER), "--input", str(scenario))
    assert status == 0
    assert ("http call #1 to auth: GET /check (authority auth.local, body 5 bytes, "
            "timeout 5000 ms)\n  answered 200\n") in out
    assert "client receives:\n  :status: 201\n  x-up: 1\n  x-path: /auth\n" in out


def test_unanswered_call_leaves_the_request_paused(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, str(HTTP_FILTER), "--path", "/auth")
    assert status == 0
    assert "no answer given (add http_calls to --input); it stays pending" in out
    assert "the request is paused: the filter never resumed it" in out


def test_failing_filter_shows_its_line_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, str(FILTERS / "broken.py"), "--path", "/raise")
    assert status == 1
    assert f'File "{FILTERS / "broken.py"}", line' in out
    assert "local response: 500 (python_filter_error)" in out
    assert "the filter failed or refused to start" in err


def test_refused_configuration_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, str(FILTERS / "config_header.py"), "--config", "nope")
    assert status == 1
    assert "start: the plugin refused to start" in out
    assert "[error] bad configuration b'nope'" in out


def test_bad_header_option_explains_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, str(HTTP_FILTER), "--header", "novalue")
    assert status == 1
    assert "--header 'novalue' is not NAME:VALUE" in err


def test_unknown_input_key_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "bad.json"
    scenario.write_text('{"pathh": "/"}')
    status, _, err = run(capsys, str(HTTP_FILTER), "--input", str(scenario))
    assert status == 1
    assert f"{scenario}: error: unknown keys ['pathh']" in err


def test_runs_a_built_module_in_the_wasm_engine(built: Callable[[Path], Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    module = built(EXAMPLES / "http_headers" / "http_headers.py")
    status, out, _ = run(capsys, str(module), "--path", "/hello")
    assert status == 0
    assert "(wasm engine)" in out
    assert "client receives:\n  :status: 200\n  hello: World\n" in out
    assert "  [info] #2 -> :path: /hello" in out
