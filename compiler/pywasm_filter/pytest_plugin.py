"""pytest plugin (entry point ``proxywasm``): fixtures that run one test in both engines.

``proxywasm_host(path, **options)`` makes a ``Host`` for the filter at ``path`` in the engine of
the current parametrization (``source`` and ``wasm``; choose with ``--proxywasm-engine``),
playing Envoy unless the test passes ``host="wasmx"`` (or ``--proxywasm-host=wasmx`` changes the
default). In the wasm engine the filter is built once per session with ``build.build``; in the
source engine it is linked as that build would link it (``linking.plan``). The plugin lives in
the compiler because it builds; the emulator (``proxywasm.testing``) only runs what it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Unpack

import pytest

from proxywasm.testing import Host, HostOptions

from . import linking
from .build import build

ENGINES = ("source", "wasm")
HOSTS = ("envoy", "wasmx")
HostFactory = Callable[..., Host]
Builder = Callable[[Path], Path]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--proxywasm-engine`` (both engines by default) and ``--proxywasm-host``."""
    parser.addoption(
        "--proxywasm-engine", choices=(*ENGINES, "both"), default="both",
        help="run proxywasm_host tests in the source engine, the wasm engine, or both",
    )
    parser.addoption(
        "--proxywasm-host", choices=HOSTS, default="envoy",
        help="the proxy proxywasm_host hosts play when a test passes no host= (default envoy)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that uses ``proxywasm_engine`` over the chosen engines."""
    if "proxywasm_engine" not in metafunc.fixturenames:
        return
    if any(mark.name == "parametrize" and "proxywasm_engine" in str(mark.args[0])
           for mark in metafunc.definition.iter_markers()):
        return
    chosen = metafunc.config.getoption("--proxywasm-engine")
    engines = ENGINES if chosen == "both" else (chosen,)
    metafunc.parametrize("proxywasm_engine", engines)


@pytest.fixture(scope="session")
def proxywasm_build(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    """Build a filter source into a module once per session (and per file change)."""
    directory = tmp_path_factory.mktemp("proxywasm-modules")
    cache: dict[tuple[Path, int], Path] = {}

    def build_once(source: Path) -> Path:
        source = Path(source).resolve()
        key = (source, source.stat().st_mtime_ns)
        if key not in cache:
            output = directory / f"{source.stem}-{len(cache)}.wasm"
            cache[key] = build(source, output).output
        return cache[key]

    return build_once


@pytest.fixture
def proxywasm_host(proxywasm_engine: str, proxywasm_build: Builder,
                   pytestconfig: pytest.Config) -> Iterator[HostFactory]:
    """A factory ``(path, **options) -> Host`` for the current engine; hosts close afterwards."""
    hosts: list[Host] = []
    default_host = pytestconfig.getoption("--proxywasm-host")

    def make(path: Path | str, **options: Unpack[HostOptions]) -> Host:
        options.setdefault("host", default_host)
        filter_path = Path(path)
        if proxywasm_engine == "wasm" and filter_path.suffix != ".wasm":
            filter_path = proxywasm_build(filter_path)
        elif proxywasm_engine == "source":
            options.setdefault("link", linking.SourceLink(filter_path))
        host = Host(filter_path, proxywasm_engine, **options)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.close()
