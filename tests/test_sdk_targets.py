"""The SDK adapts to its module's target hosts and raises HostCallUnavailableError for calls the
module does not link (the build's decisions, set here as the snapshot would)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from proxywasm import (
    Gauge,
    HostCallUnavailableError,
    HttpContext,
    _host,
    _targets,
    hostcalls,
    log_handler,
)
from proxywasm.errors import error_for
from proxywasm.types import LogLevel, MapType
from tests.test_sdk_fakehost import FakeHost, installed


@pytest.fixture
def host() -> Iterator[FakeHost]:
    with installed() as fake:
        yield fake
    _targets.configure(frozenset(), {})


def _wasmx_targeted() -> None:
    _targets.configure(frozenset({_targets.HEADER_NAMES_KEEP_CASE,
                                  _targets.INCREMENT_COUNTERS_ONLY}),
                       {"proxy_get_log_level": "Nginx WasmX, a target of this build, does not "
                                               "implement it; build with --hosts envoy to use it"})


def test_header_names_are_lowercased_where_a_target_keeps_their_case(host: FakeHost) -> None:
    host.maps[MapType.HTTP_REQUEST_HEADERS] = [("X-Client-Case", "v"), (":path", "/")]
    context = HttpContext(2, 1)
    assert context.get_http_request_headers()[0] == ("X-Client-Case", "v")
    _wasmx_targeted()
    assert context.get_http_request_headers() == [("x-client-case", "v"), (":path", "/")]
    assert context.get_http_request_headers_bytes()[0] == ("x-client-case", b"v")


def test_every_header_map_read_is_lowercased_where_a_target_keeps_the_case(host: FakeHost) -> None:
    host.maps[MapType.HTTP_RESPONSE_TRAILERS] = [("X-Checksum", "abc")]
    host.maps[MapType.HTTP_CALL_RESPONSE_HEADERS] = [("Content-Type", "text/plain")]
    context = HttpContext(2, 1)
    _wasmx_targeted()
    assert context.get_http_response_trailers() == [("x-checksum", "abc")]
    assert context.get_http_call_response_headers_bytes() == [("content-type", b"text/plain")]
    assert hostcalls.get_map(MapType.HTTP_RESPONSE_TRAILERS) == [("x-checksum", "abc")]


def test_gauges_read_and_record_where_a_target_increments_counters_only(host: FakeHost) -> None:
    def refuse(metric_id: int, delta: int, /) -> None:
        raise AssertionError("proxy_increment_metric called on a gauge")

    host.increment_metric = refuse  # type: ignore[method-assign]
    _host.bind(host)
    _wasmx_targeted()
    in_flight = Gauge("in_flight")
    in_flight.set(4)
    in_flight.increment(-1)
    assert in_flight.get() == 3


def test_an_unlinked_call_names_the_host_and_the_fix(host: FakeHost) -> None:
    _wasmx_targeted()
    error = error_for(_targets.UNLINKED_STATUS, "proxy_get_log_level")
    assert isinstance(error, HostCallUnavailableError)
    assert str(error) == (
        "proxy_get_log_level is not available in this module: Nginx WasmX, a target of this "
        "build, does not implement it; build with --hosts envoy to use it")


def test_the_log_handler_passes_records_on_without_the_host_level(host: FakeHost) -> None:
    def unlinked() -> int:
        raise error_for(_targets.UNLINKED_STATUS, "proxy_get_log_level")

    host.get_log_level = unlinked  # type: ignore[method-assign]
    _host.bind(host)
    logger = logging.getLogger("targets-test")
    handler = log_handler.install(logger)
    try:
        logger.debug("one")
        logger.info("two")
    finally:
        logger.removeHandler(handler)
    assert host.logs == [(LogLevel.DEBUG, "targets-test: one"),
                         (LogLevel.INFO, "targets-test: two")]
