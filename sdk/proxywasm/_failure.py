"""The failure policy: what happens when a filter's callback raises or answers nonsense.

A failing callback is logged with its traceback (the dispatcher's own frames left out); an HTTP
stream then fails closed with a 500 response and a TCP connection is closed, unless the context
sets ``fail_open = True``. A failed context is replaced by a plain one that inherits everything,
so the stream's later callbacks are answered by the runtime.
"""

from __future__ import annotations

import sys

from . import _host
from ._callbacks import ALL_INHERITED
from ._state import state
from ._tb import format_exception, frames
from .http import HttpContext
from .stream import StreamContext
from .types import Action, LogLevel, StreamType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Context

_CONTINUE = Action.CONTINUE
_PAUSE = Action.PAUSE
_ACTION_VALUES = frozenset(Action)
_FAILURE_STATUS = 500
_FAILURE_DETAILS = "python_filter_error"
_FAILURE_BODY = b"filter error\n"
_HERE = __file__[: -len("_failure.py")]
DISPATCHER_FILES = frozenset(
    _HERE + name for name in ("_dispatch.py", "_contexts.py", "_coroutines.py", "_failure.py")
)
"""The files of the dispatcher, whose frames a traceback leaves out."""


def report(exc: BaseException, what: str) -> None:
    """Log ``what`` and the traceback at ERROR, one record per line so each keeps its prefix."""
    text = f"{what}\n{format_exception(exc, DISPATCHER_FILES)}"
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


def log_error(message: str) -> None:
    """Log ``message`` at ERROR (on stderr if the host cannot take it)."""
    try:
        _host.log(LogLevel.ERROR, message)
    except BaseException:
        _stderr_fallback(message)


def where(context: Context | None, callback: str, context_id: int) -> str:
    """``Class.callback (context id)``, naming a callback in a message."""
    owner = type(context).__name__ if context is not None else "context"
    return f"{owner}.{callback} (context {context_id})"


def check_action(value: object, callback: str) -> int:
    """Accept an Action or its plain int value; anything else is the filter's bug."""
    if (value.__class__ is Action or type(value) is int) and value in _ACTION_VALUES:
        return value
    raise TypeError(
        f"{callback}() returned {value!r}; return proxywasm.Action.CONTINUE or Action.PAUSE"
    )


def _note_definition(exc: BaseException, context: Context | None, callback: str) -> None:
    """Name the callback's file and line when no frame of the filter is in the traceback."""
    if any(frame[0] not in DISPATCHER_FILES for frame in frames(exc.__traceback__)):
        return
    code = getattr(getattr(type(context), callback, None), "__code__", None)
    if code is not None:
        exc.add_note(f'  File "{code.co_filename}", line {code.co_firstlineno}, in {callback}')


def http_failed(context_id: int, callback: str, exc: BaseException) -> int:
    """An HTTP callback raised: continue (fail open) or answer 500 and replace the context."""
    context = state.http.get(context_id)
    _note_definition(exc, context, callback)
    if context is None:
        log_error(
            f"{callback}: no HTTP context {context_id} (its creation failed, see the "
            "error above); failing the request closed with a 500 response"
        )
        root_id = 0
    elif context.fail_open:
        report(
            exc,
            f"{where(context, callback, context_id)} raised; failing open "
            "(fail_open = True), the stream continues",
        )
        return _CONTINUE
    else:
        report(
            exc,
            f"{where(context, callback, context_id)} raised; failing closed with a "
            "500 response (set fail_open = True on the class to continue instead)",
        )
        root_id = context.root_context_id
    _replace(context_id)
    state.http[context_id] = HttpContext(context_id, root_id)
    try:
        _host.send_local_response(_FAILURE_STATUS, _FAILURE_DETAILS, _FAILURE_BODY, (), -1)
    except BaseException as send_error:
        report(send_error, "sending the 500 response failed; resetting the stream")
        _close(StreamType.HTTP_REQUEST)
    return _PAUSE


def stream_failed(context_id: int, callback: str, exc: BaseException) -> int:
    """A TCP callback raised: continue (fail open) or close the connection, replacing the
    context."""
    context = state.streams.get(context_id)
    _note_definition(exc, context, callback)
    if context is None:
        log_error(
            f"{callback}: no TCP context {context_id} (its creation failed, see the "
            "error above); closing the connection"
        )
        root_id = 0
    elif context.fail_open:
        report(
            exc,
            f"{where(context, callback, context_id)} raised; failing open "
            "(fail_open = True), the connection continues",
        )
        return _CONTINUE
    else:
        report(
            exc,
            f"{where(context, callback, context_id)} raised; closing the connection "
            "(set fail_open = True on the class to continue instead)",
        )
        root_id = context.root_context_id
    _replace(context_id)
    state.streams[context_id] = StreamContext(context_id, root_id)
    _close(StreamType.DOWNSTREAM)
    return _PAUSE


def _replace(context_id: int) -> None:
    """Reset the flow of a failed context and tell the runtime its replacement inherits every
    callback (the runtime answers them)."""
    state.release(context_id)
    state.waiting.discard(context_id)
    try:
        _host.set_inherited_callbacks(context_id, ALL_INHERITED)
    except BaseException as exc:
        report(exc, f"context {context_id}: its callbacks keep reaching Python")


def _close(stream_type: StreamType) -> None:
    try:
        _host.close_stream(stream_type)
    except BaseException as exc:
        report(exc, f"closing the {stream_type.name} stream failed")


def callout_failed(context: Context, callback: str, exc: BaseException) -> None:
    """A callout callback raised: fail the waiting stream (if any) as its own callback would.

    Failing open resumes the stream the context had paused, so it does not hang.
    """
    paused = state.paused.get(context.context_id)
    if isinstance(context, HttpContext):
        action = http_failed(context.context_id, callback, exc)
    elif isinstance(context, StreamContext):
        action = stream_failed(context.context_id, callback, exc)
    else:
        report(exc, f"{where(context, callback, context.context_id)} raised")
        return
    if action == _CONTINUE and paused is not None:
        state.release(context.context_id)
        _host.continue_stream(paused)
