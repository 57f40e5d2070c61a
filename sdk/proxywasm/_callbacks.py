"""Every Proxy-Wasm callback the module exports, declared once.

The runtime's C tables (``callback_table.h``, ``callback_exports.h``) are generated from
``CALLBACKS`` when the runtime is built, and the dispatcher looks entries up by name. Adding a
callback is one line here and one ``on_*`` function in ``_routes``.

Routes, the C helper each export goes through:

- ``call``: always the dispatcher function ``name``;
- ``stream``: an HTTP/TCP stream callback; answered CONTINUE in C when the context's class
  inherits ``method``, called on the context itself when it overrides it (unless a stream is
  held), else the dispatcher;
- ``inherited``: answered ``answer`` in C when the class inherits ``method``, else the
  dispatcher;
- ``create`` / ``delete``: the context's creation (records its inherited mask) and deletion.
"""

from __future__ import annotations

from .types import StreamType


class Callback:
    """One exported callback: ``proxy_<name>``, taking ``args`` u32 values."""

    __slots__ = ("answer", "args", "bit", "http", "method", "name", "returns", "route", "stream")

    def __init__(self, name: str, args: int, returns: bool, route: str = "call",
                 method: str = "", stream: StreamType | None = None, http: bool = False,
                 answer: int = 0) -> None:
        self.name = name
        self.args = args
        self.returns = returns
        self.route = route
        self.method = method
        """The context method the SDK's default of which the runtime may answer ('': none)."""
        self.stream = stream
        """The stream a PAUSE answer holds (stream callbacks only)."""
        self.http = http
        """Whether the context is an HttpContext (else a StreamContext), for ``method``."""
        self.answer = answer
        """The SDK default's answer, given by the runtime when the class inherits ``method``."""
        self.bit = -1
        """This callback's bit in the inherited mask (-1: not inheritable)."""


def _stream(name: str, args: int, method: str, stream: StreamType, http: bool) -> Callback:
    return Callback(name, args, True, "stream", method, stream, http)


def _inherited(name: str, args: int, returns: bool, method: str, http: bool = False,
               answer: int = 0) -> Callback:
    return Callback(name, args, returns, "inherited", method, None, http, answer)


_REQUEST, _RESPONSE = StreamType.HTTP_REQUEST, StreamType.HTTP_RESPONSE
_DOWNSTREAM, _UPSTREAM = StreamType.DOWNSTREAM, StreamType.UPSTREAM

CALLBACKS = (
    Callback("on_context_create", 2, False, "create"),
    Callback("on_vm_start", 2, True),
    Callback("on_configure", 2, True),
    Callback("on_tick", 1, False),
    Callback("on_queue_ready", 2, False),
    _inherited("on_done", 1, True, "on_done", answer=1),
    _inherited("on_log", 1, False, "on_log"),
    Callback("on_delete", 1, False, "delete"),
    _stream("on_request_headers", 3, "on_http_request_headers", _REQUEST, True),
    _stream("on_request_body", 3, "on_http_request_body", _REQUEST, True),
    _stream("on_request_trailers", 2, "on_http_request_trailers", _REQUEST, True),
    _stream("on_response_headers", 3, "on_http_response_headers", _RESPONSE, True),
    _stream("on_response_body", 3, "on_http_response_body", _RESPONSE, True),
    _stream("on_response_trailers", 2, "on_http_response_trailers", _RESPONSE, True),
    _stream("on_new_connection", 1, "on_new_connection", _DOWNSTREAM, False),
    _stream("on_downstream_data", 3, "on_downstream_data", _DOWNSTREAM, False),
    _stream("on_upstream_data", 3, "on_upstream_data", _UPSTREAM, False),
    _inherited("on_downstream_connection_close", 2, False, "on_downstream_close"),
    _inherited("on_upstream_connection_close", 2, False, "on_upstream_close"),
    Callback("on_http_call_response", 5, False),
    Callback("on_grpc_receive_initial_metadata", 3, False),
    Callback("on_grpc_receive", 3, False),
    Callback("on_grpc_receive_trailing_metadata", 3, False),
    Callback("on_grpc_close", 3, False),
    Callback("on_foreign_function", 3, False),
)

INHERITABLE = tuple(callback for callback in CALLBACKS if callback.method)
"""The callbacks of the inherited mask, bit i standing for ``INHERITABLE[i]``."""
for _bit, _callback in enumerate(INHERITABLE):
    _callback.bit = _bit
BY_NAME = {callback.name: callback for callback in CALLBACKS}
INHERITABLE_METHODS = frozenset(callback.method for callback in INHERITABLE)
ALL_INHERITED = (1 << len(INHERITABLE)) - 1
