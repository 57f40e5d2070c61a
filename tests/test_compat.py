"""Host targeting: what a filter uses that Nginx WasmX lacks, where, and the hosts it targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pywasm_filter.abi import ENVOY, WASMX
from pywasm_filter.cli import main
from pywasm_filter.linking import HostTargetError, plan, summary

HEADER = "import proxywasm\nfrom proxywasm import Action, HttpContext, RootContext, StreamContext\n"


def _filter(tmp_path: Path, body: str, name: str = "filter.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def _found(path: Path) -> list[tuple[int, str, str]]:
    return [(gap.line, gap.used, gap.lacking) for gap in plan(path).gaps]


def test_an_http_header_filter_runs_everywhere(tmp_path: Path) -> None:
    path = _filter(tmp_path, """
class F(HttpContext):
    def on_http_request_headers(self, num_headers, end_of_stream):
        self.set_http_request_header("x-a", "b")
        return Action.PAUSE
proxywasm.set_http_context(F)
""")
    built = plan(path)
    assert built.gaps == ()
    assert built.targets == (ENVOY, WASMX)
    assert summary(built) == "hosts: Envoy, Istio: ok; Nginx WasmX: ok"


def test_tcp_callbacks_are_reported_with_their_lines(tmp_path: Path) -> None:
    path = _filter(tmp_path, """
class Base(StreamContext):
    pass
class T(Base):
    def on_downstream_data(self, data_size, end_of_stream):
        return Action.CONTINUE
proxywasm.set_stream_context(T)
""")
    assert _found(path) == [
        (7, "T.on_downstream_data", "TCP (stream) filters are not implemented"),
        (9, "set_stream_context", "TCP (stream) filters are not implemented"),
    ]


def test_trailers_grpc_and_done_are_reported(tmp_path: Path) -> None:
    path = _filter(tmp_path, """
class F(HttpContext):
    def on_http_response_trailers(self, num_trailers):
        self.get_http_response_trailer("grpc-status")
        return Action.CONTINUE
class R(RootContext):
    def on_tick(self):
        self.dispatch_grpc_call("c", "s", "m", [], b"", None)
        proxywasm.hostcalls.done()
""")
    assert _found(path) == [
        (5, "F.on_http_response_trailers", "request and response trailers are not implemented"),
        (6, "get_http_response_trailer", "request and response trailers are not implemented"),
        (10, "dispatch_grpc_call",
         "Nginx WasmX does not implement proxy_grpc_call (calling it traps there)"),
        (11, "done", "Nginx WasmX does not implement proxy_done (calling it traps there)")]
    assert plan(path).targets == (ENVOY,)


def test_pausing_response_headers_is_reported(tmp_path: Path) -> None:
    path = _filter(tmp_path, """
class F(HttpContext):
    def on_http_response_headers(self, num_headers, end_of_stream):
        if num_headers > 3:
            return Action.PAUSE
        return Action.CONTINUE
""")
    assert _found(path) == [(7, "F.on_http_response_headers pauses",
                             "pausing (return PAUSE, or await) is not supported in this phase")]


def test_async_callbacks_and_awaited_calls_are_read(tmp_path: Path) -> None:
    path = _filter(tmp_path, """
class F(HttpContext):
    async def on_http_response_headers(self, num_headers, end_of_stream):
        reply = await self.grpc_call("c", "s", "m", b"")
        return Action.CONTINUE
    async def on_http_request_trailers(self, num_trailers):
        return Action.CONTINUE
""")
    assert [(line, used) for line, used, _ in _found(path)] == [
        (6, "F.on_http_response_headers pauses"), (6, "grpc_call"),
        (8, "F.on_http_request_trailers")]


def test_helper_modules_beside_the_filter_are_read(tmp_path: Path) -> None:
    _filter(tmp_path, """
class Q(RootContext):
    def on_queue_ready(self, queue_id):
        pass
""", name="helpers.py")
    path = _filter(tmp_path, "from helpers import Q\nproxywasm.set_root_context(Q)\n")
    found = plan(path).gaps
    assert [(gap.file.name, gap.used, gap.host) for gap in found] == [
        ("helpers.py", "Q.on_queue_ready", WASMX.name)]


def test_calls_wasmx_lacks_are_found_through_the_sdk_in_helper_files(tmp_path: Path) -> None:
    _filter(tmp_path, """
from proxywasm import hostcalls as calls
def body_size():
    return calls.get_buffer_status(0)[0]
""", name="helpers.py")
    path = _filter(tmp_path, "import helpers\n")
    assert [(gap.file.name, gap.line, gap.used, gap.lacking) for gap in plan(path).gaps] == [
        ("helpers.py", 6, "get_buffer_status",
         "Nginx WasmX does not provide proxy_get_buffer_status (the module would not load)")]


def test_foreign_functions_rule_wasmx_out(tmp_path: Path) -> None:
    path = _filter(tmp_path, """
class R(RootContext):
    def on_tick(self):
        self.call_foreign_function("compress", b"x")
""")
    assert _found(path) == [(6, "call_foreign_function",
                             "a foreign function name it does not know (Envoy's compress, "
                             "declare_property, ...) traps the instance")]


def test_the_sdk_machinery_and_the_log_handler_keep_wasmx_a_target(tmp_path: Path) -> None:
    path = _filter(tmp_path, """
import logging
from proxywasm import log_handler
log_handler.install()
class F(HttpContext):
    fail_open = False
    def on_http_request_headers(self, num_headers, end_of_stream):
        logging.getLogger().info("seen")
        raise ValueError("fails closed")
proxywasm.set_http_context(F)
""")
    built = plan(path)
    assert built.targets == (ENVOY, WASMX)
    assert {"proxy_close_stream", "proxy_get_log_level"} <= set(built.unavailable)


def test_required_hosts_that_cannot_run_the_filter_are_an_error(tmp_path: Path) -> None:
    path = _filter(tmp_path, """
class F(HttpContext):
    async def on_http_request_headers(self, num_headers, end_of_stream):
        await self.grpc_call("auth", "Auth", "Check", b"")
        return Action.CONTINUE
proxywasm.set_http_context(F)
""")
    with pytest.raises(HostTargetError) as raised:
        plan(path, (ENVOY, WASMX))
    assert (f"{path}: error: Nginx WasmX cannot run this filter:\n"
            f"  {path}:6: grpc_call: Nginx WasmX does not implement proxy_grpc_call (calling it "
            "traps there)\n") in str(raised.value)
    assert plan(path, (ENVOY,)).targets == (ENVOY,)


def test_the_build_refuses_a_required_host_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _filter(tmp_path, """
class R(RootContext):
    def on_tick(self):
        self.dispatch_grpc_call("c", "s", "m", [], b"")
proxywasm.set_root_context(R)
""")
    output = tmp_path / "a.wasm"
    assert main(["build", str(path), "-o", str(output), "--hosts", "envoy,wasmx"]) != 0
    assert (f"{path}:6: dispatch_grpc_call: Nginx WasmX does not implement proxy_grpc_call"
            in capsys.readouterr().err)
    assert not output.exists()


def test_build_prints_the_summary_and_the_report_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _filter(tmp_path, """
class F(HttpContext):
    def on_http_request_trailers(self, num_trailers):
        return Action.CONTINUE
proxywasm.set_http_context(F)
""")
    assert main(["build", str(path), "-o", str(tmp_path / "a.wasm")]) == 0
    assert ("hosts: Envoy, Istio: ok; Nginx WasmX: cannot run this filter\n"
            f"  Nginx WasmX lacks what the filter uses:\n    {path}:5: F.on_http_request_trailers: "
            "request and response trailers are not implemented") in capsys.readouterr().out
    assert main(["build", str(path), "-o", str(tmp_path / "b.wasm"), "--report"]) == 0
    assert (f"  Nginx WasmX (wasmx): cannot run this filter\n    {path}:5: "
            "F.on_http_request_trailers: request and response trailers are not implemented"
            ) in capsys.readouterr().out
