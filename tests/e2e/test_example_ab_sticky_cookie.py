"""The ab_sticky_cookie example's envoy.yaml in a real Envoy: the routes match the header the
filter sets, so Envoy re-routes after a Wasm filter changes request headers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.e2e import StartEnvoy
from tests.e2e.client import get
from tests.e2e.example_config import example_bootstrap

pytestmark = pytest.mark.envoy

DIRECTORY = EXAMPLES / "ab_sticky_cookie"
CLIENTS = 20


def test_clients_are_assigned_kept_and_reassigned(
    start_envoy: StartEnvoy, built: Callable[[Path], Path]
) -> None:
    config = example_bootstrap(DIRECTORY / "envoy.yaml",
                               {"ab_sticky_cookie": built(DIRECTORY / "ab_sticky_cookie.py")})
    with start_envoy(config) as envoy:
        first = [get(envoy.url + "/") for _ in range(CLIENTS)]
        cookies = [response.headers["set-cookie"].split(";")[0] for response in first]
        again = [get(envoy.url + "/", headers={"cookie": cookie}) for cookie in cookies]
        forged = get(envoy.url + "/", headers={"cookie": "ab_variant=admin"})
        spoofed = get(envoy.url + "/", headers={"cookie": "ab_variant=a", "x-variant": "b"})
    assert {response.body for response in first} == {b"variant a\n", b"variant b\n"}
    assert [response.body for response in first] == [
        f"variant {cookie.removeprefix('ab_variant=')}\n".encode() for cookie in cookies]
    assert first[0].headers["set-cookie"].endswith(
        "; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax")
    assert [response.body for response in again] == [response.body for response in first]
    assert all(response.headers["set-cookie"] is None for response in again)
    assert forged.status == 200
    assert forged.headers["set-cookie"] == (
        f"ab_variant={forged.body.decode().split()[1]}; Path=/; Max-Age=2592000; HttpOnly; "
        "SameSite=Lax")
    assert spoofed.body == b"variant a\n"
