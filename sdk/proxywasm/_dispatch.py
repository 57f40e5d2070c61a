"""The callback router: the runtime calls these functions by name, with int arguments.

Each ``on_*`` function is one Proxy-Wasm callback of ``_callbacks.CALLBACKS``: it looks the
context up by id, makes it the effective one when the host reported to another, calls the
matching method, and never lets an exception reach the runtime (``_failure`` decides what a
failing callback does). The runtime answers inherited callbacks itself and calls overridden
stream callbacks on the context directly, handing any answer but CONTINUE to ``finish_direct``.
"""

from __future__ import annotations

from ._callbacks import BY_NAME, INHERITABLE, Callback
from ._contexts import create, find, forget
from ._coroutines import (
    answer,
    callout_error,
    grpc_error,
    grpc_message,
    http_response,
    other_result,
    target,
)
from ._failure import http_failed, log_error, report, stream_failed, where
from ._state import state
from .errors import ConfigError
from .types import Action, PeerType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .http import HttpContext
    from .stream import StreamContext

_CONTINUE = Action.CONTINUE
_PAUSE = Action.PAUSE
# The state's maps, bound once (the runtime binds _http, _streams and _paused too).
_roots = state.roots
_http = state.http
_streams = state.streams
_paused = state.paused
_waiting = state.waiting
_awaiting = state.awaiting


# Lifecycle


on_context_create = create
"""Create a context; the answer is the mask of callbacks an HTTP/TCP one inherits (one
Python frame less on every request than a wrapper)."""
on_delete = forget
"""Forget a context; the host will not call it again."""


def on_done(context_id: int) -> int:
    """Ask the context whether it is done (1) or will call ``done()`` later (0)."""
    context = find(context_id)
    if context is None:
        return 1
    try:
        finished = context.on_done()
        if finished is None:
            raise TypeError("on_done() returned None; return True, or False to call done() later")
        return 1 if finished else 0
    except BaseException as exc:
        report(exc, f"{where(context, 'on_done', context_id)} raised; treating it as done")
        return 1


def on_log(context_id: int) -> None:
    """Let the context write its access log."""
    context = find(context_id)
    if context is None:
        return
    try:
        context.on_log()
    except BaseException as exc:
        report(exc, f"{where(context, 'on_log', context_id)} raised")


# Root context


def _root_answer(context_id: int, callback: str, argument: int, refusal: str,
                 configuration: str) -> int:
    """Run the root's ``on_vm_start``/``on_configure``: 1 if it accepts, 0 if not.

    A ConfigError is the operator's mistake, not the filter's: one line, no traceback.
    """
    root = _roots.get(context_id)
    if root is None:
        log_error(f"{callback}: no root context {context_id} (its creation failed, see above)")
        return 0
    try:
        accepted = getattr(root, callback)(argument)
        if accepted is None:
            raise TypeError(f"{callback}() returned None; return True to accept, False to fail")
        if not accepted:
            log_error(f"{where(root, callback, context_id)} returned False")
        return 1 if accepted else 0
    except ConfigError as exc:
        log_error(f"rejecting the {configuration} configuration: {exc}")
        return 0
    except BaseException as exc:
        report(exc, f"{where(root, callback, context_id)} raised; {refusal}")
        return 0


def on_vm_start(context_id: int, vm_configuration_size: int) -> int:
    """Start the VM: 1 if the root context accepts, 0 to fail."""
    return _root_answer(context_id, "on_vm_start", vm_configuration_size,
                        "the VM fails to start", "VM")


def on_configure(context_id: int, plugin_configuration_size: int) -> int:
    """Configure the plugin: 1 if the root context accepts its configuration, 0 to reject."""
    return _root_answer(context_id, "on_configure", plugin_configuration_size,
                        "the configuration is rejected", "plugin")


def _root_event(context_id: int, callback: str, *arguments: int) -> None:
    """Run a root callback that may be a coroutine (``on_tick``, ``on_queue_ready``)."""
    root = _roots.get(context_id)
    if root is None:
        return
    try:
        result = getattr(root, callback)(*arguments)
        if result is not None:
            other_result(root, result, None, callback)
    except BaseException as exc:
        report(exc, f"{where(root, callback, context_id)} raised")


def on_tick(context_id: int) -> None:
    """Run the root context's timer callback."""
    _root_event(context_id, "on_tick")


def on_queue_ready(context_id: int, queue_id: int) -> None:
    """Tell the root context that a queue it registered has items."""
    _root_event(context_id, "on_queue_ready", queue_id)


def on_foreign_function(context_id: int, function_id: int, arguments_size: int) -> None:
    """Run a foreign function the host invokes on this plugin."""
    context = find(context_id)
    if context is None:
        return
    try:
        context.on_foreign_function(function_id, arguments_size)
    except BaseException as exc:
        report(exc, f"{where(context, 'on_foreign_function', context_id)} raised")


# HTTP and TCP streams


def _stream_callback(callback: Callback, context_id: int, arguments: tuple[object, ...]) -> int:
    """Run stream ``callback`` from Python: hold it while a coroutine of the context awaits a
    callout, and fail the stream if it raises."""
    try:
        context: HttpContext | StreamContext = (
            _http[context_id] if callback.http else _streams[context_id]
        )
        if context_id in _waiting:
            return _PAUSE  # the data waits for the coroutine, which resumes the stream
        return _finish(context, callback, getattr(context, callback.method)(*arguments))
    except BaseException as exc:
        return (http_failed if callback.http else stream_failed)(context_id, callback.method, exc)


def _finish(context: HttpContext | StreamContext, callback: Callback, result: object) -> int:
    """Turn what stream ``callback`` returned into the answer, recording the pause."""
    if result is _CONTINUE:
        if _paused:
            _paused.pop(context.context_id, None)
        return _CONTINUE
    if result is _PAUSE:
        state.hold(context.context_id, callback.stream)
        return _PAUSE
    return other_result(context, result, callback.stream, callback.method)


def finish_direct(context_id: int, bit: int, result: object, error: BaseException | None) -> int:
    """Finish stream callback ``INHERITABLE[bit]``, which the runtime called on the context
    itself, as ``_stream_callback`` would: it returned ``result`` (not a plain CONTINUE) or
    raised ``error``."""
    callback = INHERITABLE[bit]
    try:
        if error is not None:
            raise error
        return _finish(_http[context_id] if callback.http else _streams[context_id], callback,
                       result)
    except BaseException as exc:
        return (http_failed if callback.http else stream_failed)(context_id, callback.method, exc)


_REQUEST_HEADERS, _REQUEST_BODY = BY_NAME["on_request_headers"], BY_NAME["on_request_body"]
_REQUEST_TRAILERS = BY_NAME["on_request_trailers"]
_RESPONSE_HEADERS, _RESPONSE_BODY = BY_NAME["on_response_headers"], BY_NAME["on_response_body"]
_RESPONSE_TRAILERS = BY_NAME["on_response_trailers"]
_NEW_CONNECTION = BY_NAME["on_new_connection"]
_DOWNSTREAM_DATA, _UPSTREAM_DATA = BY_NAME["on_downstream_data"], BY_NAME["on_upstream_data"]


def on_request_headers(context_id: int, num_headers: int, end_of_stream: int) -> int:
    """The request headers arrived."""
    return _stream_callback(_REQUEST_HEADERS, context_id, (num_headers, end_of_stream != 0))


def on_request_body(context_id: int, body_size: int, end_of_stream: int) -> int:
    """Request body data arrived."""
    return _stream_callback(_REQUEST_BODY, context_id, (body_size, end_of_stream != 0))


def on_request_trailers(context_id: int, num_trailers: int) -> int:
    """The request trailers arrived."""
    return _stream_callback(_REQUEST_TRAILERS, context_id, (num_trailers,))


def on_response_headers(context_id: int, num_headers: int, end_of_stream: int) -> int:
    """The response headers arrived."""
    return _stream_callback(_RESPONSE_HEADERS, context_id, (num_headers, end_of_stream != 0))


def on_response_body(context_id: int, body_size: int, end_of_stream: int) -> int:
    """Response body data arrived."""
    return _stream_callback(_RESPONSE_BODY, context_id, (body_size, end_of_stream != 0))


def on_response_trailers(context_id: int, num_trailers: int) -> int:
    """The response trailers arrived."""
    return _stream_callback(_RESPONSE_TRAILERS, context_id, (num_trailers,))


def on_new_connection(context_id: int) -> int:
    """A client connected."""
    return _stream_callback(_NEW_CONNECTION, context_id, ())


def on_downstream_data(context_id: int, data_size: int, end_of_stream: int) -> int:
    """Data arrived from the client."""
    return _stream_callback(_DOWNSTREAM_DATA, context_id, (data_size, end_of_stream != 0))


def on_upstream_data(context_id: int, data_size: int, end_of_stream: int) -> int:
    """Data arrived from the server."""
    return _stream_callback(_UPSTREAM_DATA, context_id, (data_size, end_of_stream != 0))


def _connection_closed(context_id: int, method: str, peer_type: int) -> None:
    context = _streams.get(context_id)
    if context is None:
        return
    try:
        getattr(context, method)(PeerType(peer_type))
    except BaseException as exc:
        report(exc, f"{where(context, method, context_id)} raised")


def on_downstream_connection_close(context_id: int, peer_type: int) -> None:
    """The client connection closed."""
    _connection_closed(context_id, "on_downstream_close", peer_type)


def on_upstream_connection_close(context_id: int, peer_type: int) -> None:
    """The server connection closed."""
    _connection_closed(context_id, "on_upstream_close", peer_type)


# Callouts: reported to the plugin context, handed to the context that made them


def on_http_call_response(
    context_id: int, token: int, num_headers: int, body_size: int, num_trailers: int
) -> None:
    """The answer to an HTTP call arrived (``num_headers == 0``: the call failed)."""
    waiter = _awaiting.pop(token, None)
    if waiter is not None:
        call = waiter.call
        answer(waiter, context_id,
               lambda: http_response(call, num_headers, body_size, num_trailers))
        return
    context = None
    try:
        context = target(state.http_calls, token, context_id, True)
        if context is not None:
            context.on_http_call_response(token, num_headers, body_size, num_trailers)
    except BaseException as exc:
        callout_error(context, context_id, "on_http_call_response", exc)


def _grpc_metadata(context_id: int, token: int, method: str, num_elements: int) -> None:
    """Hand a gRPC stream's metadata to the context that opened it."""
    context = None
    try:
        context = target(state.grpc_streams, token, context_id, False)
        if context is not None:
            getattr(context, method)(token, num_elements)
    except BaseException as exc:
        callout_error(context, context_id, method, exc)


def on_grpc_receive_initial_metadata(context_id: int, token: int, num_elements: int) -> None:
    """A gRPC stream's initial metadata arrived."""
    _grpc_metadata(context_id, token, "on_grpc_stream_initial_metadata", num_elements)


def on_grpc_receive_trailing_metadata(context_id: int, token: int, num_elements: int) -> None:
    """A gRPC stream's trailing metadata arrived."""
    _grpc_metadata(context_id, token, "on_grpc_stream_trailing_metadata", num_elements)


def on_grpc_receive(context_id: int, token: int, message_size: int) -> None:
    """A gRPC message arrived: the answer to a call, or a message on a stream."""
    waiter = _awaiting.pop(token, None)
    if waiter is not None:
        answer(waiter, context_id, lambda: (grpc_message(message_size), None))
        return
    context = None
    try:
        if token in state.grpc_streams:
            context = target(state.grpc_streams, token, context_id, False)
            if context is not None:
                context.on_grpc_stream_message(token, message_size)
            return
        context = target(state.grpc_calls, token, context_id, True)
        if context is not None:
            context.on_grpc_call_response(token, 0, message_size)
    except BaseException as exc:
        callout_error(context, context_id, "on_grpc_receive", exc)


def on_grpc_close(context_id: int, token: int, status_code: int) -> None:
    """A gRPC call failed or a gRPC stream ended, with ``status_code``."""
    waiter = _awaiting.pop(token, None)
    if waiter is not None:
        call = waiter.call
        answer(waiter, context_id, lambda: (None, grpc_error(call, status_code)))
        return
    context = None
    try:
        if token in state.grpc_streams:
            context = target(state.grpc_streams, token, context_id, True)
            if context is not None:
                context.on_grpc_stream_close(token, status_code)
            return
        context = target(state.grpc_calls, token, context_id, True)
        if context is not None:
            context.on_grpc_call_response(token, status_code, 0)
    except BaseException as exc:
        callout_error(context, context_id, "on_grpc_close", exc)
