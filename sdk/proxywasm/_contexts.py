"""Contexts: the factories a filter registers at import, and making and finding its contexts.

A new HTTP/TCP context reports the mask of callbacks its class inherits from the SDK (bit i:
``_callbacks.INHERITABLE[i]``), which the runtime answers itself without calling Python.
"""

from __future__ import annotations

from types import MethodType

from . import _runtime
from ._callbacks import INHERITABLE, INHERITABLE_METHODS
from ._failure import report
from ._state import SdkState, state
from .context import RootContext
from .http import HttpContext
from .stream import StreamContext
from .types import ContextType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .context import Context

_VARARGS = 0x04  # inspect.CO_VARARGS, without importing inspect into every module
_new = object.__new__
# The state's maps, bound once (they keep their identity).
_roots = state.roots
_http = state.http
_streams = state.streams
_paused = state.paused
_awaiting = state.awaiting
_inherited_by_class = state.inherited_by_class


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
    state.root_ids = _ids_taken(factory, 1, "set_root_context")
    state.root_factory = factory


def set_http_context(
    factory: Callable[[int, int], HttpContext] | Callable[[int], HttpContext]
    | Callable[[], HttpContext],
) -> None:
    """Register the HTTP context factory: an HttpContext class, or a function returning one,
    called with no argument or with ``(context_id, root_context_id)`` if it requires them."""
    state.http_ids = _ids_taken(factory, 2, "set_http_context")
    state.http_factory = factory
    state.plain_http = None


def set_stream_context(
    factory: Callable[[int, int], StreamContext] | Callable[[int], StreamContext]
    | Callable[[], StreamContext],
) -> None:
    """Register the TCP context factory: a StreamContext class, or a function returning one,
    called with no argument or with ``(context_id, root_context_id)`` if it requires them."""
    state.stream_ids = _ids_taken(factory, 2, "set_stream_context")
    state.stream_factory = factory
    state.plain_stream = None


def registered() -> bool:
    """Return True if the filter registered a root, HTTP or stream context factory."""
    return (state.root_factory is not None or state.http_factory is not None
            or state.stream_factory is not None)


def prepare() -> None:
    """After the filter's import: find which callbacks its context classes inherit, and
    whether its factories are plain classes whose contexts can be made without calling them."""
    state.plain_http = _plain_class(state.http_factory, HttpContext)
    state.plain_stream = None
    if state.http_factory is None:
        state.plain_stream = _plain_class(state.stream_factory, StreamContext)


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
    """Forget every factory, context and pending callout (for tests and the emulator); the
    run-time set-up and the log level stay."""
    for waiter in state.awaiting.values():
        waiter.coroutine.close()
    fresh = SdkState()
    fresh.started, fresh.log_threshold = state.started, state.log_threshold
    state.swap(fresh)


# Lifecycle


def find(context_id: int) -> RootContext | HttpContext | StreamContext | None:
    """The context of ``context_id``, of any kind, or None."""
    context: RootContext | HttpContext | StreamContext | None = _http.get(context_id)
    if context is None:
        context = _streams.get(context_id)
        if context is None:
            context = _roots.get(context_id)
    return context


def create(context_id: int, parent_context_id: int) -> int:
    """Create a root context (parent 0) or an HTTP/TCP context of the root ``parent``; return
    the mask of callbacks the new HTTP/TCP context inherits (0: none, a root or a failure),
    which the runtime answers itself (the dispatcher's ``on_context_create``). The runtime
    makes the contexts of a plain class itself, the same way (``create_plain`` in
    runtime/callbacks.c and testing/router.py): keep them in step."""
    if parent_context_id == 0:
        _create_root(context_id)
        return 0
    try:
        http = state.plain_http
        if http is not None:
            context = _new(http)
            context.context_id = context_id
            context.root_context_id = parent_context_id
            _http[context_id] = context
            return _inherited_by_class[http]
        stream = state.plain_stream
        if stream is not None:
            connection = _new(stream)
            connection.context_id = context_id
            connection.root_context_id = parent_context_id
            _streams[context_id] = connection
            return _inherited_by_class[stream]
        return _create_child(context_id, parent_context_id)
    except BaseException as exc:
        report(exc, f"creating context {context_id} failed; its stream will fail closed")
        return 0


def _inherited(context: Context, base: type[Context]) -> int:
    """The mask of callbacks ``context`` inherits from ``base`` (HttpContext or StreamContext).

    Computed once per class; a callback set on the instance itself counts as overridden.
    """
    mask = state.inherited_by_class.get(type(context))
    if mask is None:
        mask = _class_inherited(type(context), base)
    return mask if INHERITABLE_METHODS.isdisjoint(context.__dict__) else 0


def _class_inherited(cls: type[Context], base: type[Context]) -> int:
    mask = 0
    if cls.__getattribute__ is object.__getattribute__:
        for callback in INHERITABLE:
            if getattr(cls, callback.method, None) is getattr(base, callback.method, None):
                mask |= 1 << callback.bit
    state.inherited_by_class[cls] = mask
    return mask


def _create_root(context_id: int) -> None:
    try:
        _runtime.vm_started()
    except BaseException as exc:
        report(exc, "the run-time set-up (reseeding random, routing stdout/stderr) failed")
    state.creating = (context_id, 0)
    try:
        factory = RootContext if state.root_factory is None else state.root_factory
        root = factory(*(context_id,)[:state.root_ids])
        if not isinstance(root, RootContext):
            raise TypeError(f"the root context factory returned {root!r}, not a RootContext")
        root.context_id = context_id
    except BaseException as exc:
        report(exc, f"creating root context {context_id} failed; the plugin cannot start")
        return
    finally:
        state.creating = None
    state.roots[context_id] = root


def _create_child(context_id: int, root_id: int) -> int:
    """Create the HTTP/TCP context with a registered factory or the root's create method; the
    context objects made meanwhile get the new context's ids."""
    state.creating = (context_id, root_id)
    try:
        return _create_with(context_id, root_id)
    finally:
        state.creating = None


def _create_with(context_id: int, root_id: int) -> int:
    ids = (context_id, root_id)
    if state.http_factory is not None:
        return _add_http(state.http_factory(*ids[:state.http_ids]), context_id, root_id)
    if state.stream_factory is not None:
        return _add_stream(state.stream_factory(*ids[:state.stream_ids]), context_id, root_id)
    root = state.roots.get(root_id)
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
    state.http[context_id] = context
    return _inherited(context, HttpContext)


def _add_stream(context: object, context_id: int, root_id: int) -> int:
    if not isinstance(context, StreamContext):
        raise TypeError(f"the stream context factory returned {context!r}, not a StreamContext")
    context.context_id = context_id
    context.root_context_id = root_id
    state.streams[context_id] = context
    return _inherited(context, StreamContext)


def forget(context_id: int) -> None:
    """Forget a context, its flow and the coroutines it awaits (closed); the host will not
    call it again (the dispatcher's ``on_delete``). While no coroutine awaits and no stream is
    held, the runtime drops an HTTP/TCP context's entry itself instead (``delete_context``)."""
    if _awaiting:
        for token, waiter in list(_awaiting.items()):
            if waiter.context_id == context_id:
                del _awaiting[token]
                waiter.coroutine.close()
        state.waiting.discard(context_id)
    if _paused:
        _paused.pop(context_id, None)
    if _http.pop(context_id, None) is None and _streams.pop(context_id, None) is None:
        _roots.pop(context_id, None)
