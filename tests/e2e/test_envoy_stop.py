"""An interrupt (Ctrl-C, or SIGTERM in `serve`) while Envoy starts leaves no Envoy behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from pywasm_filter.envoy import Envoy, HttpBootstrap

pytestmark = pytest.mark.envoy


def test_interrupt_while_waiting_for_envoy_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    envoy = Envoy(HttpBootstrap(filters=[]).to_config(), tmp_path)

    def interrupted() -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(envoy, "_ready", interrupted)
    with pytest.raises(KeyboardInterrupt):
        envoy.start()
    assert envoy.log_path.exists()
    assert not envoy.running()
