"""The pytest plugin: a user's test with ``proxywasm_host`` runs once per engine."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import EXAMPLES, FILTERS

pytest_plugins = ["pytester"]

USER_TEST = f'''
from proxywasm import Action


def test_header(proxywasm_host, proxywasm_engine):
    host = proxywasm_host(r"{EXAMPLES / "http_headers" / "http_headers.py"}")
    assert host.engine.name == proxywasm_engine
    assert host.start()
    stream = host.new_http_stream()
    assert stream.send_request_headers({{":path": "/"}}) == Action.CONTINUE
    stream.send_response_headers()
    assert stream.response_headers.get("x-powered-by") == "pywasm-filter"
'''


def test_a_test_is_collected_for_each_engine(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_user.py::test_header[[]source[]]",
                                 "test_user.py::test_header[[]wasm[]]"])


def test_engine_option_runs_one_engine(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest("--proxywasm-engine=source", "-q")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["1 passed*"])


def test_host_option_makes_the_hosts_play_wasmx(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=f'''
def test_profile(proxywasm_host):
    example = r"{EXAMPLES / "http_headers" / "http_headers.py"}"
    assert proxywasm_host(example).profile.name == "wasmx"
    assert proxywasm_host(example, host="envoy").profile.name == "envoy"
''')
    result = pytester.runpytest("--proxywasm-engine=source", "--proxywasm-host=wasmx", "-q")
    result.assert_outcomes(passed=1)


def test_breakpoint_in_a_filter_opens_pdb(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_debug=f'''
from proxywasm.testing import Host


def test_debug():
    host = Host.from_source(r"{FILTERS / "breaks.py"}")
    assert host.start()
    host.new_http_stream().send_request_headers({{":path": "/", "a": "b"}})
''')
    result = pytester.run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          stdin=b"p num_headers * 10\nc\n", timeout=60)
    result.stdout.fnmatch_lines(["*breaks.py(14)on_http_request_headers()",
                                 "(Pdb) 20", "*1 passed*"])
