"""A host call the module does not link raises HostCallUnavailableError in both engines."""

from __future__ import annotations

from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory


def test_an_unlinked_host_call_raises_a_python_exception(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "unlinked.py")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"})
    headers = stream.request_headers
    assert headers.get("x-hidden") == (
        "proxy_get_shared_data is not available in this module: the build found no use of it "
        "in the filter's files: call it there by name (e.g. self.<method>(...) or "
        "hostcalls.<function>(...)) so the build links it")
    assert headers.get("x-close") == (
        "proxy_close_stream is not available in this module: Nginx WasmX, a target of this "
        "build, does not implement it; build with --hosts envoy to use it")
