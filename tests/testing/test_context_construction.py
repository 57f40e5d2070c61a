"""Contexts built the natural way get their ids from the SDK: without arguments, with an
``__init__`` of their own (with or without ``super().__init__()``), from lambdas, or with the
ids passed explicitly as before; ``super().__init__()`` without ids sets them already."""

from __future__ import annotations

import pytest

from proxywasm.testing import Host
from tests.conftest import FILTERS
from tests.testing.conftest import HostFactory


def _answer(host: Host) -> tuple[str | None, str | None]:
    stream = host.new_http_stream()
    stream.send_request_headers({":path": "/"}, end_of_stream=True)
    stream.send_response_headers({":status": "200"})
    assert stream.local_response is None, host.logs()
    ids = f"{stream.context_id} {host.plugin.root_context_id}"
    assert stream.response_headers.get("x-ids") == ids
    return stream.response_headers.get("x-init"), ids


def test_a_root_from_a_lambda_ignoring_the_id_starts(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "contexts_rust_style.py")
    assert host.start()
    assert f"root created with id {host.plugin.root_context_id}" in host.logs()


@pytest.mark.parametrize(("style", "init_saw"), [
    ("plain", "none"), ("own-init", "ran"), ("own-init-super", "ids"), ("given-ids", "ids"),
])
def test_http_contexts_made_in_create_http_context_get_their_ids(
    proxywasm_host: HostFactory, style: str, init_saw: str
) -> None:
    host = proxywasm_host(FILTERS / "contexts_rust_style.py", plugin_configuration=style)
    assert host.start()
    init, ids = _answer(host)
    assert init == (ids if init_saw == "ids" else init_saw)


def test_registered_classes_with_their_own_init_need_no_ids(
    proxywasm_host: HostFactory,
) -> None:
    host = proxywasm_host(FILTERS / "contexts_registered.py")
    assert host.start()
    assert f"hello from root {host.plugin.root_context_id}" in host.logs()
    for _ in range(2):
        init, _ids = _answer(host)
        assert init == "ran"


def test_tcp_contexts_from_a_lambda_ignoring_the_ids(proxywasm_host: HostFactory) -> None:
    host = proxywasm_host(FILTERS / "contexts_tcp_factories.py")
    assert host.start()
    connection = host.new_tcp_connection()
    connection.send_downstream_data(b"data")
    ids = f"{connection.context_id} {host.plugin.root_context_id}"
    assert connection.data_to_upstream == f"ids {ids} / {ids}: data".encode()
