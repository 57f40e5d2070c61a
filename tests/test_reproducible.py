"""A build depends on its inputs only: the same filter builds to the same module, byte for byte,
whenever and from wherever it is built (so its image digest and Envoy's VM key stay the same)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from proxywasm import LogLevel
from proxywasm.testing import Host
from pywasm_filter.build import build
from tests.conftest import FILTERS


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same filter built twice, its file and folder touched and the working folder changed
    in between."""
    work = tmp_path_factory.mktemp("reproducible")
    source = work / "filter" / "random_draw.py"
    source.parent.mkdir()
    shutil.copy(FILTERS / "random_draw.py", source)
    outputs = []
    for run in range(2):
        later = 2_000_000_000 + run * 3_600
        os.utime(source, (later, later))
        os.utime(source.parent, (later, later))
        cwd = work / f"cwd{run}"
        cwd.mkdir()
        previous = Path.cwd()
        os.chdir(cwd)
        try:
            outputs.append(build(source, cwd / "out.wasm").output)
        finally:
            os.chdir(previous)
    return outputs[0], outputs[1]


def test_the_same_filter_builds_to_the_same_bytes(two_builds: tuple[Path, Path]) -> None:
    first, second = two_builds
    assert first.read_bytes() == second.read_bytes()


def test_each_vm_of_the_module_draws_its_own_random_numbers(
        two_builds: tuple[Path, Path]) -> None:
    draws = set()
    for module in two_builds:
        host = Host(module, "wasm")
        assert host.start()
        [line] = host.logs(LogLevel.INFO)
        draws.add(line)
    assert len(draws) == 2
