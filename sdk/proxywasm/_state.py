"""The SDK's one state object: everything the dispatcher and the contexts share at run time.

``state`` holds the registered factories, the live contexts, the pending callouts and the
per-context flow (the stream a context holds paused, whether a coroutine of it awaits a
callout); ``resume_*`` methods tell it through ``release``. The mask of callbacks a context
inherits is computed here (``_contexts``) but kept by the runtime, which answers them. The C
runtime binds some of the dicts once, so they keep their identity: an emulator running several
filters parks and restores a whole state with ``swap``.
"""

from __future__ import annotations

from .types import LogLevel

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from .callouts import PendingCall
    from .context import RootContext
    from .http import HttpContext
    from .stream import StreamContext
    from .types import StreamType


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


class SdkState:
    """Factories, contexts, callouts and flows of one filter (see the module docstring)."""

    __slots__ = (
        "awaiting", "creating", "grpc_calls", "grpc_streams", "http", "http_calls",
        "http_factory", "http_ids", "inherited_by_class", "log_threshold", "paused",
        "plain_http", "plain_stream", "root_factory", "root_ids", "roots", "started",
        "stream_factory", "stream_ids", "streams", "waiting",
    )

    def __init__(self) -> None:
        self.root_factory: Callable[..., RootContext] | None = None
        self.http_factory: Callable[..., HttpContext] | None = None
        self.stream_factory: Callable[..., StreamContext] | None = None
        self.root_ids = self.http_ids = self.stream_ids = 0
        """How many of the ids (context_id, root_context_id) each factory requires."""
        self.plain_http: type[HttpContext] | None = None
        """The HTTP factory when it is a plain subclass: its contexts are made without it."""
        self.plain_stream: type[StreamContext] | None = None
        self.inherited_by_class: dict[type, int] = {}
        self.roots: dict[int, RootContext] = {}
        self.http: dict[int, HttpContext] = {}
        self.streams: dict[int, StreamContext] = {}
        self.creating: tuple[int, int] | None = None
        """While the host creates a context: its ``(context_id, root_context_id)`` (0: root)."""
        self.http_calls: dict[int, int] = {}
        """Callout token -> the context that made it, for each kind of callout."""
        self.grpc_calls: dict[int, int] = {}
        self.grpc_streams: dict[int, int] = {}
        self.awaiting: dict[int, Awaiting] = {}
        """Callout token -> the coroutine awaiting its result."""
        self.paused: dict[int, StreamType] = {}
        """Context id -> the stream a callback of it paused and nobody resumed yet."""
        self.waiting: set[int] = set()
        """Contexts a coroutine of which awaits a callout (their stream callbacks wait too)."""
        self.started = False
        """Whether the run-time set-up (``_runtime.vm_started``) ran."""
        self.log_threshold = LogLevel.TRACE

    def hold(self, context_id: int, stream: StreamType | None) -> None:
        """Record that ``context_id`` holds ``stream`` paused (None: it holds none)."""
        if stream is None:
            if self.paused:
                self.paused.pop(context_id, None)
        else:
            self.paused[context_id] = stream

    def release(self, context_id: int) -> StreamType | None:
        """Forget the stream ``context_id`` held paused (``resume_*`` was called); return it."""
        return self.paused.pop(context_id, None) if self.paused else None

    def swap(self, other: SdkState) -> None:
        """Exchange every field with ``other``; dicts and sets keep their identity."""
        for name in self.__slots__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, dict | set):
                kept = mine.copy()
                mine.clear()
                mine.update(theirs)
                theirs.clear()
                theirs.update(kept)
            else:
                setattr(self, name, theirs)
                setattr(other, name, mine)


state = SdkState()
"""The state the SDK runs with (an emulator swaps others in and out)."""


def new_ids() -> tuple[int, int]:
    """The ids of the context being created, for a context ``__init__`` given none."""
    creating = state.creating
    if creating is None:
        raise TypeError(
            "this context is made outside a context factory or create_*_context method, so "
            "the SDK has no ids for it: pass them, e.g. MyContext(context_id, root_context_id)"
        )
    return creating
