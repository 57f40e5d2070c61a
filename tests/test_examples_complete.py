"""Every example is complete: linked from the README, documented, configured and tested."""

from __future__ import annotations

import re

import pytest

from pywasm_filter.deploy import memory_release_yaml
from tests.conftest import EXAMPLES, ROOT

NAMES = sorted(path.name for path in EXAMPLES.iterdir() if path.is_dir())
TABLE_ROW = re.compile(r"^\| (?P<links>\[.+?) \| .+ \| (?P<wasmx>yes|no) \|$", re.MULTILINE)


def readme_table() -> dict[str, str]:
    """Example name -> the README table's WasmX column."""
    rows: dict[str, str] = {}
    for row in TABLE_ROW.finditer((ROOT / "README.md").read_text()):
        for name in re.findall(r"\]\(examples/(\w+)\)", row["links"]):
            rows[name] = row["wasmx"]
    return rows


def test_there_are_at_least_25_examples() -> None:
    assert len(NAMES) >= 25, NAMES


def test_the_readme_table_lists_exactly_the_examples() -> None:
    assert sorted(readme_table()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_example_has_its_files(name: str) -> None:
    folder = EXAMPLES / name
    missing = [file for file in ("README.md", "envoy.yaml") if not (folder / file).is_file()]
    assert not missing, f"examples/{name} lacks {missing}"
    assert list(folder.glob("*.py")), f"examples/{name} has no filter source"


@pytest.mark.parametrize("name", NAMES)
def test_example_has_emulator_and_envoy_tests(name: str) -> None:
    emulator = ROOT / "tests" / "testing" / f"test_example_{name}.py"
    assert emulator.is_file(), f"write {emulator.relative_to(ROOT)} (both engines)"
    end_to_end = [path for path in (ROOT / "tests" / "e2e").glob("test_*.py")
                  if f'"{name}"' in path.read_text()]
    assert end_to_end, f"no test in tests/e2e builds examples/{name}"


@pytest.mark.parametrize("name", NAMES)
def test_readme_says_wasmx_exactly_where_an_nginx_conf_exists(name: str) -> None:
    has_conf = (EXAMPLES / name / "nginx.conf").is_file()
    assert readme_table()[name] == ("yes" if has_conf else "no"), (
        f"README.md's WasmX column for {name} disagrees with examples/{name}/nginx.conf")



@pytest.mark.parametrize("name", NAMES)
def test_envoy_yaml_hands_freed_memory_back_as_generated_configs_do(name: str) -> None:
    assert memory_release_yaml() in (EXAMPLES / name / "envoy.yaml").read_text()
