"""The nginx configuration that runs a filter in Nginx WasmX (Kong's ngx_wasm_module).

What WasmX needs beyond `module` and `proxy_wasm` comes from the filter's source
(`compat.needs`) or from options: a `shm_kv *` zone for shared data and a `shm_queue` per
queue (without them `on_vm_start` traps and the worker dies), and a `resolver_add` for each
callout upstream that is a bare name (WasmX calls `NAME` as `NAME:80` and ignores nginx
`upstream {}` blocks). The filter sits in a location that proxies to an upstream: a `return`
there would answer before the filter's local response.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import compat
from .errors import PywasmFilterError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BARE_TOKEN = re.compile(r"^[A-Za-z0-9_./*:-]+$")
_SIZE = re.compile(r"^([0-9]+)([kKmM]?)$")
_MIN_SHM_BYTES = 15 * 1024
_UNITS = {"": 1, "k": 1024, "m": 1024 * 1024}
_BUFFERS = re.compile(r"^[1-9][0-9]* [1-9][0-9]*[kKmM]?$")
DEFAULT_RESPONSE_BODY_BUFFERS = "4 1m"
"""What `deploy wasmx` gives a filter that holds response bodies: up to 4 MiB per response."""
_INDENT = "    "
WASMX_WASMTIME = "26.0.0"
"""The Wasmtime ngx_wasm_module builds with (its Makefile and CHANGELOG at 3bed278)."""
CACHE_TOML = "wasmtime-cache.toml"
"""The cache configuration `--compile-cache` writes beside nginx.conf: not in the cache
directory, where Wasmtime's cleanup deletes the files it did not write."""


class NginxError(PywasmFilterError):
    """A filter or option the generated nginx configuration cannot serve, and what to do."""


@dataclass
class WasmxOptions:
    """What the nginx configuration needs besides the module; see `deploy wasmx --help`."""

    module_path: Path
    name: str
    configuration: str = ""
    vm_configuration: str = ""
    port: int = 10000
    listen_address: str = "0.0.0.0"
    upstream: tuple[str, int] | None = None
    """(host, port) to proxy to; None: a backend server in the same nginx on ``port + 1``."""
    shared_data: bool = False
    queues: Sequence[str] = ()
    callouts: Mapping[str, str] = field(default_factory=dict)
    """Upstream name -> the IP address WasmX should call it at (port 80 for a bare name)."""
    shm_size: str = "1m"
    response_body_buffers: str = ""
    """``NUMBER SIZE`` for wasm_response_body_buffers in the location ("": nginx's default,
    4 buffers of 4096 bytes): the most of a response body WasmX holds while the filter pauses it."""
    compile_cache: Path | None = None
    """Absolute directory for Wasmtime's compilation cache (None: every worker compiles)."""
    cache_config: Path | None = None
    """Absolute path of the cache configuration (`cache_toml`) that nginx.conf points to."""
    notes: list[str] = field(default_factory=list)
    """Comments for the reader: what was found in the filter and why a line is there."""


def nginx_string(text: str) -> str:
    """``text`` as one single-quoted nginx token (``'`` and ``\\`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _token(text: str) -> str:
    """``text`` as one nginx token: bare when it is plain, else quoted."""
    return text if _BARE_TOKEN.match(text) else nginx_string(text)


def _check_size(size: str) -> None:
    match = _SIZE.match(size)
    if match is None or int(match[1]) * _UNITS[match[2].lower()] < _MIN_SHM_BYTES:
        raise NginxError(f"shared memory size '{size}': write at least 15k, e.g. 64k or 1m")


def cache_toml(directory: Path, *, enabled_key: bool = True) -> str:
    """Wasmtime's cache configuration keeping compiled modules in ``directory``. Wasmtime 26
    (WasmX's) up to 32 require `enabled = true`; 33 and later (wasmtime-py 50 here) refuse the
    key: ``enabled_key=False`` for them."""
    _check_cache_path("--compile-cache", directory)
    escaped = str(directory).replace("\\", "\\\\").replace('"', '\\"')
    lines = ["# Wasmtime's compilation cache for Nginx WasmX (pywasm-filter deploy wasmx "
             "--compile-cache)", "[cache]"]
    if enabled_key:
        lines.append(f"enabled = true  # Wasmtime {WASMX_WASMTIME} needs it, 33 and up refuse it")
    lines.append(f'directory = "{escaped}"')
    return "\n".join(lines) + "\n"


def _check_cache_path(option: str, path: Path) -> None:
    if not path.is_absolute():
        raise NginxError(f"{option} {path}: write an absolute path, e.g. {option} "
                         f"{Path.cwd() / path} (Wasmtime refuses a relative cache directory, "
                         "and nginx's working directory is not this one)")
    if any(ord(char) < 32 or ord(char) == 127 for char in str(path)):
        raise NginxError(f"{option} {str(path)!r}: a path without control characters, please")


def _check_cache(options: WasmxOptions) -> None:
    directory, config = options.compile_cache, options.cache_config
    if directory is None:
        return
    _check_cache_path("--compile-cache", directory)
    if directory.exists() and not directory.is_dir():
        raise NginxError(f"--compile-cache {directory}: that is a file; give a directory "
                         "(Wasmtime creates it when its parent lets it)")
    if config is None:
        raise NginxError("--compile-cache needs the path of Wasmtime's cache configuration file")
    _check_cache_path("the cache configuration", config)
    if config.is_relative_to(directory):
        raise NginxError(f"{config} is inside --compile-cache {directory}: Wasmtime's cleanup "
                         "deletes files it did not write there; write nginx.conf elsewhere or "
                         "pick another cache directory")


def _upstream_host(upstream: str) -> str:
    """The host part of a WasmX callout upstream ``host[:port]`` (``[v6]:port`` too)."""
    if upstream.startswith("["):
        return upstream[1:].split("]", 1)[0]
    host, colon, port = upstream.rpartition(":")
    return host if colon and port.isdigit() else upstream


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def apply_needs(options: WasmxOptions, needs: compat.Needs) -> None:
    """Add what the filter's source uses to ``options``; refuse what WasmX cannot run."""
    if needs.tcp:
        use = needs.tcp[0]
        raise NginxError(
            f"{use.where()}: {use.name} makes this a TCP (stream) filter, and Nginx WasmX runs "
            "Proxy-Wasm filters on HTTP only (proxy_wasm is not allowed in stream {}): deploy "
            "it to Envoy (pywasm-filter deploy envoy)")
    if needs.shared_data:
        options.shared_data = True
        options.notes.append(f"{needs.shared_data[0].where()} uses shared data: shm_kv *")
    queues = list(options.queues)
    for use in needs.queues:
        if use.name is None and not options.queues:
            raise NginxError(f"{use.where()}: the queue name is computed at run time; give "
                             "it with --shm-queue NAME (one shm_queue zone per queue)")
        if use.name is not None and use.name not in queues:
            queues.append(use.name)
            options.notes.append(f"{use.where()} uses queue '{use.name}': shm_queue")
    options.queues = queues
    for use in needs.callouts:
        _callout_need(options, use)
    if needs.response_bodies:
        options.response_body_buffers = (options.response_body_buffers
                                         or DEFAULT_RESPONSE_BODY_BUFFERS)
        options.notes.append(
            f"{needs.response_bodies[0].where()} holds the response body: WasmX buffers at "
            f"most wasm_response_body_buffers ({options.response_body_buffers}); a larger body "
            "reaches the filter in parts it cannot hold (--response-body-buffers)")


def _callout_need(options: WasmxOptions, use: compat.Use) -> None:
    if use.name is None:
        options.notes.append(f"{use.where()} calls an upstream computed at run time: WasmX "
                             "takes HOST:PORT; map bare names with --callout NAME=IP")
        return
    host = _upstream_host(use.name)
    port = "80" if host == use.name else use.name.rpartition(":")[2]
    if _is_ip(host) or "." in host:
        options.notes.append(f"{use.where()} calls '{use.name}' (an address or DNS name)")
        return
    if host not in options.callouts:
        raise NginxError(
            f"{use.where()}: the filter calls upstream '{use.name}'; WasmX connects to "
            f"{host}:{port} (nginx upstream {{}} blocks are not used): give the address "
            f"serving it with --callout {host}=IP")
    options.notes.append(f"{use.where()} calls '{use.name}': WasmX connects to {host}:{port}, "
                         "found by resolver_add")


def _check(options: WasmxOptions) -> None:
    if not _NAME.match(options.name):
        raise NginxError(f"module name '{options.name}': nginx needs letters, digits and '_' "
                         "only (--name)")
    for name, address in options.callouts.items():
        if not _is_ip(address):
            raise NginxError(f"--callout {name}={address}: resolver_add maps a name to an IP "
                             f"address; write e.g. --callout {name}=127.0.0.1")
    if options.shared_data or options.queues:
        _check_size(options.shm_size)
    if options.response_body_buffers and not _BUFFERS.match(options.response_body_buffers):
        raise NginxError(f"response body buffers '{options.response_body_buffers}': write "
                         "NUMBER SIZE, e.g. '4 1m' (four buffers of 1 MiB)")
    backend = options.port + 1 if options.upstream is None else options.upstream[1]
    for what, port in (("listener port", options.port), ("backend port", backend)):
        if not 1 <= port <= 65535:
            raise NginxError(f"{what} {port} is out of range: use 1 to 65535 (--port)")
    _check_cache(options)


def _wasm_block(options: WasmxOptions) -> list[str]:
    module = f"module {options.name} {_token(str(options.module_path))}"
    if options.vm_configuration:
        module += f" {nginx_string(options.vm_configuration)}"
    lines = ["wasm {", f"{_INDENT}{module};"]
    if options.shared_data:
        lines.append(f"{_INDENT}shm_kv * {options.shm_size};")
    lines += [f"{_INDENT}shm_queue {_token(queue)} {options.shm_size};"
              for queue in options.queues]
    if options.cache_config is not None:
        lines += [f"{_INDENT}# compiled modules go to {options.compile_cache} (see the file): "
                  "nginx's worker user must be able to write there",
                  f"{_INDENT}wasmtime {{",
                  f"{_INDENT * 2}cache_config {_token(str(options.cache_config))};",
                  f"{_INDENT}}}"]
    return [*lines, "}"]


def _location(options: WasmxOptions) -> list[str]:
    directive = f"proxy_wasm {options.name}"
    if options.configuration:
        directive += f" {nginx_string(options.configuration)}"
    host, port = options.upstream or ("127.0.0.1", options.port + 1)
    host = f"[{host}]" if ":" in host else host
    buffers = ([f"{_INDENT}wasm_response_body_buffers {options.response_body_buffers};"]
               if options.response_body_buffers else [])
    return ["location / {", f"{_INDENT}{directive};", *buffers,
            f"{_INDENT}proxy_pass http://{host}:{port};", "}"]


def _resolver_lines(options: WasmxOptions) -> list[str]:
    return [f"resolver_add {address} {name};"
            for name, address in sorted(options.callouts.items())]


def _indented(lines: list[str], depth: int) -> list[str]:
    return [f"{_INDENT * depth}{line}" if line else "" for line in lines]


def snippet(options: WasmxOptions) -> str:
    """The pieces to add to an existing nginx.conf, each under a comment saying where."""
    _check(options)
    if options.upstream is None:
        raise NginxError("--snippet needs --upstream http://HOST:PORT: the filter's location "
                         "proxies to it (a `return` there would answer before the filter)")
    parts = ["# main context (beside events {} and http {}):", *_wasm_block(options), ""]
    if options.callouts:
        parts += ["# inside http {}:", *_resolver_lines(options), ""]
    parts += ["# inside a server {} (the filter runs for the requests this location proxies):",
              *_location(options)]
    return "\n".join(_notes(options) + parts) + "\n"


def nginx_conf(options: WasmxOptions) -> str:
    """A complete nginx.conf: the module, the filter in front of a proxied upstream (a backend
    server in the same nginx unless ``options.upstream``), logs to stderr, in the foreground."""
    _check(options)
    server = [f"listen {options.listen_address}:{options.port};", *_location(options)]
    http = [*_resolver_lines(options), "access_log off;", "", "server {",
            *_indented(server, 1), "}"]
    if options.upstream is None:
        backend = [f"listen 127.0.0.1:{options.port + 1};", "location / {",
                   f"{_INDENT}return 200 'hello from the nginx backend\\n';", "}"]
        http += ["", "# the backend the filter's location proxies to (--upstream replaces it)",
                 "server {", *_indented(backend, 1), "}"]
    lines = [
        "# nginx.conf for Nginx WasmX: nginx -p DIR -c nginx.conf (DIR holds logs/ for the pid)",
        *_notes(options),
        "daemon off;",
        f"worker_processes 1;  # {_load_note(options)}",
        "error_log stderr info;",
        "pid logs/nginx.pid;",
        "",
        "events {}",
        "",
        *_wasm_block(options),
        "",
        "http {", *_indented(http, 1), "}",
    ]
    return "\n".join(lines) + "\n"


def _load_note(options: WasmxOptions) -> str:
    if options.compile_cache is None:
        return ("each worker compiles the module as it starts (seconds, tens of MiB; "
                "--compile-cache saves it)")
    return "a worker loads the module from Wasmtime's cache once one has compiled it"


def _notes(options: WasmxOptions) -> list[str]:
    return [f"# {note}" for note in options.notes]
