"""Pending callouts by host token, and the ids of the context being created.

The host reports callout results to the plugin (root) context; the dispatcher uses these maps
to hand each result to the context whose ``dispatch_*``/``open_grpc_stream`` made the call, or
to resume the ``async def`` callback that awaits it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Coroutine

    from .callouts import PendingCall
    from .types import StreamType

http_calls: dict[int, int] = {}
grpc_calls: dict[int, int] = {}
grpc_streams: dict[int, int] = {}
creating: tuple[int, int] | None = None
"""While the host creates a context: its ``(context_id, root_context_id)`` (0: a root)."""


class Awaiting:
    """A coroutine paused on a callout, and the stream it holds until it finishes."""

    __slots__ = ("call", "callback", "context_id", "coroutine", "stream")

    def __init__(
        self,
        context_id: int,
        coroutine: Coroutine[object, object, object],
        stream: StreamType | None,
        callback: str,
        call: PendingCall,
    ) -> None:
        self.context_id = context_id
        self.coroutine = coroutine
        self.stream = stream
        self.callback = callback
        self.call = call


awaiting: dict[int, Awaiting] = {}


def new_ids() -> tuple[int, int]:
    """The ids of the context being created, for a context ``__init__`` given none."""
    if creating is None:
        raise TypeError(
            "this context is made outside a context factory or create_*_context method, so "
            "the SDK has no ids for it: pass them, e.g. MyContext(context_id, root_context_id)"
        )
    return creating


def clear() -> None:
    """Forget every pending callout (used when the dispatcher is reset)."""
    http_calls.clear()
    grpc_calls.clear()
    grpc_streams.clear()
    for waiter in awaiting.values():
        waiter.coroutine.close()
    awaiting.clear()
