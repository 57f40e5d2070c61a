"""Test Proxy-Wasm filters without a proxy: a host emulator with two engines.

``Host.from_source(path)`` runs the filter's Python source in this interpreter (milliseconds,
breakpoints work); ``Host.from_wasm(path)`` runs the module ``pywasm-filter build`` made, in
wasmtime. Both drive the same emulated host, so one test can run in both. The host plays
Envoy, or Nginx WasmX with ``host="wasmx"`` (or ``host=wasmx(shm_kv=True, ...)``).
Development only: this package is never bundled into a module.
"""

from __future__ import annotations

from .attributes import PropertyValue
from .contexts import ProxyState
from .foreign import ENVOY_FOREIGN_FUNCTIONS, envoy_compress, envoy_uncompress
from .host import FilterError, Host, HostOptions
from .interfaces import WASMX, HostFunction, HostInterface
from .profiles import (
    ENVOY,
    HostLinkError,
    HostProfile,
    HostTrap,
    UnsupportedByHostError,
    wasmx,
)
from .records import (
    GrpcCall,
    GrpcStream,
    HeaderList,
    HostStatusError,
    HttpCall,
    LocalResponse,
    LogRecord,
    Metric,
    Plugin,
)
from .streams import (
    DEFAULT_REQUEST_HEADERS,
    DEFAULT_RESPONSE_HEADERS,
    HttpStream,
    StreamHost,
    TcpConnection,
)

__all__ = [
    "DEFAULT_REQUEST_HEADERS",
    "DEFAULT_RESPONSE_HEADERS",
    "ENVOY",
    "ENVOY_FOREIGN_FUNCTIONS",
    "WASMX",
    "FilterError",
    "GrpcCall",
    "GrpcStream",
    "HeaderList",
    "Host",
    "HostFunction",
    "HostInterface",
    "HostLinkError",
    "HostOptions",
    "HostProfile",
    "HostStatusError",
    "HostTrap",
    "HttpCall",
    "HttpStream",
    "LocalResponse",
    "LogRecord",
    "Metric",
    "Plugin",
    "PropertyValue",
    "ProxyState",
    "StreamHost",
    "TcpConnection",
    "UnsupportedByHostError",
    "envoy_compress",
    "envoy_uncompress",
    "wasmx",
]
