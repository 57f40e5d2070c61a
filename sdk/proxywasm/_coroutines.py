"""Coroutines and callouts: driving ``async def`` callbacks and handing callout results back.

A callback written as a coroutine runs to its first ``await`` of a callout; its stream then
stays paused (``state.waiting``) until the host reports the callout's result, which resumes the
coroutine. The host reports every result to the plugin (root) context; the result goes to the
context that made the call.
"""

from __future__ import annotations

from types import CoroutineType

from . import _host, hostcalls
from ._contexts import find
from ._failure import callout_failed, check_action, report
from ._state import Awaiting, state
from .callouts import GrpcCallError, GrpcResponse, HttpCallError, HttpResponse, PendingCall
from .types import Action, BufferType, MapType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from .context import Context
    from .types import StreamType

_CONTINUE = Action.CONTINUE
_PAUSE = Action.PAUSE


def other_result(
    context: Context, result: object, stream: StreamType | None, callback: str
) -> int:
    """Handle what a callback returned when it is not an Action: a coroutine or a bug."""
    if result.__class__ is CoroutineType:
        return _advance(context, result, stream, callback, None, None)
    action = check_action(result, callback)
    state.hold(context.context_id, stream if action else None)
    return action


def _advance(
    context: Context,
    coroutine: Coroutine[object, object, object],
    stream: StreamType | None,
    callback: str,
    value: object,
    error: BaseException | None,
) -> int:
    """Run ``coroutine`` to its next ``await`` (PAUSE: it waits for a callout) or its end."""
    context_id = context.context_id
    state.waiting.discard(context_id)
    try:
        awaited = coroutine.send(value) if error is None else coroutine.throw(error)
    except StopIteration as finished:
        if stream is None:
            return _CONTINUE
        action = check_action(finished.value, callback)
        state.hold(context_id, stream if action else None)
        return action
    if not isinstance(awaited, PendingCall):
        coroutine.close()
        raise TypeError(
            f"{callback}() awaited {awaited!r}; a callback can only await the SDK's callouts "
            "(self.http_call, self.grpc_call, proxywasm.gather)"
        )
    awaited._wait(Awaiting(context_id, coroutine, stream, callback, awaited))
    state.waiting.add(context_id)
    if stream is not None:
        state.hold(context_id, stream)
    return _PAUSE


def answer(waiter: Awaiting, root_id: int,
           read: Callable[[], tuple[object, BaseException | None]]) -> None:
    """Read a callout's result from the host with ``read`` and resume the coroutine awaiting
    it (with its stream, if the coroutine returns CONTINUE), once every call of its ``gather``
    answered; if reading fails, the coroutine gets that error at its ``await``."""
    try:
        value, error = read()
    except BaseException as exc:
        value, error = None, exc
    resumed = waiter.call._collect(value, error)
    if resumed is None:
        return
    value, error = resumed
    context = find(waiter.context_id)
    if context is None:
        waiter.coroutine.close()
        return
    if waiter.context_id != root_id:
        _host.set_effective_context(waiter.context_id)
    try:
        action = _advance(context, waiter.coroutine, waiter.stream, waiter.callback, value, error)
        if action == _CONTINUE and waiter.stream is not None:
            _host.continue_stream(waiter.stream)
    except BaseException as exc:
        callout_failed(context, waiter.callback, exc)


def target(calls: dict[int, int], token: int, context_id: int, pop: bool) -> Context | None:
    """The context that made callout ``token`` (the plugin's own when unknown), made the
    effective one; it is forgotten with ``pop``."""
    made_by = calls.pop(token, context_id) if pop else calls.get(token, context_id)
    context = find(made_by)
    if context is not None and made_by != context_id:
        _host.set_effective_context(made_by)
    return context


def callout_error(
    context: Context | None, context_id: int, callback: str, exc: BaseException
) -> None:
    """A callout callback raised: fail the context's stream, or report it."""
    if context is None:
        report(exc, f"{callback} (context {context_id}) failed")
    else:
        callout_failed(context, callback, exc)


def grpc_message(size: int) -> GrpcResponse:
    """The gRPC message the host holds, as the answer to an awaited call."""
    return GrpcResponse(_host.get_buffer_bytes(BufferType.GRPC_CALL_MESSAGE, 0, size) or b"")


def grpc_error(call: PendingCall, status_code: int) -> GrpcCallError:
    """The error an awaited gRPC call that closed with ``status_code`` raises."""
    return GrpcCallError(call.service, call.method, status_code, hostcalls.get_grpc_status()[1])


def http_response(
    call: PendingCall, num_headers: int, body_size: int, num_trailers: int
) -> tuple[HttpResponse | None, BaseException | None]:
    """The answer to an awaited HTTP call (no headers: the call failed)."""
    if num_headers == 0:
        return None, HttpCallError(call.upstream)
    headers = _host.get_header_map_pairs(MapType.HTTP_CALL_RESPONSE_HEADERS)
    body = _host.get_buffer_bytes(BufferType.HTTP_CALL_RESPONSE_BODY, 0, body_size) or b""
    trailers = (
        _host.get_header_map_pairs(MapType.HTTP_CALL_RESPONSE_TRAILERS) if num_trailers else []
    )
    return HttpResponse(headers, body, trailers), None
