"""A broken filter fails the test at the filter's file and line, in both engines."""

from __future__ import annotations

import re

import pytest

from proxywasm import Action, LogLevel
from proxywasm.testing import FilterError, Host
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory

BROKEN = FILTERS / "broken.py"


def started(proxywasm_host: HostFactory, **options: object) -> Host:
    host = proxywasm_host(BROKEN, **options)
    assert host.start()
    return host


def line_of(text: str) -> int:
    """The line number of ``text`` in the broken filter."""
    return BROKEN.read_text().splitlines().index(text) + 1


def failure(proxywasm_host: HostFactory, path: str) -> str:
    stream = started(proxywasm_host).new_http_stream()
    with pytest.raises(FilterError) as raised:
        stream.send_request_headers({":path": path})
    return str(raised.value)


def test_exception_names_the_raising_line(proxywasm_host: HostFactory) -> None:
    message = failure(proxywasm_host, "/raise")
    caller, raiser = line_of("            parse(path)"), line_of('    return int(path.strip("/"))')
    assert f'File "{BROKEN}", line {caller}, in on_http_request_headers' in message
    assert f'File "{BROKEN}", line {raiser}, in parse' in message
    assert "ValueError: invalid literal for int()" in message


def test_wrong_return_type_names_the_callback(proxywasm_host: HostFactory) -> None:
    message = failure(proxywasm_host, "/wrong-type")
    definition = line_of("    def on_http_request_headers(self, num_headers: int, "
                         "end_of_stream: bool) -> Action:")
    assert "on_http_request_headers() returned 'continue'" in message
    assert f'File "{BROKEN}", line {definition}, in on_http_request_headers' in message


def test_header_outside_its_phase_names_the_line(proxywasm_host: HostFactory) -> None:
    message = failure(proxywasm_host, "/outside-phase")
    line = line_of('            self.set_http_response_header("x-too-early", "yes")')
    assert f'File "{BROKEN}", line {line}, in on_http_request_headers' in message
    assert re.search(r"BadArgumentError: proxy_replace_header_map_value failed", message)
    assert "proxywasm/testing" not in message


def test_without_raising_the_stream_fails_closed(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, raise_filter_errors=False)
    stream = host.new_http_stream()
    assert stream.send_request_headers({":path": "/raise"}) == Action.PAUSE
    assert stream.local_response is not None
    assert stream.local_response.status == 500
    assert stream.response_body == b"filter error\n"
    assert any("ValueError" in line for line in host.logs(LogLevel.ERROR))


def test_missing_header_is_none_not_an_error(proxywasm_host: HostFactory) -> None:
    stream = started(proxywasm_host).new_http_stream()
    assert stream.send_request_headers({":method": "GET"}) == Action.CONTINUE


def test_stream_before_start_is_refused(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(BROKEN)
    with pytest.raises(RuntimeError, match=r"call host.start\(\)"):
        host.new_http_stream()
