"""The json_validation example in the emulator, both engines (as
tests/e2e/test_example_json_validation.py): content type, then required keys and types."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxywasm import Action, LogLevel
from proxywasm.testing import Host, HttpStream
from tests.conftest import EXAMPLES
from tests.testing.conftest import HostFactory

EXAMPLE = EXAMPLES / "json_validation" / "json_validation.py"
CONFIG = '{"required": {"id": "integer", "name": "string", "tags": "array"}}'
EXAMPLES_PER_ENGINE = {"source": 60, "wasm": 10}
JSON = "application/json; charset=utf-8"


def post(host: Host, body: bytes, content_type: str = JSON, method: str = "POST") -> HttpStream:
    """A request with ``body`` in two chunks through the filter."""
    stream = host.new_http_stream()
    if stream.send_request_headers({":method": method, ":path": "/items",
                                    "content-type": content_type}) == Action.PAUSE:
        return stream
    half = len(body) // 2
    stream.send_request_body(body[:half], end_of_stream=False)
    stream.send_request_body(body[half:], end_of_stream=True)
    return stream


def error_of(stream: HttpStream) -> tuple[int, str]:
    """The status and the message of the filter's JSON error answer."""
    assert stream.local_response is not None
    assert stream.response_headers.get("content-type") == "application/json"
    message: str = json.loads(stream.response_body)["error"]
    return stream.local_response.status, message


@pytest.fixture
def host(proxywasm_host: HostFactory) -> Host:
    started = proxywasm_host(EXAMPLE, plugin_configuration=CONFIG)
    assert started.start()
    return started


def test_a_valid_body_goes_on_unchanged(host: Host) -> None:
    body = b'{"id": 7, "name": "lamp", "tags": [], "extra": null}'
    stream = post(host, body)
    assert stream.local_response is None
    assert stream.request_body == body


def test_the_body_is_held_until_it_is_whole(host: Host) -> None:
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "PUT", ":path": "/", "content-type": JSON})
    assert stream.send_request_body(b'{"id": 1,', end_of_stream=False) == Action.PAUSE
    assert stream.request_body == b""


@pytest.mark.parametrize(("body", "message"), [
    (b'{"id": 7, "tags": []}', "missing key 'name' (string)"),
    (b'{"id": "7", "name": "lamp", "tags": []}', "key 'id' must be integer, not string"),
    (b'{"id": true, "name": "x", "tags": {}}',
     "key 'id' must be integer, not boolean; key 'tags' must be array, not object"),
    (b'[1, 2]', "the body must be a JSON object, not array"),
    (b'{"id": 7,', "the body is not JSON: Expecting property name enclosed in double quotes: "
                   "line 1 column 10 (char 9)"),
])
def test_an_invalid_body_is_answered_400_saying_why(host: Host, body: bytes,
                                                    message: str) -> None:
    stream = post(host, body)
    assert error_of(stream) == (400, message)
    assert stream.request_body == b""
    assert host.logs(LogLevel.INFO)[-1] == f"rejected (400): {message}"


def test_another_content_type_is_answered_415(host: Host) -> None:
    stream = post(host, b"id=7", content_type="application/x-www-form-urlencoded")
    assert error_of(stream) == (415, "content-type must be application/json, not "
                                     "application/x-www-form-urlencoded")


def test_a_post_without_a_body_is_answered_400(host: Host) -> None:
    stream = host.new_http_stream()
    assert stream.send_request_headers({":method": "POST", ":path": "/", "content-type": JSON},
                                       end_of_stream=True) == Action.PAUSE
    assert error_of(stream) == (400, "a JSON body is required")


def test_other_methods_are_not_checked(host: Host) -> None:
    stream = post(host, b"not json", content_type="text/plain", method="GET")
    assert stream.local_response is None
    assert stream.request_body == b"not json"


@pytest.mark.parametrize(("config", "error"), [
    ('{"required": {"id": "int"}}',
     "\"required\": 'id' has type 'int'; use one of string, integer, number, boolean, "
     "object, array, null"),
    ('{"require": {}}', 'the configuration is a JSON object with "methods" and "required" only'),
    ('{"methods": "POST"}', '"methods" must be a list of strings such as ["POST"]'),
])
def test_a_bad_configuration_is_refused_saying_why(proxywasm_host: HostFactory, config: str,
                                                   error: str) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=config)
    assert not host.start()
    assert host.logs(LogLevel.ERROR)[0] == f"rejecting the plugin configuration: {error}"


def test_wasmx_validates_the_body_it_delivers_whole(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=CONFIG, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/", "Content-Type": JSON})
    assert stream.send_request_body(b'{"id": 1}', end_of_stream=True) == Action.PAUSE
    assert stream.local_response is not None
    assert stream.response_body == (b'{"error": "missing key \'name\' (string); missing key '
                                    b'\'tags\' (array)"}\n\n')


def test_wasmx_lets_a_post_without_a_body_through(proxywasm_host: HostFactory) -> None:
    """WasmX says no end_of_stream on headers and calls no body callback for an empty body."""
    host = proxywasm_host(EXAMPLE, plugin_configuration=CONFIG, host="wasmx")
    assert host.start()
    stream = host.new_http_stream()
    stream.send_request_headers({":method": "POST", ":path": "/", "Content-Type": JSON},
                                end_of_stream=True)
    stream.send_request_body(b"", end_of_stream=True)
    assert stream.local_response is None


def nested(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """JSON arrays and objects of ``inner`` values."""
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    nested, max_leaves=12)


def test_any_body_is_forwarded_exactly_when_it_is_valid(proxywasm_host: HostFactory,
                                                        proxywasm_engine: str) -> None:
    host = proxywasm_host(EXAMPLE, plugin_configuration=CONFIG)
    assert host.start()

    @settings(max_examples=EXAMPLES_PER_ENGINE[proxywasm_engine], deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(document=st.dictionaries(st.sampled_from(["id", "name", "tags", "other"]),
                                    json_values) | json_values,
           noise=st.binary(max_size=8))
    def check(document: object, noise: bytes) -> None:
        body = json.dumps(document).encode() + noise
        stream = post(host, body)
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        valid = (isinstance(decoded, dict) and type(decoded.get("id")) is int
                 and isinstance(decoded.get("name"), str) and isinstance(decoded.get("tags"), list))
        assert (stream.local_response is None) == valid
        assert stream.request_body == (body if valid else b"")
        if not valid:
            assert error_of(stream)[0] == 400
        stream.complete()

    check()
