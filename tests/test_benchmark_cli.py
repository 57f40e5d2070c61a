"""`benchmarks/run.py` refuses to start, saying what to install, when it could not draw its
chart at the end (rather than failing after many minutes of measuring)."""

from __future__ import annotations

import importlib.util

import pytest

from benchmarks import run


def test_run_without_matplotlib_says_to_install_the_bench_extra(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "matplotlib"
                        else real_find_spec(name, *rest))
    monkeypatch.setattr(run, "measure", lambda *args, **kwargs: pytest.fail("measured"))
    with pytest.raises(SystemExit) as stopped:
        run.main(["--quick"])
    assert stopped.value.code == 2
    assert "pip install -e '.[bench]'" in capsys.readouterr().err
