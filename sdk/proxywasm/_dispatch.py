"""The callback router: the C runtime calls these functions by name, with int arguments.

Each ``on_*`` function here is one Proxy-Wasm callback. It finds the context by id (one dict
lookup), calls the matching method, and never lets an exception reach C: a failing callback is
logged with its traceback, and an HTTP or TCP stream then fails closed (a 500 response, or the
connection closed) unless its context sets ``fail_open = True``.
"""

from __future__ import annotations

import sys
from types import CoroutineType, MethodType

from . import _host, _registry, _runtime, hostcalls
from ._tb import format_exception, frames
from .callouts import GrpcCallError, GrpcResponse, HttpCallError, HttpResponse, PendingCall
from .context import RootContext
from .http import HttpContext
from .stream import StreamContext
from .types import Action, BufferType, ContextType, LogLevel, MapType, PeerType, StreamType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from .context import Context

_CONTINUE = Action.CONTINUE
_PAUSE = Action.PAUSE
_ACTION_VALUES = frozenset(Action)
_FAILURE_STATUS = 500
_FAILURE_DETAILS = "python_filter_error"
_FAILURE_BODY = b"filter error\n"

_root_factory: Callable[..., RootContext] | None = None
_http_factory: Callable[..., HttpContext] | None = None
_stream_factory: Callable[..., StreamContext] | None = None
# How many of the ids (context_id, root_context_id) each factory requires: none, or the first ones.
_root_ids = _http_ids = _stream_ids = 0
_VARARGS = 0x04  # inspect.CO_VARARGS, without importing inspect into every module

# Callbacks the C runtime answers itself with the SDK's default when the context's class
# inherits them: bit i of the mask ``on_context_create`` returns stands for _INHERITABLE[i]
# (the order of runtime/callbacks.c).
_INHERITABLE = (
    "on_http_request_headers",
    "on_http_request_body",
    "on_http_request_trailers",
    "on_http_response_headers",
    "on_http_response_body",
    "on_http_response_trailers",
    "on_new_connection",
    "on_downstream_data",
    "on_upstream_data",
    "on_downstream_close",
    "on_upstream_close",
    "on_done",
    "on_log",
)
_INHERITABLE_NAMES = frozenset(_INHERITABLE)
# The runtime calls the first nine (the stream callbacks, HTTP then TCP) on the context itself
# when it overrides them, and hands any answer but CONTINUE to ``finish_direct``.
_DIRECT_STREAMS = (*(StreamType.HTTP_REQUEST,) * 3, *(StreamType.HTTP_RESPONSE,) * 3,
                   StreamType.DOWNSTREAM, StreamType.DOWNSTREAM, StreamType.UPSTREAM)
_FIRST_TCP = 6
_ALL_INHERITED = (1 << len(_INHERITABLE)) - 1
_inherited_by_class: dict[type, int] = {}
# The registered HTTP/TCP factory when it is a plain subclass (no metaclass, __new__ or
# __init__ of its own): its contexts are created without calling it, and need no checks.
_plain_http: type[HttpContext] | None = None
_plain_stream: type[StreamContext] | None = None
_new = object.__new__

_roots: dict[int, RootContext] = {}
_http: dict[int, HttpContext] = {}
_streams: dict[int, StreamContext] = {}


# Registration (module level in the user's filter, at build time)


def _ids_taken(factory: object, ids: int, setter: str) -> int:
    """How many of the ``ids`` leading id arguments ``factory`` requires (0: none; parameters
    with defaults are left to them), read from its code; one without Python code, or taking
    ``*args``, gets them all."""
    if not callable(factory):
        raise TypeError(
            f"{setter}() needs a class or function that creates contexts, not {factory!r}"
        )
    target: object = factory
    bound = 0
    if isinstance(factory, type):
        cls: type[object] = factory
        target, bound = cls.__init__, 1
    elif isinstance(factory, MethodType):
        target, bound = factory.__func__, 1
    code = getattr(target, "__code__", None)
    if code is None or code.co_flags & _VARARGS:
        return ids
    required: int = code.co_argcount - bound - len(getattr(target, "__defaults__", None) or ())
    if required > ids:
        names = "(context_id)" if ids == 1 else "(context_id, root_context_id)"
        raise TypeError(
            f"{setter}({getattr(factory, '__qualname__', factory)!r}): it needs {required} "
            f"arguments, but a context factory is called with none or {names}"
        )
    return required


def set_root_context(factory: Callable[[int], RootContext] | Callable[[], RootContext]) -> None:
    """Register the root context factory: a RootContext class, or a function returning one,
    called per plugin with no argument or with ``context_id`` (if it requires one)."""
    global _root_factory, _root_ids
    _root_ids = _ids_taken(factory, 1, "set_root_context")
    _root_factory = factory


def set_http_context(
    factory: Callable[[int, int], HttpContext] | Callable[[int], HttpContext]
    | Callable[[], HttpContext],
) -> None:
    """Register the HTTP context factory: an HttpContext class, or a function returning one,
    called with no argument or with ``(context_id, root_context_id)`` if it requires them."""
    global _http_factory, _http_ids, _plain_http
    _http_ids = _ids_taken(factory, 2, "set_http_context")
    _http_factory = factory
    _plain_http = None


def set_stream_context(
    factory: Callable[[int, int], StreamContext] | Callable[[int], StreamContext]
    | Callable[[], StreamContext],
) -> None:
    """Register the TCP context factory: a StreamContext class, or a function returning one,
    called with no argument or with ``(context_id, root_context_id)`` if it requires them."""
    global _stream_factory, _stream_ids, _plain_stream
    _stream_ids = _ids_taken(factory, 2, "set_stream_context")
    _stream_factory = factory
    _plain_stream = None


def registered() -> bool:
    """Return True if the filter registered a root, HTTP or stream context factory."""
    return _root_factory is not None or _http_factory is not None or _stream_factory is not None


def prepare() -> None:
    """After the filter's import: find which callbacks its context classes inherit, and
    whether its factories are plain classes whose contexts can be made without calling them."""
    global _plain_http, _plain_stream
    _plain_http = _plain_class(_http_factory, HttpContext)
    _plain_stream = None
    if _http_factory is None:
        _plain_stream = _plain_class(_stream_factory, StreamContext)


def _plain_class(factory: object, base: type[HttpContext] | type[StreamContext]) -> type | None:
    if not (isinstance(factory, type) and issubclass(factory, base)):
        return None
    _class_inherited(factory, base)
    plain = (
        type(factory) is type
        and factory.__new__ is object.__new__
        and factory.__init__ is base.__init__
    )
    return factory if plain else None


def reset() -> None:
    """Forget every factory, context and pending callout (for tests and the emulator)."""
    global _root_factory, _http_factory, _stream_factory, _plain_http, _plain_stream
    global _root_ids, _http_ids, _stream_ids
    _root_factory = _http_factory = _stream_factory = _plain_http = _plain_stream = None
    _root_ids = _http_ids = _stream_ids = 0
    _roots.clear()
    _http.clear()
    _streams.clear()
    _inherited_by_class.clear()
    _registry.clear()


# Failure handling


def _report(exc: BaseException, what: str) -> None:
    """Log ``what`` and the traceback at ERROR, one record per line so each keeps its prefix."""
    text = f"{what}\n{format_exception(exc, __file__)}"
    try:
        for line in text.split("\n"):
            _host.log(LogLevel.ERROR, line)
    except BaseException:
        _stderr_fallback(text)


def _stderr_fallback(text: str) -> None:
    stream = sys.__stderr__
    if stream is not None:
        try:
            stream.write(text + "\n")
        except BaseException:
            return


def _log_error(message: str) -> None:
    try:
        _host.log(LogLevel.ERROR, message)
    except BaseException:
        _stderr_fallback(message)


def _where(context: Context | None, callback: str, context_id: int) -> str:
    owner = type(context).__name__ if context is not None else "context"
    return f"{owner}.{callback} (context {context_id})"


def _check_action(value: object, callback: str) -> int:
    """Accept an Action or its plain int value; anything else is the filter's bug."""
    if (value.__class__ is Action or type(value) is int) and value in _ACTION_VALUES:
        return value
    raise TypeError(
        f"{callback}() returned {value!r}; return proxywasm.Action.CONTINUE or Action.PAUSE"
    )


def _note_definition(exc: BaseException, context: Context | None, callback: str) -> None:
    """Name the callback's file and line when no frame of the filter is in the traceback."""
    if any(frame[0] != __file__ for frame in frames(exc.__traceback__)):
        return
    code = getattr(getattr(type(context), callback, None), "__code__", None)
    if code is not None:
        exc.add_note(f'  File "{code.co_filename}", line {code.co_firstlineno}, in {callback}')


def _http_failed(context_id: int, callback: str, exc: BaseException) -> int:
    context = _http.get(context_id)
    _note_definition(exc, context, callback)
    if context is None:
        _log_error(
            f"{callback}: no HTTP context {context_id} (its creation failed, see the "
            "error above); failing the request closed with a 500 response"
        )
        root_id = 0
    elif context.fail_open:
        _report(
            exc,
            f"{_where(context, callback, context_id)} raised; failing open "
            "(fail_open = True), the stream continues",
        )
        return _CONTINUE
    else:
        _report(
            exc,
            f"{_where(context, callback, context_id)} raised; failing closed with a "
            "500 response (set fail_open = True on the class to continue instead)",
        )
        root_id = context.root_context_id
    _http[context_id] = HttpContext(context_id, root_id)
    _inherit_all(context_id)
    try:
        _host.send_local_response(_FAILURE_STATUS, _FAILURE_DETAILS, _FAILURE_BODY, (), -1)
    except BaseException as send_error:
        _report(send_error, "sending the 500 response failed; resetting the stream")
        _close(StreamType.HTTP_REQUEST)
    return _PAUSE


def _stream_failed(context_id: int, callback: str, exc: BaseException) -> int:
    context = _streams.get(context_id)
    _note_definition(exc, context, callback)
    if context is None:
        _log_error(
            f"{callback}: no TCP context {context_id} (its creation failed, see the "
            "error above); closing the connection"
        )
        root_id = 0
    elif context.fail_open:
        _report(
            exc,
            f"{_where(context, callback, context_id)} raised; failing open "
            "(fail_open = True), the connection continues",
        )
        return _CONTINUE
    else:
        _report(
            exc,
            f"{_where(context, callback, context_id)} raised; closing the connection "
            "(set fail_open = True on the class to continue instead)",
        )
        root_id = context.root_context_id
    _streams[context_id] = StreamContext(context_id, root_id)
    _inherit_all(context_id)
    _close(StreamType.DOWNSTREAM)
    return _PAUSE


def _inherit_all(context_id: int) -> None:
    """Tell the runtime the replacement context inherits every callback (it answers them)."""
    try:
        _host.set_inherited_callbacks(context_id, _ALL_INHERITED)
    except BaseException as exc:
        _report(exc, f"context {context_id}: its callbacks keep reaching Python")


def _close(stream_type: StreamType) -> None:
    try:
        _host.close_stream(stream_type)
    except BaseException as exc:
        _report(exc, f"closing the {stream_type.name} stream failed")


def _callout_failed(context: Context, callback: str, exc: BaseException) -> None:
    """A callout callback raised: fail the waiting stream (if any) as its own callback would.

    Failing open resumes the stream the context had paused, so it does not hang.
    """
    paused = context._paused
    if isinstance(context, HttpContext):
        action = _http_failed(context.context_id, callback, exc)
    elif isinstance(context, StreamContext):
        action = _stream_failed(context.context_id, callback, exc)
    else:
        _report(exc, f"{_where(context, callback, context.context_id)} raised")
        return
    if action == _CONTINUE and paused is not None:
        context._paused = None
        _host.continue_stream(paused)


# Callbacks written as coroutines (``async def``) that await callouts


def _other_result(
    context: Context, result: object, stream: StreamType | None, callback: str
) -> int:
    """Handle what a stream callback returned when it is not an Action: a coroutine or a bug."""
    if result.__class__ is CoroutineType:
        return _advance(context, result, stream, callback, None, None)
    action = _check_action(result, callback)
    context._paused = stream if action else None
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
    context._awaiting = False
    try:
        awaited = coroutine.send(value) if error is None else coroutine.throw(error)
    except StopIteration as finished:
        if stream is None:
            return _CONTINUE
        action = _check_action(finished.value, callback)
        context._paused = stream if action else None
        return action
    if not isinstance(awaited, PendingCall):
        coroutine.close()
        raise TypeError(
            f"{callback}() awaited {awaited!r}; a callback can only await the SDK's callouts "
            "(self.http_call, self.grpc_call)"
        )
    _registry.awaiting[awaited.token] = _registry.Awaiting(
        context.context_id, coroutine, stream, callback, awaited
    )
    context._awaiting = True
    if stream is not None:
        context._paused = stream
    return _PAUSE


def _resume(
    waiter: _registry.Awaiting, root_id: int, value: object, error: BaseException | None
) -> None:
    """Resume a coroutine with a callout's result; resume its stream if it returns CONTINUE."""
    context = _find(waiter.context_id)
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
        _callout_failed(context, waiter.callback, exc)


def _forget_awaiting(context_id: int) -> None:
    for token, waiter in list(_registry.awaiting.items()):
        if waiter.context_id == context_id:
            del _registry.awaiting[token]
            waiter.coroutine.close()


# Context lifecycle


def _find(context_id: int) -> RootContext | HttpContext | StreamContext | None:
    context: RootContext | HttpContext | StreamContext | None = _http.get(context_id)
    if context is None:
        context = _streams.get(context_id)
        if context is None:
            context = _roots.get(context_id)
    return context


def on_context_create(context_id: int, parent_context_id: int) -> int:
    """Create a root context (parent 0) or an HTTP/TCP context of the root ``parent``.

    Returns the mask of callbacks the new HTTP/TCP context inherits (0 for a root context or
    a failure): the C runtime answers those itself, without calling Python.
    """
    if parent_context_id == 0:
        _create_root(context_id)
        return 0
    try:
        http = _plain_http
        if http is not None:
            context = _new(http)
            context.context_id = context_id
            context.root_context_id = parent_context_id
            _http[context_id] = context
            return _inherited_by_class[http]
        stream = _plain_stream
        if stream is not None:
            connection = _new(stream)
            connection.context_id = context_id
            connection.root_context_id = parent_context_id
            _streams[context_id] = connection
            return _inherited_by_class[stream]
        return _create_child(context_id, parent_context_id)
    except BaseException as exc:
        _report(exc, f"creating context {context_id} failed; its stream will fail closed")
        return 0


def _inherited(context: Context, base: type[Context]) -> int:
    """The mask of callbacks ``context`` inherits from ``base`` (HttpContext or StreamContext).

    Computed once per class; a callback set on the instance itself counts as overridden.
    """
    mask = _inherited_by_class.get(type(context))
    if mask is None:
        mask = _class_inherited(type(context), base)
    return mask if _INHERITABLE_NAMES.isdisjoint(context.__dict__) else 0


def _class_inherited(cls: type[Context], base: type[Context]) -> int:
    mask = 0
    if cls.__getattribute__ is object.__getattribute__:
        for bit, name in enumerate(_INHERITABLE):
            if getattr(cls, name, None) is getattr(base, name, None):
                mask |= 1 << bit
    _inherited_by_class[cls] = mask
    return mask


def _create_root(context_id: int) -> None:
    try:
        _runtime.vm_started()
    except BaseException as exc:
        _report(exc, "the run-time set-up (reseeding random, routing stdout/stderr) failed")
    _registry.creating = (context_id, 0)
    try:
        factory = RootContext if _root_factory is None else _root_factory
        root = factory(*(context_id,)[:_root_ids])
        if not isinstance(root, RootContext):
            raise TypeError(f"the root context factory returned {root!r}, not a RootContext")
        root.context_id = context_id
    except BaseException as exc:
        _report(exc, f"creating root context {context_id} failed; the plugin cannot start")
        return
    finally:
        _registry.creating = None
    _roots[context_id] = root


def _create_child(context_id: int, root_id: int) -> int:
    """Create the HTTP/TCP context with a registered factory or the root's create method; the
    context objects made meanwhile get the new context's ids."""
    _registry.creating = (context_id, root_id)
    try:
        return _create_with(context_id, root_id)
    finally:
        _registry.creating = None


def _create_with(context_id: int, root_id: int) -> int:
    ids = (context_id, root_id)
    if _http_factory is not None:
        return _add_http(_http_factory(*ids[:_http_ids]), context_id, root_id)
    if _stream_factory is not None:
        return _add_stream(_stream_factory(*ids[:_stream_ids]), context_id, root_id)
    root = _roots.get(root_id)
    if root is None:
        raise LookupError(f"no root context {root_id} (its creation failed, see above)")
    kind = root.get_type()
    if kind != ContextType.STREAM_CONTEXT:
        http = root.create_http_context(context_id)
        if http is not None:
            return _add_http(http, context_id, root_id)
    if kind != ContextType.HTTP_CONTEXT:
        stream = root.create_stream_context(context_id)
        if stream is not None:
            return _add_stream(stream, context_id, root_id)
    raise LookupError(
        f"{type(root).__name__} created no context for stream {context_id}: override "
        "create_http_context() (or create_stream_context() for TCP) to return one, or "
        "register a factory with proxywasm.set_http_context()"
    )


def _add_http(context: object, context_id: int, root_id: int) -> int:
    if not isinstance(context, HttpContext):
        raise TypeError(f"the HTTP context factory returned {context!r}, not an HttpContext")
    context.context_id = context_id
    context.root_context_id = root_id
    _http[context_id] = context
    return _inherited(context, HttpContext)


def _add_stream(context: object, context_id: int, root_id: int) -> int:
    if not isinstance(context, StreamContext):
        raise TypeError(f"the stream context factory returned {context!r}, not a StreamContext")
    context.context_id = context_id
    context.root_context_id = root_id
    _streams[context_id] = context
    return _inherited(context, StreamContext)


def on_done(context_id: int) -> int:
    """Ask the context whether it is done (1) or will call ``done()`` later (0)."""
    context = _find(context_id)
    if context is None:
        return 1
    try:
        finished = context.on_done()
        if finished is None:
            raise TypeError("on_done() returned None; return True, or False to call done() later")
        return 1 if finished else 0
    except BaseException as exc:
        _report(exc, f"{_where(context, 'on_done', context_id)} raised; treating it as done")
        return 1


def on_log(context_id: int) -> None:
    """Let the context write its access log."""
    context = _find(context_id)
    if context is None:
        return
    try:
        context.on_log()
    except BaseException as exc:
        _report(exc, f"{_where(context, 'on_log', context_id)} raised")


def on_delete(context_id: int) -> None:
    """Forget a context (and close the coroutines it awaits); the host will not call it again."""
    if _registry.awaiting:
        _forget_awaiting(context_id)
    if _http.pop(context_id, None) is None and _streams.pop(context_id, None) is None:
        _roots.pop(context_id, None)


# Root context callbacks


def _no_root(context_id: int, callback: str) -> int:
    _log_error(f"{callback}: no root context {context_id} (its creation failed, see above)")
    return 0


def _accepted(accepted: bool | None, root: RootContext, callback: str) -> int:
    if accepted is None:
        raise TypeError(f"{callback}() returned None; return True to accept, False to fail")
    if not accepted:
        _log_error(f"{_where(root, callback, root.context_id)} returned False")
    return 1 if accepted else 0


def on_vm_start(context_id: int, vm_configuration_size: int) -> int:
    """Start the VM: 1 if the root context accepts, 0 to fail."""
    root = _roots.get(context_id)
    if root is None:
        return _no_root(context_id, "on_vm_start")
    try:
        return _accepted(root.on_vm_start(vm_configuration_size), root, "on_vm_start")
    except BaseException as exc:
        _report(exc, f"{_where(root, 'on_vm_start', context_id)} raised; the VM fails to start")
        return 0


def on_configure(context_id: int, plugin_configuration_size: int) -> int:
    """Configure the plugin: 1 if the root context accepts its configuration, 0 to reject."""
    root = _roots.get(context_id)
    if root is None:
        return _no_root(context_id, "on_configure")
    try:
        return _accepted(root.on_configure(plugin_configuration_size), root, "on_configure")
    except BaseException as exc:
        _report(
            exc, f"{_where(root, 'on_configure', context_id)} raised; the configuration is rejected"
        )
        return 0


def on_tick(context_id: int) -> None:
    """Run the root context's timer callback."""
    root = _roots.get(context_id)
    if root is None:
        return
    try:
        result = root.on_tick()
        if result is not None:
            _other_result(root, result, None, "on_tick")
    except BaseException as exc:
        _report(exc, f"{_where(root, 'on_tick', context_id)} raised")


def on_queue_ready(context_id: int, queue_id: int) -> None:
    """Tell the root context that a queue it registered has items."""
    root = _roots.get(context_id)
    if root is None:
        return
    try:
        result = root.on_queue_ready(queue_id)
        if result is not None:
            _other_result(root, result, None, "on_queue_ready")
    except BaseException as exc:
        _report(exc, f"{_where(root, 'on_queue_ready', context_id)} raised")


def on_foreign_function(context_id: int, function_id: int, arguments_size: int) -> None:
    """Run a foreign function the host invokes on this plugin."""
    context = _find(context_id)
    if context is None:
        return
    try:
        context.on_foreign_function(function_id, arguments_size)
    except BaseException as exc:
        _report(exc, f"{_where(context, 'on_foreign_function', context_id)} raised")


# TCP


def on_new_connection(context_id: int) -> int:
    """A client connected."""
    return _stream_callback(6, context_id, ())


def on_downstream_data(context_id: int, data_size: int, end_of_stream: int) -> int:
    """Data arrived from the client."""
    return _stream_callback(7, context_id, (data_size, end_of_stream != 0))


def on_upstream_data(context_id: int, data_size: int, end_of_stream: int) -> int:
    """Data arrived from the server."""
    return _stream_callback(8, context_id, (data_size, end_of_stream != 0))


def on_downstream_connection_close(context_id: int, peer_type: int) -> None:
    """The client connection closed."""
    context = _streams.get(context_id)
    if context is None:
        return
    try:
        context.on_downstream_close(PeerType(peer_type))
    except BaseException as exc:
        _report(exc, f"{_where(context, 'on_downstream_close', context_id)} raised")


def on_upstream_connection_close(context_id: int, peer_type: int) -> None:
    """The server connection closed."""
    context = _streams.get(context_id)
    if context is None:
        return
    try:
        context.on_upstream_close(PeerType(peer_type))
    except BaseException as exc:
        _report(exc, f"{_where(context, 'on_upstream_close', context_id)} raised")


# HTTP


def on_request_headers(context_id: int, num_headers: int, end_of_stream: int) -> int:
    """The request headers arrived."""
    return _stream_callback(0, context_id, (num_headers, end_of_stream != 0))


def on_request_body(context_id: int, body_size: int, end_of_stream: int) -> int:
    """Request body data arrived."""
    return _stream_callback(1, context_id, (body_size, end_of_stream != 0))


def on_request_trailers(context_id: int, num_trailers: int) -> int:
    """The request trailers arrived."""
    return _stream_callback(2, context_id, (num_trailers,))


def on_response_headers(context_id: int, num_headers: int, end_of_stream: int) -> int:
    """The response headers arrived."""
    return _stream_callback(3, context_id, (num_headers, end_of_stream != 0))


def on_response_body(context_id: int, body_size: int, end_of_stream: int) -> int:
    """Response body data arrived."""
    return _stream_callback(4, context_id, (body_size, end_of_stream != 0))


def on_response_trailers(context_id: int, num_trailers: int) -> int:
    """The response trailers arrived."""
    return _stream_callback(5, context_id, (num_trailers,))


def _stream_callback(index: int, context_id: int, arguments: tuple[object, ...]) -> int:
    """Run stream callback ``_INHERITABLE[index]`` from Python: hold it while a coroutine of the
    context awaits a callout, and fail the stream if it raises."""
    http = index < _FIRST_TCP
    callback = _INHERITABLE[index]
    try:
        context: HttpContext | StreamContext = _http[context_id] if http else _streams[context_id]
        if context._awaiting:
            return _PAUSE  # the data waits for the coroutine, which resumes the stream
        return _finish(context, index, getattr(context, callback)(*arguments))
    except BaseException as exc:
        return (_http_failed if http else _stream_failed)(context_id, callback, exc)


def _finish(context: HttpContext | StreamContext, index: int, result: object) -> int:
    """Turn what stream callback ``index`` returned into the answer, tracking the pause."""
    if result is _CONTINUE:
        if context._paused is not None:
            context._paused = None
        return _CONTINUE
    if result is _PAUSE:
        context._paused = _DIRECT_STREAMS[index]
        return _PAUSE
    return _other_result(context, result, _DIRECT_STREAMS[index], _INHERITABLE[index])


def finish_direct(context_id: int, index: int, result: object, error: BaseException | None) -> int:
    """Finish stream callback ``_INHERITABLE[index]``, which the runtime called on the context
    itself, as the functions above would: it returned ``result`` (not a plain CONTINUE) or
    raised ``error``."""
    http = index < _FIRST_TCP
    try:
        if error is not None:
            raise error
        return _finish(_http[context_id] if http else _streams[context_id], index, result)
    except BaseException as exc:
        return (_http_failed if http else _stream_failed)(context_id, _INHERITABLE[index], exc)


# Callouts: the host reports them to the plugin context; hand them to the context that made them


def _callout_target(
    calls: dict[int, int], token: int, context_id: int, pop: bool
) -> Context | None:
    target = calls.pop(token, context_id) if pop else calls.get(token, context_id)
    context = _find(target)
    if context is not None and target != context_id:
        _host.set_effective_context(target)
    return context


def on_http_call_response(
    context_id: int, token: int, num_headers: int, body_size: int, num_trailers: int
) -> None:
    """The answer to an HTTP call arrived (``num_headers == 0``: the call failed)."""
    waiter = _registry.awaiting.pop(token, None)
    if waiter is not None:
        call = waiter.call
        _answer(
            waiter, context_id, lambda: _http_response(call, num_headers, body_size, num_trailers)
        )
        return
    context = None
    try:
        context = _callout_target(_registry.http_calls, token, context_id, True)
        if context is not None:
            context.on_http_call_response(token, num_headers, body_size, num_trailers)
    except BaseException as exc:
        _callout_error(context, context_id, "on_http_call_response", exc)


def _answer(
    waiter: _registry.Awaiting,
    root_id: int,
    read: Callable[[], tuple[object, BaseException | None]],
) -> None:
    """Read a callout's result from the host with ``read`` and resume the coroutine awaiting
    it; if reading fails, the coroutine gets that error at its ``await``."""
    try:
        value, error = read()
    except BaseException as exc:
        value, error = None, exc
    _resume(waiter, root_id, value, error)


def _grpc_message(size: int) -> GrpcResponse:
    return GrpcResponse(_host.get_buffer_bytes(BufferType.GRPC_CALL_MESSAGE, 0, size) or b"")


def _grpc_error(call: PendingCall, status_code: int) -> GrpcCallError:
    return GrpcCallError(call.service, call.method, status_code, hostcalls.get_grpc_status()[1])


def _http_response(
    call: PendingCall, num_headers: int, body_size: int, num_trailers: int
) -> tuple[HttpResponse | None, BaseException | None]:
    if num_headers == 0:
        return None, HttpCallError(call.upstream)
    headers = _host.get_header_map_pairs(MapType.HTTP_CALL_RESPONSE_HEADERS)
    body = _host.get_buffer_bytes(BufferType.HTTP_CALL_RESPONSE_BODY, 0, body_size) or b""
    trailers = (
        _host.get_header_map_pairs(MapType.HTTP_CALL_RESPONSE_TRAILERS) if num_trailers else []
    )
    return HttpResponse(headers, body, trailers), None


def on_grpc_receive_initial_metadata(context_id: int, token: int, num_elements: int) -> None:
    """A gRPC stream's initial metadata arrived."""
    context = None
    try:
        context = _callout_target(_registry.grpc_streams, token, context_id, False)
        if context is not None:
            context.on_grpc_stream_initial_metadata(token, num_elements)
    except BaseException as exc:
        _callout_error(context, context_id, "on_grpc_stream_initial_metadata", exc)


def on_grpc_receive(context_id: int, token: int, message_size: int) -> None:
    """A gRPC message arrived: the answer to a call, or a message on a stream."""
    waiter = _registry.awaiting.pop(token, None)
    if waiter is not None:
        _answer(waiter, context_id, lambda: (_grpc_message(message_size), None))
        return
    context = None
    try:
        if token in _registry.grpc_streams:
            context = _callout_target(_registry.grpc_streams, token, context_id, False)
            if context is not None:
                context.on_grpc_stream_message(token, message_size)
            return
        context = _callout_target(_registry.grpc_calls, token, context_id, True)
        if context is not None:
            context.on_grpc_call_response(token, 0, message_size)
    except BaseException as exc:
        _callout_error(context, context_id, "on_grpc_receive", exc)


def on_grpc_receive_trailing_metadata(context_id: int, token: int, num_elements: int) -> None:
    """A gRPC stream's trailing metadata arrived."""
    context = None
    try:
        context = _callout_target(_registry.grpc_streams, token, context_id, False)
        if context is not None:
            context.on_grpc_stream_trailing_metadata(token, num_elements)
    except BaseException as exc:
        _callout_error(context, context_id, "on_grpc_stream_trailing_metadata", exc)


def on_grpc_close(context_id: int, token: int, status_code: int) -> None:
    """A gRPC call failed or a gRPC stream ended, with ``status_code``."""
    waiter = _registry.awaiting.pop(token, None)
    if waiter is not None:
        call = waiter.call
        _answer(waiter, context_id, lambda: (None, _grpc_error(call, status_code)))
        return
    context = None
    try:
        if token in _registry.grpc_streams:
            context = _callout_target(_registry.grpc_streams, token, context_id, True)
            if context is not None:
                context.on_grpc_stream_close(token, status_code)
            return
        context = _callout_target(_registry.grpc_calls, token, context_id, True)
        if context is not None:
            context.on_grpc_call_response(token, status_code, 0)
    except BaseException as exc:
        _callout_error(context, context_id, "on_grpc_close", exc)


def _callout_error(
    context: Context | None, context_id: int, callback: str, exc: BaseException
) -> None:
    if context is None:
        _report(exc, f"{callback} (context {context_id}) failed")
    else:
        _callout_failed(context, callback, exc)
