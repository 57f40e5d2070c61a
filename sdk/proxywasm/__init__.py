"""Write Proxy-Wasm filters in typed Python; the API mirrors the Rust SDK in snake_case.

A filter module registers its contexts at module level, like Rust's ``proxy_wasm::main!``::

    import proxywasm

    class Filter(proxywasm.HttpContext):
        def on_http_request_headers(self, num_headers, end_of_stream):
            self.set_http_request_header("x-filtered", "yes")
            return proxywasm.Action.CONTINUE

    proxywasm.set_http_context(Filter)
"""

from __future__ import annotations

from . import hostcalls
from ._contexts import registered, set_http_context, set_root_context, set_stream_context
from ._log import (
    log,
    log_critical,
    log_debug,
    log_error,
    log_info,
    log_trace,
    log_warn,
    set_log_level,
)
from .callouts import (
    CalloutError,
    GrpcCallError,
    GrpcResponse,
    HttpCallError,
    HttpResponse,
    PendingGrpcCall,
    PendingHttpCall,
)
from .context import Context, RootContext
from .errors import (
    BadArgumentError,
    CallbackTimeout,
    CasMismatchError,
    ConfigError,
    EmptyError,
    HostCallError,
    HostCallUnavailableError,
    InternalFailureError,
    InvalidMemoryAccessError,
    NotFoundError,
    ParseError,
    SerializationError,
    UnimplementedError,
)
from .http import HttpContext
from .metrics import Counter, Gauge, Histogram
from .stream import StreamContext
from .types import (
    Action,
    BufferType,
    ContextType,
    GrpcStatusCode,
    LogLevel,
    MapType,
    MetricType,
    PeerType,
    Status,
    StreamType,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._gather import gather
else:
    def gather(*calls, return_exceptions=False):
        """Await calls made with ``self.http_call``/``self.grpc_call`` together: their results
        in argument order once all answered (``return_exceptions=True``: failures as results).
        """
        # A module carries proxywasm._gather only when its filter names `gather` (linking.py).
        from proxywasm._gather import gather

        return gather(*calls, return_exceptions=return_exceptions)


__all__ = [
    "Action",
    "BadArgumentError",
    "BufferType",
    "CallbackTimeout",
    "CalloutError",
    "CasMismatchError",
    "ConfigError",
    "Context",
    "ContextType",
    "Counter",
    "EmptyError",
    "Gauge",
    "GrpcCallError",
    "GrpcResponse",
    "GrpcStatusCode",
    "Histogram",
    "HostCallError",
    "HostCallUnavailableError",
    "HttpCallError",
    "HttpContext",
    "HttpResponse",
    "InternalFailureError",
    "InvalidMemoryAccessError",
    "LogLevel",
    "MapType",
    "MetricType",
    "NotFoundError",
    "ParseError",
    "PeerType",
    "PendingGrpcCall",
    "PendingHttpCall",
    "RootContext",
    "SerializationError",
    "Status",
    "StreamContext",
    "StreamType",
    "UnimplementedError",
    "gather",
    "hostcalls",
    "log",
    "log_critical",
    "log_debug",
    "log_error",
    "log_info",
    "log_trace",
    "log_warn",
    "registered",
    "set_http_context",
    "set_log_level",
    "set_root_context",
    "set_stream_context",
]
