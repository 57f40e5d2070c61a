"""Redirect or rewrite request paths from a table written in YAML, parsed with PyYAML.

The plugin configuration is YAML (``pip install pyyaml``; the build bundles PyYAML's
pure-Python parser, its optional libyaml speedup being a C extension)::

    rules:
      - path: /old-docs                    # exact path
        redirect: https://docs.example.com/
      - prefix: /blog/                     # path prefix; the rest of the path is kept
        redirect: https://blog.example.com/posts/
        status: 302                        # 301 (default), 302, 303, 307 or 308
      - prefix: /api/v1/
        rewrite: /api/v2/                  # the request goes on with the new path

An exact rule wins over prefixes; of the prefixes, the longest that matches. A redirect is a
local response with ``location`` (the query string kept); a rewrite changes ``:path`` and lets
the request go on. A table that does not parse or has a wrong rule is refused at configuration,
its log line naming the YAML line or the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

import proxywasm
from proxywasm import Action, HttpContext, RootContext

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class TableError(ValueError):
    """The configuration is not a valid redirect table; the message says where and why."""


@dataclass(frozen=True)
class Rule:
    """One row of the table: what it matches and where the request goes."""

    match: str
    exact: bool
    target: str
    redirect: bool
    status: int

    def destination(self, path: str) -> str:
        """The redirect location or rewritten path for ``path`` (without its query)."""
        return self.target if self.exact else self.target + path[len(self.match):]


@dataclass(frozen=True)
class Table:
    """Exact rules by path, and prefix rules longest first."""

    exact: dict[str, Rule]
    prefixes: tuple[Rule, ...]

    def lookup(self, path: str) -> Rule | None:
        """The rule for ``path`` (without its query), if any."""
        if path in self.exact:
            return self.exact[path]
        return next((rule for rule in self.prefixes if path.startswith(rule.match)), None)


def parse_rule(index: int, entry: object) -> Rule:
    """One entry of ``rules`` as a Rule, or TableError naming it."""
    where = f"rules[{index}]"
    if not isinstance(entry, dict):
        raise TableError(f"{where}: give a mapping with path or prefix, and redirect or rewrite")
    unknown = set(entry) - {"path", "prefix", "redirect", "rewrite", "status"}
    if unknown:
        raise TableError(f"{where}: unknown keys {sorted(unknown)}")
    if ("path" in entry) == ("prefix" in entry):
        raise TableError(f"{where}: give exactly one of path and prefix")
    if ("redirect" in entry) == ("rewrite" in entry):
        raise TableError(f"{where}: give exactly one of redirect and rewrite")
    match, target = entry.get("path", entry.get("prefix")), entry.get(
        "redirect", entry.get("rewrite"))
    if not (isinstance(match, str) and match.startswith("/")):
        raise TableError(f"{where}: the path or prefix must be a string starting with /")
    if not isinstance(target, str) or not target:
        raise TableError(f"{where}: the redirect or rewrite must be a non-empty string")
    redirect = "redirect" in entry
    if not redirect and not target.startswith("/"):
        raise TableError(f"{where}: a rewrite must be a path starting with /")
    status = entry.get("status", 301)
    if not redirect and "status" in entry:
        raise TableError(f"{where}: status applies to redirects only")
    if status not in REDIRECT_STATUSES:
        raise TableError(f"{where}: status must be one of {REDIRECT_STATUSES}, got {status!r}")
    return Rule(match, "path" in entry, target, redirect, status)


def parse_table(text: str) -> Table:
    """The table the YAML ``text`` describes, or TableError saying what is wrong."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise TableError(f"the YAML does not parse{where}: "
                         f"{getattr(error, 'problem', None) or error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise TableError("give a mapping with a list of rules under 'rules'")
    rules = [parse_rule(index, entry) for index, entry in enumerate(document["rules"])]
    exact = {rule.match: rule for rule in rules if rule.exact}
    prefixes = sorted((rule for rule in rules if not rule.exact), key=lambda rule: -len(
        rule.match))
    return Table(exact, tuple(prefixes))


class RedirectRoot(RootContext):
    """Parses the table once per configuration; request contexts share it."""

    table: Table

    def on_configure(self, plugin_configuration_size: int) -> bool:
        text = (self.get_plugin_configuration() or b"").decode("utf-8", "replace")
        try:
            self.table = parse_table(text)
        except TableError as error:
            proxywasm.log_error(f"rejecting the redirect table: {error}")
            return False
        proxywasm.log_info(f"{len(self.table.exact) + len(self.table.prefixes)} rules loaded")
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return Redirect(context_id, self.context_id, self.table)


class Redirect(HttpContext):
    """Answers a matching request with a redirect, or rewrites its path."""

    def __init__(self, context_id: int, root_context_id: int, table: Table) -> None:
        super().__init__(context_id, root_context_id)
        self.table = table

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path, mark, query = (self.get_http_request_header(":path") or "/").partition("?")
        rule = self.table.lookup(path)
        if rule is None:
            return Action.CONTINUE
        destination = rule.destination(path) + mark + query
        if rule.redirect:
            self.send_http_response(rule.status, headers=[("location", destination)],
                                    body=f"moved to {destination}\n".encode())
            return Action.PAUSE
        self.set_http_request_header(":path", destination)
        return Action.CONTINUE


proxywasm.set_root_context(RedirectRoot)
