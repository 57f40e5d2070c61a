"""``StreamContext``: one per TCP connection, with the Rust SDK's ``StreamContext`` API."""

from __future__ import annotations

from . import _host, _state
from .context import Context
from .hostcalls import MAX_SIZE
from .types import Action, BufferType, PeerType, StreamType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable

_DOWNSTREAM_DATA = BufferType.DOWNSTREAM_DATA
_UPSTREAM_DATA = BufferType.UPSTREAM_DATA
_DOWNSTREAM = StreamType.DOWNSTREAM
_UPSTREAM = StreamType.UPSTREAM


class StreamContext(Context):
    """The context of one TCP connection (a network filter); override the callbacks you need.

    When a callback raises, the SDK logs the traceback and, by default, closes the
    connection; set ``fail_open = True`` to log and continue instead.
    """

    fail_open: bool = False
    root_context_id: int

    def __init__(self, context_id: int | None = None, root_context_id: int | None = None) -> None:
        # _contexts.create sets both ids without calling __init__ when a subclass
        # does not override it: keep them in step.
        super().__init__(context_id)
        self.root_context_id = (
            _state.new_ids()[1] if root_context_id is None else root_context_id
        )

    def on_new_connection(self) -> Action | Awaitable[Action]:
        """Called when a client connects; return PAUSE to hold the connection."""
        return Action.CONTINUE

    # Downstream (client to proxy)

    def on_downstream_data(self, data_size: int, end_of_stream: bool) -> Action | Awaitable[Action]:
        """Called as data arrives from the client; return PAUSE to buffer it."""
        return Action.CONTINUE

    def get_downstream_data(self, start: int = 0, max_size: int = MAX_SIZE) -> bytes | None:
        """Return up to ``max_size`` bytes of the buffered client data from ``start``."""
        return _host.get_buffer_bytes(_DOWNSTREAM_DATA, start, max_size)

    def set_downstream_data(self, start: int, size: int, value: bytes) -> None:
        """Replace ``size`` bytes of the buffered client data at ``start`` with ``value``."""
        _host.set_buffer_bytes(_DOWNSTREAM_DATA, start, size, value)

    def resume_downstream(self) -> None:
        """Resume client data after a callback returned PAUSE."""
        _state.state.release(self.context_id)
        _host.continue_stream(_DOWNSTREAM)

    def close_downstream(self) -> None:
        """Close the client connection."""
        _host.close_stream(_DOWNSTREAM)

    def on_downstream_close(self, peer_type: PeerType) -> None:
        """Called when the client connection closes; ``peer_type`` says which side closed it."""

    # Upstream (server to proxy)

    def on_upstream_data(self, data_size: int, end_of_stream: bool) -> Action | Awaitable[Action]:
        """Called as data arrives from the server; return PAUSE to buffer it."""
        return Action.CONTINUE

    def get_upstream_data(self, start: int = 0, max_size: int = MAX_SIZE) -> bytes | None:
        """Return up to ``max_size`` bytes of the buffered server data from ``start``."""
        return _host.get_buffer_bytes(_UPSTREAM_DATA, start, max_size)

    def set_upstream_data(self, start: int, size: int, value: bytes) -> None:
        """Replace ``size`` bytes of the buffered server data at ``start`` with ``value``."""
        _host.set_buffer_bytes(_UPSTREAM_DATA, start, size, value)

    def resume_upstream(self) -> None:
        """Resume server data after a callback returned PAUSE (Envoy: UnimplementedError)."""
        _state.state.release(self.context_id)
        _host.continue_stream(_UPSTREAM)

    def close_upstream(self) -> None:
        """Close the upstream connection."""
        _host.close_stream(_UPSTREAM)

    def on_upstream_close(self, peer_type: PeerType) -> None:
        """Called when the server connection closes; ``peer_type`` says which side closed it."""

    def on_log(self) -> None:
        """Called when the host writes the connection's access log."""
