"""Every examples/*/nginx.conf: it loads the example's module, provides what the filter's source
needs in WasmX, passes Debian's `nginx -t` without the WasmX directives, and is what the
README's `deploy wasmx` command writes. New examples' configurations are picked up as they come."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from pywasm_filter import compat, nginx
from pywasm_filter.cli import main
from tests.conftest import EXAMPLES, ROOT
from tests.nginx_conf import Directive, nginx_test, parse, without_wasmx

CONFS = sorted(EXAMPLES.glob("*/nginx.conf"))
COMMAND = "pywasm-filter deploy wasmx"


def _modules(conf: Directive) -> dict[str, str]:
    """Module name -> path, from `module NAME PATH [VM_CONFIG];` in the wasm {} block."""
    return {module.args[0]: module.args[1] for module in conf.one("wasm").find("module")}


def _example(path: Path) -> str:
    return path.parent.name


@pytest.fixture(params=CONFS, ids=_example)
def conf_path(request: pytest.FixtureRequest) -> Path:
    """One example's nginx.conf."""
    path: Path = request.param
    return path


def test_conf_loads_the_examples_module_by_relative_path(conf_path: Path) -> None:
    modules = _modules(parse(conf_path.read_text()))
    wanted = f"{_example(conf_path)}.wasm"
    assert wanted in modules.values(), f"load {wanted} (relative to the example): {modules}"
    for name, module in modules.items():
        assert not Path(module).is_absolute(), f"{name}: load {module} relative to the example"
        source = conf_path.parent / Path(module).with_suffix(".py")
        assert module.endswith(".wasm") and source.is_file(), f"{name}: {module} has no source"


def test_every_proxy_wasm_names_a_declared_module(conf_path: Path) -> None:
    conf = parse(conf_path.read_text())
    filters = [directive.args[0] for directive in conf.walk() if directive.name == "proxy_wasm"]
    assert filters, "no proxy_wasm line: WasmX starts a plugin only for one"
    assert set(filters) <= set(_modules(conf)), f"undeclared: {set(filters) - set(_modules(conf))}"


def test_zones_and_resolvers_cover_what_the_source_uses(
    conf_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`deploy wasmx`'s own reading of the source (compat.needs, nginx.apply_needs) decides."""
    monkeypatch.chdir(conf_path.parent)
    conf = parse(conf_path.read_text())
    wasm = conf.one("wasm")
    queues = [zone.args[0] for zone in wasm.find("shm_queue")]
    resolved = {entry.args[1]: entry.args[0] for entry in conf.walk()
                if entry.name == "resolver_add"}
    for name, module in _modules(conf).items():
        options = nginx.WasmxOptions(module_path=Path(module), name=name, queues=list(queues),
                                     callouts=resolved)
        try:
            nginx.apply_needs(options, compat.needs(Path(module).with_suffix(".py")))
        except nginx.NginxError as error:
            pytest.fail(str(error))
        if options.shared_data:
            assert ["*"] == [zone.args[0] for zone in wasm.find("shm_kv")], "add shm_kv *"
        missing = set(options.queues) - set(queues)
        assert not missing, f"add an shm_queue zone for {missing}"


def test_conf_passes_nginx_t_without_its_wasmx_directives(conf_path: Path, tmp_path: Path) -> None:
    checked = nginx_test(without_wasmx(conf_path.read_text()), tmp_path)
    assert checked.returncode == 0, checked.stderr


def _readme_command(example: Path) -> list[str]:
    """The arguments of the README's `pywasm-filter deploy wasmx` line (continuations joined)."""
    text = (example / "README.md").read_text().replace("\\\n", " ")
    lines = {" ".join(line.split()) for line in text.splitlines()
             if line.strip().startswith(COMMAND)}
    assert len(lines) == 1, (f"{example.name}/README.md: give one `{COMMAND} ... -o nginx.conf` "
                             f"command, in a 'Run it in Nginx WasmX' section (found {lines})")
    return shlex.split(lines.pop())[1:]


def test_conf_is_what_the_readme_command_writes(
    conf_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    """Built or not, the module is only named (--module-path): a stand-in file is enough."""
    arguments = _readme_command(conf_path.parent)
    assert arguments[-2:] == ["-o", "nginx.conf"], "end the command with -o nginx.conf"
    module = tmp_path / Path(arguments[2]).name
    module.write_bytes(b"\0asm\x01\0\0\0")
    monkeypatch.chdir(conf_path.parent)
    capsys.readouterr()
    assert main([*arguments[:2], str(module), *arguments[3:-2]]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == conf_path.read_text(), (
        f"examples/{_example(conf_path)}/nginx.conf is stale: rerun its README's command")


def _wasmx_table() -> dict[str, str]:
    """Example -> its "runs in WasmX" cell, from docs/wasmx.md's "The examples in WasmX"."""
    page = (ROOT / "docs" / "wasmx.md").read_text()
    section = page.split("## The examples in WasmX", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        for name in re.findall(r"\[(\w+)\]\(\.\./examples/\w+/?\)", cells[0]):
            rows[name] = cells[1]
    return rows


def test_examples_that_run_in_wasmx_have_an_nginx_conf() -> None:
    table = _wasmx_table()
    assert "http_headers" in table
    missing = [name for name, runs in table.items()
               if runs.startswith("yes") and not (EXAMPLES / name / "nginx.conf").is_file()]
    assert not missing, f"write their nginx.conf with `{COMMAND}`: {missing}"


def test_examples_with_an_nginx_conf_are_listed_as_running_in_wasmx() -> None:
    table = _wasmx_table()
    unlisted = [_example(path) for path in CONFS
                if table.get(_example(path), "no").startswith("no")]
    assert not unlisted, ("list them in docs/wasmx.md's 'The examples in WasmX' with what "
                          f"they need there (not 'no'): {unlisted}")
