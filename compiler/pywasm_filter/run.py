"""One request through a filter in the emulator, and what the filter did (`pywasm-filter run`).

The request, the upstream's response, the configuration and the answers to HTTP and gRPC calls
come from a small YAML/JSON file and ``Overrides`` (the command's options); the report lists
each phase's action, header changes, local responses, callouts and the filter's log lines.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from proxywasm import Action
from proxywasm.testing import FilterError, Host, HttpStream

from . import linking
from .build import build
from .errors import PywasmFilterError

Pairs = list[tuple[str, str]]
Print = Callable[[str], None]
_INPUT_KEYS = frozenset({
    "method", "path", "authority", "headers", "body", "config", "vm_config", "properties",
    "response", "http_calls", "grpc_calls",
})


@dataclass
class Scenario:
    """One request and everything the proxy around the filter answers."""

    method: str = "GET"
    path: str = "/"
    authority: str = "example.com"
    headers: Pairs = field(default_factory=list)
    body: bytes | None = None
    configuration: bytes = b""
    vm_configuration: bytes = b""
    properties: dict[Sequence[str] | str, bytes | str] = field(default_factory=dict)
    response_status: int = 200
    response_headers: Pairs = field(default_factory=list)
    response_body: bytes | None = None
    http_calls: list[dict[str, Any]] = field(default_factory=list)
    grpc_calls: list[dict[str, Any]] = field(default_factory=list)

    def request_headers(self) -> Pairs:
        """The request's pseudo-headers followed by its other headers."""
        return [(":method", self.method), (":path", self.path),
                (":authority", self.authority), (":scheme", "http"), *self.headers]


def _pairs(value: object, where: str) -> Pairs:
    if isinstance(value, dict):
        return [(str(name), str(item)) for name, item in value.items()]
    if isinstance(value, list) and all(isinstance(item, list | tuple) and len(item) == 2
                                       for item in value):
        return [(str(name), str(item)) for name, item in value]
    raise PywasmFilterError(f"{where}: error: headers must be a mapping or a list of "
                            "[name, value] pairs")


def _data(value: object) -> bytes:
    if isinstance(value, dict | list):
        return json.dumps(value).encode()
    return str(value).encode()


def _load_input(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise PywasmFilterError(f"{path}: error: cannot read the input file: {error}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise PywasmFilterError(f"{path}: error: the input must be a mapping of "
                                f"{', '.join(sorted(_INPUT_KEYS))}")
    unknown = set(loaded) - _INPUT_KEYS
    if unknown:
        raise PywasmFilterError(f"{path}: error: unknown keys {sorted(unknown)}\n"
                                f"  fix: use only {', '.join(sorted(_INPUT_KEYS))}")
    return loaded


@dataclass
class Overrides:
    """What is given besides the input file: set fields win over the file, headers are added."""

    method: str | None = None
    path: str | None = None
    headers: Pairs = field(default_factory=list)
    body: bytes | None = None
    configuration: bytes | None = None
    vm_configuration: bytes | None = None
    response_status: int | None = None
    response_headers: Pairs = field(default_factory=list)
    response_body: bytes | None = None


def scenario_from(input_path: Path | None, overrides: Overrides) -> Scenario:
    """Merge the input file (if any) and the overrides into one scenario."""
    given = _load_input(input_path) if input_path else {}
    where = str(input_path)
    scenario = Scenario()
    scenario.method = str(overrides.method or given.get("method", scenario.method))
    scenario.path = str(overrides.path or given.get("path", scenario.path))
    scenario.authority = str(given.get("authority", scenario.authority))
    scenario.headers = _pairs(given.get("headers", {}), where) + overrides.headers
    if overrides.body is not None:
        scenario.body = overrides.body
    elif "body" in given:
        scenario.body = _data(given["body"])
    if overrides.configuration is not None:
        scenario.configuration = overrides.configuration
    elif "config" in given:
        scenario.configuration = _data(given["config"])
    if overrides.vm_configuration is not None:
        scenario.vm_configuration = overrides.vm_configuration
    elif "vm_config" in given:
        scenario.vm_configuration = _data(given["vm_config"])
    scenario.properties = {str(key): str(value)
                           for key, value in dict(given.get("properties") or {}).items()}
    response = dict(given.get("response") or {})
    scenario.response_status = int(overrides.response_status or response.get("status", 200))
    scenario.response_headers = (_pairs(response.get("headers", {}), where)
                                 + overrides.response_headers)
    if overrides.response_body is not None:
        scenario.response_body = overrides.response_body
    elif "body" in response:
        scenario.response_body = _data(response["body"])
    scenario.http_calls = list(given.get("http_calls") or [])
    scenario.grpc_calls = list(given.get("grpc_calls") or [])
    return scenario


def header_diff(before: Pairs, after: Pairs) -> list[str]:
    """Lines describing how a header list changed: + added, - removed, ~ changed."""
    old, new = dict(before), dict(after)
    lines = [f"  - {name}: {value}" for name, value in before if name not in new]
    for name, value in after:
        if name not in old:
            lines.append(f"  + {name}: {value}")
        elif old[name] != value:
            lines.append(f"  ~ {name}: {old[name]} -> {value}")
    return lines


@contextmanager
def _module(filter_path: Path, engine: str | None,
            import_paths: Sequence[Path]) -> Iterator[tuple[Path, str]]:
    """The path and engine to run: a .wasm as is, a .py from source (with ``import_paths``
    first on sys.path, where the build would look for packages) or freshly built."""
    if filter_path.suffix == ".wasm":
        if engine == "source":
            raise PywasmFilterError(f"{filter_path}: error: a .wasm runs only in the wasm engine")
        yield filter_path, "wasm"
        return
    if engine != "wasm":
        added = [str(path.resolve()) for path in import_paths]
        sys.path[:0] = added
        try:
            yield filter_path, "source"
        finally:
            del sys.path[:len(added)]
        return
    with tempfile.TemporaryDirectory(prefix="pywasm-run-") as workdir:
        yield build(filter_path, Path(workdir) / "filter.wasm", paths=import_paths).output, "wasm"


def _open_host(path: Path, engine: str, scenario: Scenario) -> Host:
    try:
        return Host(path, engine, plugin_configuration=scenario.configuration,
                    vm_configuration=scenario.vm_configuration,
                    properties=scenario.properties, raise_filter_errors=False,
                    link=linking.SourceLink(path) if engine == "source" else None)
    except SyntaxError as error:
        raise PywasmFilterError(f"{error.filename}:{error.lineno}: error: syntax error: "
                                f"{error.msg}") from None
    except (ImportError, RuntimeError, ValueError, OSError) as error:
        raise PywasmFilterError(f"{path}: error: cannot load the filter: {error}") from None
    except Exception as error:
        text = "".join(traceback.format_exception(error))
        raise PywasmFilterError(f"{path}: error: importing the filter raised:\n{text}") from None


def _answer_callouts(host: Host, scenario: Scenario, show: Print) -> None:
    """Answer the filter's HTTP and gRPC calls with the scenario's answers, in order."""
    while host.http_calls or host.grpc_calls:
        if host.http_calls:
            call = host.http_calls[0]
            show(f"http call #{call.token} to {call.upstream}: {call.headers.get(':method')} "
                 f"{call.headers.get(':path')} (authority {call.headers.get(':authority')}, "
                 f"body {len(call.body)} bytes, timeout {call.timeout_ms} ms)")
            if not scenario.http_calls:
                show("  no answer given (add http_calls to --input); it stays pending")
                return
            answer = scenario.http_calls.pop(0)
            status = int(answer.get("status", 200))
            show(f"  answered {status}")
            host.respond_http_call(call, status, _pairs(answer.get("headers", {}), "http_calls"),
                                   _data(answer.get("body", "")))
            continue
        grpc = host.grpc_calls[0]
        show(f"grpc call #{grpc.token} to {grpc.upstream}: {grpc.service}/{grpc.method} "
             f"(message {len(grpc.message)} bytes)")
        if not scenario.grpc_calls:
            show("  no answer given (add grpc_calls to --input); it stays pending")
            return
        reply = scenario.grpc_calls.pop(0)
        show(f"  answered status {int(reply.get('status', 0))}")
        host.respond_grpc_call(grpc, _data(reply.get("message", "")),
                               int(reply.get("status", 0)), str(reply.get("status_message", "")))


def _phase(show: Print, name: str, action: Action, before: Pairs, after: Pairs) -> None:
    show(f"{name} -> {action.name}")
    for line in header_diff([(key.lower(), value) for key, value in before], after):
        show(line)


def _drive(host: Host, stream: HttpStream, scenario: Scenario, show: Print) -> None:
    sent = scenario.request_headers()
    action = stream.send_request_headers(sent, end_of_stream=scenario.body is None)
    _phase(show, "request headers", action, sent, stream.request_headers)
    _answer_callouts(host, scenario, show)
    if scenario.body is not None and stream.local_response is None and not stream.reset:
        action = stream.send_request_body(scenario.body, end_of_stream=True)
        show(f"request body -> {action.name} ({len(scenario.body)} bytes in, "
             f"{len(stream.request_body)} bytes to the upstream)")
        _answer_callouts(host, scenario, show)
    reply = stream.local_response
    if reply is not None:
        show(f"local response: {reply.status}" + (f" ({reply.details})" if reply.details else ""))
        for name, value in reply.headers:
            show(f"  {name}: {value}")
        show(f"  body: {reply.body!r}")
    elif stream.reset:
        show("the filter reset the stream")
    elif stream.request_paused:
        show("the request is paused: the filter never resumed it")
    else:
        response = [(":status", str(scenario.response_status)), *scenario.response_headers]
        action = stream.send_response_headers(response,
                                              end_of_stream=scenario.response_body is None)
        _phase(show, "response headers", action, response, stream.response_headers)
        if scenario.response_body is not None and not stream.reset:
            action = stream.send_response_body(scenario.response_body, end_of_stream=True)
            show(f"response body -> {action.name} ({len(scenario.response_body)} bytes in, "
                 f"{len(stream.response_body)} bytes to the client)")
    show("client receives:")
    for name, value in stream.response_headers:
        show(f"  {name}: {value}")
    show(f"  body: {stream.response_body!r}")
    stream.complete()


def run(filter_path: Path, scenario: Scenario, engine: str | None, show: Print,
        import_paths: Sequence[Path] = ()) -> int:
    """Drive the scenario through the filter, printing what happened; 1 if it failed.
    ``import_paths`` are more directories holding its packages (``build --path``)."""
    with _module(filter_path, engine, import_paths) as (path, chosen):
        host = _open_host(path, chosen, scenario)
        show(f"filter {filter_path} ({chosen} engine)")
        status = 0
        try:
            if not host.start():
                show("start: the plugin refused to start (on_vm_start or on_configure)")
                status = 1
            else:
                _drive(host, host.new_http_stream(), scenario, show)
        except FilterError as error:
            show(str(error))
            status = 1
        finally:
            show("logs:")
            for record in host.log_records:
                show(f"  [{record.level.name.lower()}] {record.message}")
            host.close()
    return 1 if host.failures else status
