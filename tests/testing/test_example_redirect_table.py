"""The redirect_table example (PyYAML's pure-Python parser bundled) in the emulator, both
engines."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "redirect_table" / "redirect_table.py"
TABLE = (EXAMPLES / "redirect_table" / "table.yaml").read_text()


def started(proxywasm_host: HostFactory, host: str = "envoy") -> Host:
    started_host = proxywasm_host(EXAMPLE, plugin_configuration=TABLE, host=host)
    assert started_host.start()
    return started_host


def request(host: Host, path: str) -> HttpStream:
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "GET", ":path": path, ":authority": "example.com"},
                                end_of_stream=True)
    return stream


def redirect(stream: HttpStream) -> tuple[str | None, str | None]:
    return stream.response_headers.get(":status"), stream.response_headers.get("location")


def test_exact_rule_redirects_permanently(proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host), "/old-docs")
    assert redirect(stream) == ("301", "https://docs.example.com/")
    assert stream.response_body == b"moved to https://docs.example.com/\n"


def test_prefix_rule_keeps_the_rest_of_the_path_and_the_query(
        proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host), "/blog/2024/hello?ref=feed")
    assert redirect(stream) == ("302", "https://blog.example.com/posts/2024/hello?ref=feed")


def test_the_longest_prefix_wins(proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host), "/blog/drafts/x")
    assert redirect(stream) == ("307", "https://blog.example.com/preview/x")


def test_exact_rule_wins_over_a_prefix(proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host), "/api/v1/health")
    assert redirect(stream) == ("308", "/healthz")


def test_rewrite_changes_the_path_and_the_request_goes_on(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host)
    stream = request(host, "/api/v1/orders?limit=5")
    assert stream.local_response is None
    assert stream.request_headers.get(":path") == "/api/v2/orders?limit=5"
    assert stream.send_response_headers({":status": "200"}) == Action.CONTINUE


def test_other_paths_go_on_unchanged(proxywasm_host: HostFactory) -> None:
    stream = request(started(proxywasm_host), "/old-docs/page")
    assert stream.local_response is None
    assert stream.request_headers.get(":path") == "/old-docs/page"


@pytest.mark.parametrize(("table", "message"), [
    ("rules: [", "the YAML does not parse at line 1"),
    ("rules:\n  - path: /a\n    redirect: /b\n  - prefix: /c\n",
     "rules[1]: give exactly one of redirect and rewrite"),
    ("rules:\n  - prefix: /a\n    rewrite: https://x/\n",
     "rules[0]: a rewrite must be a path starting with /"),
    ("rules:\n  - path: /a\n    redirect: /b\n    status: 200\n",
     "rules[0]: status must be one of (301, 302, 303, 307, 308), got 200"),
    ("redirects: []\n", "give a mapping with a list of rules under 'rules'"),
], ids=["yaml", "no-target", "rewrite-url", "status", "no-rules"])
def test_a_bad_table_is_refused_naming_the_problem(
        proxywasm_host: HostFactory, table: str, message: str) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=table)
    assert not host.start()
    assert any(line.startswith(f"rejecting the redirect table: {message}")
               for line in host.logs(LogLevel.ERROR)), host.logs(LogLevel.ERROR)


# Nginx WasmX (the emulator's WasmX profile)


def test_wasmx_redirects_and_rewrites(proxywasm_host: HostFactory) -> None:
    host = started(proxywasm_host, host="wasmx")
    moved = request(host, "/old-docs")
    assert redirect(moved) == ("301", "https://docs.example.com/")
    assert moved.response_body == b"moved to https://docs.example.com/\n\n"
    assert request(host, "/api/v1/orders").request_headers.get(":path") == "/api/v2/orders"


def test_any_path_is_redirected_rewritten_or_left_alone(
        proxywasm_host: HostFactory, proxywasm_engine: str) -> None:
    host = started(proxywasm_host)

    @settings(max_examples=40 if proxywasm_engine == "source" else 5, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.sampled_from(["/", "/blog/", "/blog/drafts/", "/api/v1/", "/old-docs"]),
           st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=40))
    def check(start: str, rest: str) -> None:
        stream = request(host, start + rest)
        assert not host.failures
        if stream.local_response is not None:
            assert stream.response_headers.get(":status") in ("301", "302", "307", "308")
        else:
            path = stream.request_headers.get(":path") or ""
            assert path == start + rest or path.startswith("/api/v2/")

    check()
