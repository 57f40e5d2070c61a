"""Which proxies lack what a filter uses, found in its source before anyone deploys it.

What a host lacks in behaviour, not in host functions, found in the filter's source: the `on_*`
callbacks its context classes override that a host never calls, where it pauses (PAUSE or
await) and SDK calls whose host function exists but does not do the job there (reference notes
§3.3, Kong's docs/PROXY_WASM.md). Host functions a host lacks or stubs are found from the
module's imports and the SDK names the filter uses (`linking`). Envoy and Istio implement the
whole ABI 0.2.1, so only Nginx/Kong WasmX has gaps today.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import bundle

ENVOY = "Envoy, Istio"
WASMX = "Nginx WasmX"
HOSTS = (ENVOY, WASMX)

_CONTEXT_BASES = frozenset({"Context", "RootContext", "HttpContext", "StreamContext"})
_SDK_MODULES = frozenset({"proxywasm", "hostcalls"})
_NO_TCP = "TCP (stream) filters are not implemented"
_NO_TRAILERS = "request and response trailers are not implemented"
_NO_GRPC = "gRPC calls are not implemented"
_UPSTREAM_NOTE = "the upstream is HOST:PORT there, not an Envoy cluster name"

# Callbacks WasmX never calls.
_WASMX_CALLBACKS: dict[str, str] = {
    **dict.fromkeys(("on_new_connection", "on_downstream_data", "on_downstream_close",
                     "on_upstream_data", "on_upstream_close"), _NO_TCP),
    **dict.fromkeys(("on_http_request_trailers", "on_http_response_trailers"), _NO_TRAILERS),
    **dict.fromkeys(("on_grpc_call_response", "on_grpc_stream_initial_metadata",
                     "on_grpc_stream_message", "on_grpc_stream_trailing_metadata",
                     "on_grpc_stream_close"), _NO_GRPC),
    "on_queue_ready": "on_queue_ready is not implemented (queues cannot wake a root context)",
}


def _trailer_calls() -> list[str]:
    names = []
    for side in ("request", "response"):
        for verb in ("get", "set", "add", "remove"):
            for noun in ("trailer", "trailers"):
                names.append(f"{verb}_http_{side}_{noun}")
                names.append(f"{verb}_http_{side}_{noun}_bytes")
    return names


# SDK calls whose host function WasmX links but that do not do the job there, or differ.
_WASMX_CALLS: dict[str, str] = {
    **dict.fromkeys(_trailer_calls(), _NO_TRAILERS),
    **dict.fromkeys(("get_grpc_call_response_body", "get_grpc_stream_initial_metadata",
                     "get_grpc_stream_initial_metadata_value", "get_grpc_stream_message",
                     "get_grpc_stream_trailing_metadata",
                     "get_grpc_stream_trailing_metadata_value"), _NO_GRPC),
    **dict.fromkeys(("resume_downstream", "resume_upstream"),
                    "resuming TCP streams is not supported"),
    "resume_http_response": "resuming a paused response is not supported",
    **dict.fromkeys(("set_effective_context", "acting_on"),
                    "proxy_set_effective_context does nothing: host calls act on the context "
                    "whose callback runs; in on_tick, reading or resuming a request crashes the "
                    "worker and changing its headers traps"),
    "set_stream_context": _NO_TCP,
    "call_foreign_function": "a foreign function name it does not know (Envoy's compress, "
                             "declare_property, ...) traps the instance",
    **dict.fromkeys(("dispatch_http_call", "http_call"), _UPSTREAM_NOTE),
}

# Callbacks WasmX calls but where returning PAUSE is not supported.
_WASMX_NO_PAUSE = ("on_http_response_headers", "on_http_request_trailers",
                   "on_http_response_trailers")


@dataclass(frozen=True)
class Gap:
    """One thing a filter uses that a host lacks, with where the filter uses it."""

    host: str
    file: Path
    line: int
    used: str
    lacking: str
    blocking: bool = True
    """False for a difference the filter can live with (a note), True if the host cannot run it."""

    def __str__(self) -> str:
        file = self.file.relative_to(Path.cwd()) if self.file.is_relative_to(Path.cwd()) else (
            self.file)
        return f"{file}:{self.line}: {self.used}: {self.lacking}"


def _local_modules(tree: ast.Module, root: Path) -> Iterator[Path]:
    """The filter's own files that `tree` imports (beside it, under its root)."""
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        for name in names:
            candidate = root.joinpath(*name.split("."))
            for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                if path.is_file():
                    yield path


def source_files(filter_path: Path) -> list[Path]:
    """The filter's own .py files: the file and what it imports beside it, or the package."""
    source = bundle.locate(filter_path)
    if source.is_package:
        return sorted(source.path.rglob("*.py"))
    pending, seen = [source.path], []
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.append(path)
        pending += _local_modules(ast.parse(path.read_bytes(), str(path)), source.search_root)
    return seen


def _context_classes(
    tree: ast.Module, roots: frozenset[str] = _CONTEXT_BASES
) -> list[ast.ClassDef]:
    """Classes deriving, directly or through other classes of the file, from one of ``roots``
    (by default any SDK context)."""
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    known = set(roots)
    found: list[ast.ClassDef] = []
    changed = True
    while changed:
        changed = False
        for node in classes:
            bases = {base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                     for base in node.bases}
            if node not in found and bases & known:
                found.append(node)
                known.add(node.name)
                changed = True
    return found


def _sdk_names(tree: ast.Module) -> set[str]:
    """Names imported from the SDK with `from proxywasm[.hostcalls] import name`."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "proxywasm"
        for alias in node.names
    }


def _calls(tree: ast.Module, imported: set[str]) -> Iterator[tuple[str, int]]:
    """(SDK function or method name, line) for each use on self, proxywasm or hostcalls."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(
                owner, "id", "")
            if owner_name == "self" or owner_name in _SDK_MODULES:
                yield node.attr, node.lineno
        elif isinstance(node, ast.Name) and node.id in imported:
            yield node.id, node.lineno


def _pauses(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """The line where the callback pauses its stream: `return Action.PAUSE` or an `await`."""
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None and (
                ast.unparse(node.value).endswith("Action.PAUSE")):
            return node.lineno
        if isinstance(node, ast.Await):
            return node.lineno
    return None


def _file_gaps(path: Path) -> Iterator[Gap]:
    tree = ast.parse(path.read_bytes(), str(path))
    for cls in _context_classes(tree):
        for item in cls.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if item.name in _WASMX_CALLBACKS:
                yield Gap(WASMX, path, item.lineno, f"{cls.name}.{item.name}",
                          _WASMX_CALLBACKS[item.name])
            pause_line = _pauses(item) if item.name in _WASMX_NO_PAUSE else None
            if pause_line is not None:
                yield Gap(WASMX, path, pause_line, f"{cls.name}.{item.name} pauses",
                          "pausing (return PAUSE, or await) is not supported in this phase")
    for name, line in _calls(tree, _sdk_names(tree)):
        if name in _WASMX_CALLS:
            reason = _WASMX_CALLS[name]
            yield Gap(WASMX, path, line, name, reason, blocking=reason != _UPSTREAM_NOTE)


def gaps(filter_path: Path) -> list[Gap]:
    """Everything the filter uses that some host lacks, in file and line order, no repeats."""
    found = {gap for path in source_files(filter_path) for gap in _file_gaps(path)}
    return sorted(found, key=lambda gap: (str(gap.file), gap.line, gap.used))


# What a deployment must provide (used by `deploy wasmx`)

_SHARED_DATA_CALLS = frozenset(
    {"get_shared_data", "set_shared_data", "remove_shared_data", "update_shared_data"})
_QUEUE_NAME_ARGUMENT = {"register_shared_queue": 0, "resolve_shared_queue": 1}
_CALLOUT_CALLS = frozenset({"dispatch_http_call", "http_call"})


@dataclass(frozen=True)
class Use:
    """One use a proxy's configuration must provide for: where it is, and the literal string
    that names what it uses (a queue, an upstream), or None when the filter computes it."""

    file: Path
    line: int
    name: str | None

    def where(self) -> str:
        """``file:line`` of the use, the file relative to the working directory if inside it."""
        file = self.file.resolve()
        if file.is_relative_to(Path.cwd()):
            file = file.relative_to(Path.cwd())
        return f"{file}:{self.line}"


@dataclass
class Needs:
    """What the filter's source uses that a proxy must be configured for."""

    shared_data: list[Use]
    queues: list[Use]
    callouts: list[Use]
    tcp: list[Use]
    response_bodies: list[Use] = field(default_factory=list)
    """Where the filter holds a response body (PAUSE in ``on_http_response_body``, or the
    ``whole_http_response_body`` helper): WasmX must buffer it (wasm_response_body_buffers)."""


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments, to read arguments given as a constant."""
    found = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.update({target.id: value.value for target in targets
                          if isinstance(target, ast.Name)})
    return found


def _called_name(call: ast.Call, imported: set[str]) -> str | None:
    """The SDK function or method a call reaches (on self, proxywasm, hostcalls), or None."""
    function = call.func
    if isinstance(function, ast.Name):
        return function.id if function.id in imported else None
    if isinstance(function, ast.Attribute):
        owner = function.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if owner_name == "self" or owner_name in _SDK_MODULES:
            return function.attr
    return None


def _argument(call: ast.Call, index: int, keyword: str, constants: dict[str, str]) -> str | None:
    """The string argument at ``index`` (or named ``keyword``) if the source spells it out."""
    node = call.args[index] if len(call.args) > index else next(
        (item.value for item in call.keywords if item.arg == keyword), None)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _response_body_pauses(path: Path, tree: ast.Module) -> list[Use]:
    """``Action.PAUSE`` inside an ``on_http_response_body`` method: the body is held."""
    return [Use(path, node.lineno, None)
            for method in ast.walk(tree)
            if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
            and method.name == "on_http_response_body"
            for node in ast.walk(method)
            if isinstance(node, ast.Attribute) and node.attr == "PAUSE"]


def needs(filter_path: Path) -> Needs:
    """Scan the filter's source for shared data, queues (by name), HTTP callouts (by upstream)
    and TCP contexts: what a proxy configuration such as nginx's must set up for it."""
    found = Needs([], [], [], [])
    for path in source_files(filter_path):
        tree = ast.parse(path.read_bytes(), str(path))
        constants, imported = _constants(tree), _sdk_names(tree)
        for cls in _context_classes(tree, frozenset({"StreamContext"})):
            found.tcp.append(Use(path, cls.lineno, cls.name))
        for node in ast.walk(tree):
            name = _called_name(node, imported) if isinstance(node, ast.Call) else None
            if name is None or not isinstance(node, ast.Call):
                continue
            if name in _SHARED_DATA_CALLS:
                found.shared_data.append(Use(path, node.lineno, None))
            elif name in _QUEUE_NAME_ARGUMENT:
                queue = _argument(node, _QUEUE_NAME_ARGUMENT[name], "name", constants)
                found.queues.append(Use(path, node.lineno, queue))
            elif name in _CALLOUT_CALLS:
                upstream = _argument(node, 0, "upstream", constants)
                found.callouts.append(Use(path, node.lineno, upstream))
            elif name == "set_stream_context":
                found.tcp.append(Use(path, node.lineno, name))
            elif name == "whole_http_response_body":
                found.response_bodies.append(Use(path, node.lineno, None))
        found.response_bodies += _response_body_pauses(path, tree)
    for uses in (found.shared_data, found.queues, found.callouts, found.tcp,
                 found.response_bodies):
        uses.sort(key=lambda use: (str(use.file), use.line))
    return found
