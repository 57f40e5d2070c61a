"""`serve --watch` in a subprocess: a saved edit changes what the next response carries."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywasm_filter.envoy import Upstream
from tests.e2e.client import get

pytestmark = pytest.mark.envoy

FILTER = '''
import proxywasm
from proxywasm import Action, HttpContext


class Stamp(HttpContext):
    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        proxywasm.log_info("stamping VERSION")
        self.set_http_response_header("x-version", "VERSION")
        return Action.CONTINUE


proxywasm.set_http_context(Stamp)
'''
_SERVING = re.compile(r"Envoy is serving \S+ at (http://\S+)")


class Serve:
    """A `pywasm-filter serve` process whose stdout lines are collected by a thread."""

    def __init__(self, *arguments: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from pywasm_filter.cli import main; raise SystemExit(main())",
             "serve", *arguments],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: re.Pattern[str] | str, timeout: float = 120) -> re.Match[str]:
        """The first new output line matching `pattern`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r}; output:\n" + "\n".join(self.seen))

    def stop(self) -> int:
        """SIGTERM, as a terminal or supervisor would send; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def serve_process() -> Iterator[list[Serve]]:
    """Collects started serve processes and makes sure none outlives its test."""
    started: list[Serve] = []
    yield started
    for serve in started:
        if serve.process.poll() is None:
            serve.process.send_signal(signal.SIGTERM)  # lets serve stop its Envoy
            try:
                serve.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                serve.process.kill()
                serve.process.wait()


def test_watch_rebuilds_and_restarts_on_edit(
    tmp_path: Path, serve_process: list[Serve], backend: Upstream
) -> None:
    source = tmp_path / "stamp.py"
    source.write_text(FILTER.replace("VERSION", "one"))
    serve = Serve(str(source), "--watch", "--upstream", f"http://127.0.0.1:{backend.port}")
    serve_process.append(serve)
    url = serve.wait_for(_SERVING)[1]
    first = get(url + "/path")
    assert first.headers["x-version"] == "one"
    assert "x-forwarded-proto" in json.loads(first.body)  # the backend echoed Envoy's request
    serve.wait_for(r"\[info\] stamping one")

    source.write_text(FILTER.replace("VERSION", "two"))
    serve.wait_for("change detected")
    assert serve.wait_for(_SERVING)[1] == url
    second = get(url + "/path")
    assert second.headers["x-version"] == "two"
    serve.wait_for(r"\[info\] stamping two")
    assert serve.stop() == 0
    with pytest.raises(OSError):
        get(url + "/")


def test_watch_reports_a_broken_edit_and_recovers(
    tmp_path: Path, serve_process: list[Serve]
) -> None:
    source = tmp_path / "stamp.py"
    source.write_text(FILTER.replace("VERSION", "one"))
    serve = Serve(str(source), "--watch")
    serve_process.append(serve)
    url = serve.wait_for(_SERVING)[1]
    source.write_text("import proxywasm\nbroken = (\n")
    serve.wait_for(f"{re.escape(str(source))}:2: error: syntax error")
    serve.wait_for("still serving the last build that worked")
    assert get(url + "/").headers["x-version"] == "one"
    source.write_text(FILTER.replace("VERSION", "fixed"))
    assert serve.wait_for(_SERVING)[1] == url
    assert get(url + "/").headers["x-version"] == "fixed"
    assert serve.stop() == 0
