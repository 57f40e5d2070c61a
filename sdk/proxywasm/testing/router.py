"""The runtime's callback routing (runtime/callbacks.c) in Python, for the source engine.

It enters the SDK where the C runtime does, from the same declaration
(``proxywasm._callbacks``): callbacks a context's class inherits are answered here, overridden
stream callbacks are called on the context itself with anything but CONTINUE handed to
``_dispatch.finish_direct``, contexts of a plain class are created and (with no callout awaited
and no stream held) deleted here, and everything else goes to the dispatcher's ``on_*``
function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _dispatch
from .._callbacks import BY_NAME, Callback
from .._state import state
from ..http import HttpContext
from ..stream import StreamContext
from ..types import Action

_CONTINUE = Action.CONTINUE


class Router:
    """Per-context inherited masks and held flags, as the runtime keeps them."""

    def __init__(self) -> None:
        self._inherited: dict[int, int] = {}
        self._held: set[int] = set()

    def set_inherited(self, context_id: int, inherited: int) -> None:
        """Record the callbacks ``context_id`` inherits (``set_inherited_callbacks``)."""
        if context_id != 0:
            self._inherited[context_id] = inherited

    def call(self, export: str, *args: int) -> int:
        """Run the callback ``export`` (``proxy_on_*``) as the runtime routes it."""
        callback = BY_NAME[export.removeprefix("proxy_")]
        function = getattr(_dispatch, callback.name)
        context_id = args[0]
        mask = self._inherited.get(context_id)
        if callback.route == "create":
            answer = _create_plain(*args) if args[1] != 0 else None
            if answer is None:
                answer = function(*args)
            if args[1] != 0:
                self.set_inherited(context_id, answer)
            return 0
        if callback.route == "delete":
            if mask is not None and not state.awaiting and not state.paused:
                if state.http.pop(context_id, None) is None:
                    state.streams.pop(context_id, None)
            else:
                function(*args)
            self._inherited.pop(context_id, None)
            self._held.discard(context_id)
            return 0
        if callback.route == "inherited" and mask is not None and mask >> callback.bit & 1:
            return callback.answer
        if callback.route != "stream":
            result = function(*args)
            return 0 if result is None else int(result)
        if mask is None or context_id in self._held:
            action = int(function(*args))
        elif mask >> callback.bit & 1:
            return 0
        else:
            action = _direct(callback, function, args)
        if context_id in self._inherited:
            if action:
                self._held.add(context_id)
            else:
                self._held.discard(context_id)
        return action


def _create_plain(context_id: int, parent_context_id: int) -> int | None:
    """Make the context of the SDK's plain class as the runtime does (``create_plain``): its
    inherited mask, or None when there is no such class (the dispatcher creates it then)."""
    kinds: tuple[tuple[type[HttpContext] | type[StreamContext] | None, dict[int, Any]], ...] = (
        (state.plain_http, state.http), (state.plain_stream, state.streams))
    for cls, contexts in kinds:
        mask = state.inherited_by_class.get(cls) if cls is not None else None
        if mask is not None and cls is not None and cls.__setattr__ is object.__setattr__:
            context: HttpContext | StreamContext = object.__new__(cls)
            context.context_id = context_id
            context.root_context_id = parent_context_id
            contexts[context_id] = context
            return mask
    return None


def _direct(callback: Callback, function: Callable[..., int], args: tuple[int, ...]) -> int:
    """Call the overridden stream ``callback`` on the context itself, as the runtime does."""
    context_id = args[0]
    context = (state.http if callback.http else state.streams).get(context_id)
    if context is None:
        return function(*args)
    arguments: tuple[object, ...] = args[1:2] + tuple(value != 0 for value in args[2:3])
    try:
        result = getattr(context, callback.method)(*arguments)
    except BaseException as error:
        return int(_dispatch.finish_direct(context_id, callback.bit, None, error))
    if result is _CONTINUE:
        state.release(context_id)
        return 0
    return int(_dispatch.finish_direct(context_id, callback.bit, result, None))
