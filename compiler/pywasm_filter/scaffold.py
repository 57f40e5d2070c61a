"""`pywasm-filter init`: a new filter project rendered from a jinja2 template."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import jinja2

from .errors import PywasmFilterError

TEMPLATES = ("http_headers",)


def create(directory: Path, template: str) -> list[Path]:
    """Render `template` into `directory` (new or empty); returns the files written."""
    if template not in TEMPLATES:
        raise PywasmFilterError(
            f"unknown template '{template}': choose one of {', '.join(TEMPLATES)}"
        )
    if directory.exists() and any(directory.iterdir()):
        raise PywasmFilterError(
            f"{directory} is not empty: choose a new directory so no file is overwritten"
        )
    name = directory.resolve().name.replace("-", "_")
    if not name.isidentifier():
        raise PywasmFilterError(
            f"'{directory.name}' cannot name a filter: use letters, digits, '-' and '_'"
        )
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pywasm_filter", f"templates/init/{template}"),
        keep_trailing_newline=True,
    )
    source = files("pywasm_filter").joinpath("templates", "init", template)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in sorted(source.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".j2"):
            continue
        target = directory / entry.name.removesuffix(".j2")
        target.write_text(environment.get_template(entry.name).render(name=name))
        written.append(target)
    return written
