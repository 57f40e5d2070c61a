"""`deploy wasmx --compile-cache DIR`: nginx.conf points WasmX's Wasmtime at a cache
configuration written beside it, which Wasmtime accepts and fills; bad input is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from wasmtime import Config, Engine, Module

from pywasm_filter import nginx
from pywasm_filter.cli import main
from tests.nginx_conf import nginx_test, parse, without_wasmx

_WAT = '(module (func (export "answer") (result i32) i32.const 42))'


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """Deploy only reads the module's bytes: any file named .wasm stands in for one."""
    path = tmp_path / "my_filter.wasm"
    path.write_bytes(b"\0asm\x01\0\0\0module bytes")
    return path


def _deploy(capsys: pytest.CaptureFixture[str], *arguments: str | Path) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["deploy", "wasmx", *map(str, arguments)])
    return code, capsys.readouterr().err


def test_conf_loads_the_cache_configuration_written_beside_it(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache, conf_path = tmp_path / "cache", tmp_path / "etc" / "nginx.conf"
    code, err = _deploy(capsys, module, "--compile-cache", cache, "-o", conf_path)
    assert code == 0, err
    toml = conf_path.parent / nginx.CACHE_TOML
    assert f"wrote {toml}" in err and "writable by the user they run as" in err
    wasm = parse(conf_path.read_text()).one("wasm")
    assert wasm.one("module").args == ["my_filter", str(module)]
    assert wasm.one("wasmtime").one("cache_config").args == [str(toml)]
    lines = toml.read_text().splitlines()
    assert "[cache]" in lines
    assert any(line.startswith("enabled = true") for line in lines)  # Wasmtime 26 requires it
    assert f'directory = "{cache}"' in lines
    checked = nginx_test(without_wasmx(conf_path.read_text()), tmp_path / "nginx")
    assert checked.returncode == 0, checked.stderr


def test_snippet_carries_the_wasmtime_block(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "snippet.conf"
    code, err = _deploy(capsys, module, "--snippet", "--upstream", "http://app:8080",
                        "--compile-cache", tmp_path / "cache", "-o", out)
    assert code == 0, err
    cache_config = parse(out.read_text()).one("wasm").one("wasmtime").one("cache_config")
    assert cache_config.args == [str(tmp_path / nginx.CACHE_TOML)]


def test_wasmtime_accepts_the_configuration_and_fills_the_cache(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """wasmtime-py here is 50, which refuses the `enabled` key Wasmtime 26 requires: the file
    is loaded without it, every other line as written."""
    cache, conf_path = tmp_path / "a \"quoted\" cache", tmp_path / "nginx.conf"
    assert _deploy(capsys, module, "--compile-cache", cache, "-o", conf_path)[0] == 0
    written = (tmp_path / nginx.CACHE_TOML).read_text()
    later = tmp_path / "later-wasmtime.toml"
    later.write_text("".join(line for line in written.splitlines(keepends=True)
                             if not line.startswith("enabled =")))
    assert later.read_text() == nginx.cache_toml(cache, enabled_key=False)
    config = Config()
    config.cache = str(later)
    Module(Engine(config), _WAT)
    entries = [path for path in (cache / "modules").rglob("*") if path.is_file()]
    assert entries, f"no compiled module in {cache}"


@pytest.mark.parametrize(("arguments", "message"), [
    (["--compile-cache", "cache", "-o", "{tmp}/nginx.conf"],
     "--compile-cache cache: write an absolute path, e.g. --compile-cache /"),
    (["--compile-cache", "{tmp}/cache"],
     "beside the nginx configuration: give -o FILE"),
    (["--compile-cache", "{tmp}/my_filter.wasm", "-o", "{tmp}/nginx.conf"],
     "my_filter.wasm: that is a file; give a directory"),
    (["--compile-cache", "{tmp}", "-o", "{tmp}/nginx.conf"],
     "wasmtime-cache.toml is inside --compile-cache"),
    (["--compile-cache", "{tmp}/line\nbreak", "-o", "{tmp}/nginx.conf"],
     "a path without control characters"),
], ids=["relative", "no output", "a file", "config inside", "newline"])
def test_bad_cache_input_is_refused_before_anything_is_written(
    module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    arguments: list[str], message: str
) -> None:
    filled = [argument.format(tmp=tmp_path) for argument in arguments]
    code, err = _deploy(capsys, module, *filled)
    assert code == 1 and message in err
    assert not (tmp_path / "nginx.conf").exists()
    assert not (tmp_path / nginx.CACHE_TOML).exists()
