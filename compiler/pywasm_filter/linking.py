"""Which hosts a filter targets and which host functions its module links, from its source.

A module imports a host function only if the filter reaches it and every target host implements
it with the runtime's signature (``abi``). What the filter reaches is found by name: every
attribute and imported SDK name in the filter's files, followed through the SDK's own functions
to the ``_host`` calls they make, plus what the SDK's machinery needs for every filter. Each
host function left out is replaced inside the module by a function that returns
``UNLINKED_STATUS`` (``wasm.optimize``), so calling it raises ``HostCallUnavailableError`` with the
reason recorded here instead of trapping.

By default a filter targets every host that can run it; with ``hosts`` given, a host that
cannot is a build error naming the filter's file, line and call.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from proxywasm._targets import UNLINKED_STATUS
from proxywasm.testing.interfaces import host_function

from . import compat
from .abi import ENV, HOST_FUNCTIONS, HOSTS, Host, Signature
from .errors import PywasmFilterError

# What the SDK's machinery calls for every filter: logging failures, failing a stream closed
# (local response), resuming paused streams, answering callouts and callbacks' arguments.
_MACHINERY = frozenset({
    "proxy_log", "proxy_send_local_response", "proxy_continue_stream",
    "proxy_set_effective_context", "proxy_get_header_map_pairs", "proxy_get_buffer_bytes",
})
# Host functions the machinery uses where every target implements them, and does without
# (it catches HostCallUnavailableError) elsewhere: resetting a stream whose 500 response failed,
# and the log handler's reading of the host's level. They never rule a host out.
_OPTIONAL = frozenset({"proxy_close_stream", "proxy_get_log_level"})
_TOLERANT_SDK_FUNCTIONS = frozenset({"_close", "refresh_level"})
# Host functions whose use brings in others the SDK's callbacks need (a failed gRPC call's
# status message).
_IMPLIES = {"proxy_grpc_call": "proxy_get_status", "proxy_grpc_stream": "proxy_get_status"}
# `_proxywasm` functions that reach another host function than `proxy_<name>`.
class HostTargetError(PywasmFilterError):
    """A host named with --hosts cannot run the filter; the message lists each use and line."""


@dataclass(frozen=True)
class Use:
    """A name the filter uses, where, and the host functions it reaches through the SDK."""

    file: Path
    line: int
    name: str
    functions: frozenset[str]
    imports: frozenset[str] = frozenset()
    """Modules the SDK imports inside what this name reaches (``sdk_imports``)."""


@dataclass(frozen=True)
class Plan:
    """What a build targets and links: hosts, host functions, and why others are left out."""

    targets: tuple[Host, ...]
    linked: frozenset[str]
    unavailable: dict[str, str]
    gaps: tuple[compat.Gap, ...]
    excluded: tuple[Host, ...]
    imports: frozenset[str] = frozenset()
    """Modules the SDK imports inside functions the filter reaches: the build imports them."""

    def stubs(self) -> dict[tuple[str, str], int]:
        """The imports the module replaces by its own function (``optimize.run``)."""
        return {(ENV, name): UNLINKED_STATUS for name in self.unavailable}

    @property
    def quirks(self) -> frozenset[str]:
        """The behaviours of the target hosts the SDK adapts to (``abi.Host.quirks``)."""
        return frozenset(quirk for host in self.targets for quirk in host.quirks)

    def spec_lines(self) -> list[str]:
        """The snapshot spec's lines telling the SDK its quirks and missing host calls."""
        return [*(f"quirk={quirk}" for quirk in sorted(self.quirks)),
                *(f"unavailable={name}:{reason}"
                  for name, reason in sorted(self.unavailable.items()))]


@functools.cache
def _sdk_graph() -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, set[str]]]:
    """The SDK read by name: what each function, method or attribute calls or names, the host
    functions each calls directly, and the modules each imports in its body."""
    import proxywasm

    calls: dict[str, set[str]] = defaultdict(set)
    direct: dict[str, set[str]] = defaultdict(set)
    imports: dict[str, set[str]] = defaultdict(set)
    for path in sorted(Path(proxywasm.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_bytes(), str(path))
        for assignment in _attribute_assignments(tree):
            # `name = method(MAP, hostcalls.function)`: the name reaches what `function` does.
            for assigned in assignment.targets:
                if isinstance(assigned, ast.Name):
                    calls[assigned.id] |= _names(assignment.value)
            # `{"NAME": function}`, a table of lazy attributes: NAME reaches `function`.
            if isinstance(assignment.value, ast.Dict):
                for key, value in zip(assignment.value.keys, assignment.value.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        calls[key.value] |= _names(value)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Attribute) and getattr(inner.value, "id", "") == "_host":
                    function = host_function(inner.attr)
                    if function:
                        direct[node.name].add(function)
                elif isinstance(inner, ast.Import):
                    imports[node.name] |= {alias.name for alias in inner.names}
                elif isinstance(inner, ast.ImportFrom) and not inner.level and inner.module:
                    imports[node.name].add(inner.module)
                elif isinstance(inner, ast.Call):
                    callee = inner.func
                    name = callee.attr if isinstance(callee, ast.Attribute) else getattr(
                        callee, "id", None)
                    if name:
                        calls[node.name].add(name)
    return calls, direct, imports


def _closure(direct: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """SDK name -> the union of ``direct`` over every SDK name it reaches by calls, not counting
    what the tolerant functions reach."""
    calls = _sdk_graph()[0]
    reach: dict[str, frozenset[str]] = {}
    for start in set(calls) | set(direct):
        found: set[str] = set()
        pending, seen = [start], {start}
        while pending:
            name = pending.pop()
            if name in _TOLERANT_SDK_FUNCTIONS:
                continue
            found |= direct.get(name, set())
            for target in calls.get(name, ()):
                if target not in seen:
                    seen.add(target)
                    pending.append(target)
        reach[start] = frozenset(found)
    return reach


@functools.cache
def _sdk_reach() -> dict[str, frozenset[str]]:
    """SDK function or method name -> the host functions it reaches."""
    return _closure(_sdk_graph()[1])


@functools.cache
def sdk_imports() -> dict[str, frozenset[str]]:
    """SDK name -> the modules its functions import when called (``datetime`` for
    ``get_current_time``), which a module using it must carry from build time."""
    return _closure(_sdk_graph()[2])


def _attribute_assignments(node: ast.AST) -> Iterator[ast.Assign]:
    """The assignments of module and class attributes under ``node`` (not functions' locals)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Assign):
            yield child
        elif not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _attribute_assignments(child)


def _names(node: ast.AST) -> set[str]:
    """The names and attribute names ``node`` mentions."""
    return {inner.attr if isinstance(inner, ast.Attribute) else inner.id
            for inner in ast.walk(node) if isinstance(inner, ast.Attribute | ast.Name)}


def _sdk_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> SDK name, for `from proxywasm[...] import name [as local]`."""
    return {
        alias.asname or alias.name: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "proxywasm"
        for alias in node.names
    }


def _file_uses(path: Path) -> Iterator[Use]:
    tree = ast.parse(path.read_bytes(), str(path))
    aliases = _sdk_aliases(tree)
    reach, lazy = _sdk_reach(), sdk_imports()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name) and node.id in aliases:
            name = aliases[node.id]
        else:
            continue
        functions, imports = reach.get(name, frozenset()), lazy.get(name, frozenset())
        if functions or imports:
            yield Use(path, node.lineno, name, functions, imports)


def uses(filter_path: Path) -> list[Use]:
    """Every SDK name the filter's files use that reaches a host function or a module the SDK
    imports lazily, in file order."""
    found = {use for path in compat.source_files(filter_path) for use in _file_uses(path)}
    return sorted(found, key=lambda use: (str(use.file), use.line, use.name))


def _runtime_signature(name: str) -> Signature:
    """The signature the runtime imports ``name`` with: Envoy's, which is the ABI's."""
    return HOSTS[0].functions[ENV, name].signature


def _host_gaps(host: Host, found: list[Use]) -> list[compat.Gap]:
    gaps = []
    for use in found:
        for function in sorted(use.functions):
            lacking = host.lacks(ENV, function, _runtime_signature(function))
            if lacking:
                gaps.append(compat.Gap(host.name, use.file, use.line, use.name, lacking))
    return gaps


def _unavailable_reason(function: str, targets: Sequence[Host]) -> str:
    lacking = [host for host in targets
               if host.lacks(ENV, function, _runtime_signature(function))]
    if lacking:
        others = [host.key for host in targets if host not in lacking]
        names = " and ".join(host.name for host in lacking)
        fix = (f"build with --hosts {','.join(others)} to use it" if others
               else "no target host implements it")
        return f"{names}, a target of this build, does not implement it; {fix}"
    return ("the build found no use of it in the filter's files: call it there by name (e.g. "
            "self.<method>(...) or hostcalls.<function>(...)) so the build links it")


def plan(filter_path: Path, hosts: Sequence[Host] | None = None) -> Plan:
    """Decide the target hosts and linked host functions of ``filter_path``.

    With ``hosts``, every one must run the filter (HostTargetError lists what one lacks);
    without, the targets are the hosts that can run it.
    """
    found = uses(filter_path)
    behaviour = compat.gaps(filter_path)
    gaps_by_host = {
        host: [gap for gap in behaviour if gap.host == host.name and gap.blocking]
        + _host_gaps(host, found)
        for host in HOSTS
    }
    if hosts is not None:
        failing = [host for host in hosts if gaps_by_host[host]]
        if failing:
            lines = [f"  {gap}" for host in failing for gap in sorted(
                gaps_by_host[host], key=lambda gap: (str(gap.file), gap.line, gap.used))]
            names = " and ".join(host.name for host in failing)
            raise HostTargetError(
                f"{filter_path}: error: {names} cannot run this filter:\n" + "\n".join(lines)
                + "\n  fix: remove these uses, or build without --hosts (or with fewer hosts) "
                  "to target only the hosts that run it")
        targets = tuple(hosts)
    else:
        targets = tuple(host for host in HOSTS if not gaps_by_host[host])
    reached = set(_MACHINERY) | _OPTIONAL
    for use in found:
        reached |= use.functions
    reached |= {_IMPLIES[name] for name in reached if name in _IMPLIES}
    linked = frozenset(
        name for name in reached
        if not any(host.lacks(ENV, name, _runtime_signature(name)) for host in targets))
    unavailable = {name: _unavailable_reason(name, targets)
                   for name in sorted(HOST_FUNCTIONS - linked)}
    excluded = tuple(host for host in HOSTS if host not in targets)
    gaps = [gap for host in excluded for gap in gaps_by_host[host]]
    notes = [gap for gap in behaviour if not gap.blocking]
    ordered = sorted(gaps + notes, key=lambda gap: (gap.host, str(gap.file), gap.line, gap.used))
    imports = frozenset(name for use in found for name in use.imports)
    return Plan(targets, linked, unavailable, tuple(ordered), excluded, imports)


def summary(built: Plan) -> str:
    """What the build prints: the target hosts, and for each other host why it cannot run the
    filter, one use per line with its file and line."""
    lines = ["hosts: " + "; ".join(
        f"{host.name}: {'ok' if host in built.targets else 'cannot run this filter'}"
        for host in HOSTS)]
    for host in HOSTS:
        mine = [gap for gap in built.gaps if gap.host == host.name and gap.blocking]
        if mine:
            lines.append(f"  {host.name} lacks what the filter uses:")
            lines += [f"    {gap}" for gap in mine]
    if any(not gap.blocking for gap in built.gaps):
        lines.append("  (build --report lists the differences of the target hosts)")
    return "\n".join(lines)


def report(built: Plan) -> str:
    """The full report: per host, whether the module targets it, each use it lacks or where it
    differs (file and line), and the host functions the module links."""
    lines = ["compatibility report:"]
    for host in HOSTS:
        mine = [gap for gap in built.gaps if gap.host == host.name]
        state = "target" if host in built.targets else "cannot run this filter"
        lines.append(f"  {host.name} ({host.key}): {state}")
        lines += [f"    {gap}" + ("" if gap.blocking else " (works, differs)") for gap in mine]
    lines.append("  linked host functions: " + ", ".join(sorted(built.linked)))
    return "\n".join(lines)


class SourceLink:
    """The default build's plan for the filter at ``path``, as ``Host.from_source(link=...)``
    takes it; computed when first read, after the source engine imported the filter, so the
    filter's own errors (syntax, missing file) are reported first, by the import."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @functools.cached_property
    def _plan(self) -> Plan:
        return plan(self.path.resolve())

    @property
    def quirks(self) -> frozenset[str]:
        """The target hosts' behaviours the SDK adapts to."""
        return self._plan.quirks

    @property
    def unavailable(self) -> dict[str, str]:
        """Host function name -> why the build leaves it out."""
        return self._plan.unavailable
