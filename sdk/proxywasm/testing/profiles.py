"""Host profiles: which proxy the emulator plays, Envoy (the default) or Nginx WasmX.

Everything the emulator does differently per proxy is a field of ``HostProfile``, so the engines
and the host state ask the profile and never test a host's name. The WasmX facts come from
ngx_wasm_module (commit 3bed278) as measured in a real nginx (project issue 10).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .interfaces import WASMX, HostInterface

STUB_TRAP = "host trap (function not yet implemented): {name}"
MISSING_FUNCTION = 'failed importing "{module}.{name}": missing host function'


class HostTrap(BaseException):
    """The proxy trapped the instance: the filter cannot catch it (it is no ``Exception``);
    the Host reports it as a ``FilterError`` in the proxy's words."""


class HostLinkError(Exception):
    """The proxy refuses to load the module (an import it lacks, or of another type)."""


class UnsupportedByHostError(RuntimeError):
    """The test asked the emulated proxy for something that proxy never does (e.g. a TCP
    connection in WasmX)."""


@dataclass(frozen=True)
class HostProfile:
    """What one proxy does where proxies differ; ``ENVOY`` and ``wasmx()`` are the profiles."""

    name: str
    """Short name, as given to ``Host(..., host=name)``."""
    label: str
    """The proxy's name in messages."""
    interface: HostInterface | None = None
    """The functions the proxy links; None: every ABI 0.2.1 function (Envoy)."""
    host_interface: str = ""
    """What the proxy calls its host interface in link errors."""
    lowercases_headers: bool = True
    """Envoy stores header names lower-cased; nginx keeps the client's (and filter's) casing."""
    local_body_suffix: bytes = b""
    """Appended to a non-empty local-response body (nginx adds a newline)."""
    server_name: str | None = None
    """When set, ``:authority`` is this server name, not the client's Host (nginx)."""
    string_properties: bool = False
    """Properties are answered as text (nginx), not Envoy's binary integers."""
    counters_only_increment: bool = False
    """WasmX's metric rules: ``proxy_increment_metric`` adds any delta to a counter and traps
    on a gauge or histogram, ``proxy_record_metric`` traps on a counter (Envoy adds to it)."""
    callout_host_port: bool = False
    """An HTTP call's upstream is host[:port] (port 80 by default) that must resolve (nginx),
    not a cluster name."""
    resolvable: frozenset[str] = frozenset()
    """Host names nginx resolves (``resolver_add``) besides IP literals and localhost."""
    shm_declared: bool = False
    """Shared data and queues need the shm zones the nginx configuration declares (below)."""
    shm_kv: frozenset[str] = frozenset()
    """The ``shm_kv NAME SIZE;`` zones declared: ``*`` holds every key, a zone ``NAME`` the
    keys ``NAME/...``."""
    shm_queues: frozenset[str] = frozenset()
    """Queue names with a ``shm_queue NAME SIZE;`` declaration."""
    start_failure_exits_worker: bool = False
    """A failed on_vm_start/on_configure ends the worker (no request is served), as nginx."""
    tcp: bool = True
    """TCP (stream) filters run; nginx refuses ``proxy_wasm`` in ``stream{}``."""
    trailers: bool = True
    """The trailers callbacks are called."""
    grpc: bool = True
    """gRPC calls and streams exist (WasmX's are stubs that trap)."""
    queue_ready: bool = True
    """An item enqueued wakes the queue's owner with on_queue_ready (WasmX never calls it)."""
    foreign_functions: frozenset[str] | None = None
    """The foreign function names the proxy knows (calling another traps); None: whatever the
    test registers, as Envoy's are."""
    headers_end_of_stream: bool = True
    """The header callbacks say end_of_stream when no body follows (WasmX always says false)."""
    request_body_whole: bool = False
    """The proxy reads the whole request body first, then calls on_request_body once with
    end_of_stream, and not at all for an empty body (nginx)."""
    response_body_buffers: int | None = None
    """Bytes the proxy buffers once on_response_body returns PAUSE (WasmX's
    ``wasm_response_body_buffers``): then it calls the filter again, without end_of_stream
    when they are full, and treats another PAUSE as CONTINUE. None: the response is held
    while the filter pauses (Envoy)."""
    requires_exports: bool = False
    """The proxy calls every HTTP step callback without checking the module exports it (a
    missing one crashes the nginx worker)."""
    dispatch_callbacks: frozenset[str] | None = None
    """The callbacks (exports) that may dispatch an HTTP call; elsewhere it traps (WasmX).
    None: any."""
    tick_period_once: bool = False
    """``proxy_set_tick_period_milliseconds`` traps outside a root context and while a period
    is set (only 0, which stops the timer, may follow one): WasmX."""
    plugin_root_id: str | None = None
    """The proxy's ``plugin_root_id``; None: the plugin's configured root id (Envoy). WasmX
    answers a context number: ``0`` (its own tests read digits, ``0`` in on_tick)."""
    plugin_vm_id: bool = True
    """``plugin_vm_id`` is answered (WasmX: not implemented, not found)."""
    effective_context: bool = True
    """``proxy_set_effective_context`` chooses the context later host calls act on, and a
    callout's answer is reported to the plugin's root context (Envoy). False: it answers OK and
    does nothing; host calls act on the context whose callback runs, a callout's answer on the
    context that made the call (WasmX)."""
    root_stream_calls_crash: bool = False
    """A root context's callback (on_tick, the answer to its own callout) that reads or resumes
    a request crashes the worker: the proxy looks for the request of a context that has none
    (WasmX; setting a header in on_tick traps instead)."""


ENVOY = HostProfile("envoy", "Envoy")
_WASMX_DISPATCH_CALLBACKS = frozenset({
    "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_tick",
    "proxy_on_http_call_response", "proxy_on_foreign_function",
})
_LOCAL_NAMES = frozenset({"localhost"})


def wasmx(*, shm_kv: bool | Iterable[str] = False, shm_queues: Iterable[str] = (),
          resolver: Iterable[str] = (), server_name: str = "localhost",
          foreign_functions: Iterable[str] = (),
          response_body_buffers: int = 4 * 4096) -> HostProfile:
    """The Nginx WasmX profile for an nginx.conf declaring ``shm_kv *`` (``shm_kv=True``) or
    the ``shm_kv`` zones named, a ``shm_queue`` per name in ``shm_queues``, ``resolver_add``
    for the names in ``resolver``, and ``server_name``; ``foreign_functions`` are the names its
    build provides (none by default: ngx_wasm_module's only one needs its Lua bridge);
    ``response_body_buffers`` the bytes of ``wasm_response_body_buffers`` (4 x 4096 unless
    the location sets it)."""
    return HostProfile(
        "wasmx", WASMX.name, WASMX, "ngx_proxy_wasm", lowercases_headers=False,
        local_body_suffix=b"\n",
        server_name=server_name, string_properties=True, counters_only_increment=True,
        callout_host_port=True, resolvable=_LOCAL_NAMES | frozenset(resolver),
        shm_declared=True,
        shm_kv=frozenset({"*"} if shm_kv is True else () if shm_kv is False else shm_kv),
        shm_queues=frozenset(shm_queues),
        start_failure_exits_worker=True, tcp=False, trailers=False, grpc=False,
        queue_ready=False,
        foreign_functions=frozenset(foreign_functions),
        headers_end_of_stream=False, request_body_whole=True,
        response_body_buffers=response_body_buffers, requires_exports=True,
        dispatch_callbacks=_WASMX_DISPATCH_CALLBACKS, tick_period_once=True,
        plugin_root_id="0", plugin_vm_id=False, effective_context=False,
        root_stream_calls_crash=True,
    )


def host_profile(host: str | HostProfile) -> HostProfile:
    """The profile for ``host``: a profile as is, or "envoy" / "wasmx" (no shm zones)."""
    if isinstance(host, HostProfile):
        return host
    if host == "envoy":
        return ENVOY
    if host == "wasmx":
        return wasmx()
    raise ValueError(f"unknown host {host!r}: use 'envoy', 'wasmx', or a profile such as "
                     "proxywasm.testing.wasmx(shm_kv=True)")


def resolves(profile: HostProfile, host: str) -> bool:
    """Whether nginx resolves ``host`` (an IP literal, localhost or a ``resolver_add`` name)."""
    if host in profile.resolvable:
        return True
    if host.startswith("[") and host.endswith("]"):
        return True
    parts = host.split(".")
    return len(parts) == 4 and all(part.isdigit() and int(part) < 256 for part in parts)
