"""`pywasm-filter init`: a new filter project rendered from a jinja2 template.

A template is a directory under templates/init/; files in templates/init/_shared/ go into every
project unless the template has its own file of the same name. Every project gets a filter, an
envoy.yaml that runs it, tests that build it and run it in a real Envoy, a README, and a
pyproject.toml declaring the filter's dependencies (which `build` bundles from the venv).
"""

from __future__ import annotations

from importlib import metadata
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import jinja2

from .deploy import memory_release_yaml
from .errors import PywasmFilterError

TEMPLATES = ("http-headers", "http-body", "http-callout", "tcp")
DEFAULT_TEMPLATE = "http-headers"
_SHARED = "_shared"


def _template_files(root: Traversable, prefix: PurePosixPath | None = None) -> list[
        PurePosixPath]:
    """Relative paths of the .j2 files under `root`, recursively."""
    prefix = prefix or PurePosixPath()
    found: list[PurePosixPath] = []
    for entry in root.iterdir():
        if entry.is_dir():
            found += _template_files(entry, prefix / entry.name)
        elif entry.name.endswith(".j2"):
            found.append(prefix / entry.name)
    return found


def create(directory: Path, template: str) -> list[Path]:
    """Render `template` into `directory` (new or empty); returns the files written."""
    if template not in TEMPLATES:
        raise PywasmFilterError(
            f"unknown template '{template}': choose one of {', '.join(TEMPLATES)}"
        )
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise PywasmFilterError(
            f"{directory} is not empty: choose a new directory so no file is overwritten"
        )
    name = directory.resolve().name.replace("-", "_")
    if not name.isidentifier():
        raise PywasmFilterError(
            f"'{directory.name}' cannot name a filter: use letters, digits, '-' and '_'"
        )
    folder = template.replace("-", "_")
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pywasm_filter", "templates/init"),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    templates = files("pywasm_filter").joinpath("templates", "init")
    sources = {path: f"{_SHARED}/{path}" for path in _template_files(templates / _SHARED)}
    sources.update({path: f"{folder}/{path}" for path in _template_files(templates / folder)})
    written = []
    for relative, source in sorted(sources.items()):
        target = directory.joinpath(*relative.parts).with_name(relative.name.removesuffix(".j2"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(environment.get_template(source).render(
            name=name, template=template, pywasm_filter_version=metadata.version("pywasm-filter"),
            memory_release=memory_release_yaml()))
        written.append(target)
    return written
