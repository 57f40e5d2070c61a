"""``StreamContext``: one per TCP connection, with the Rust SDK's ``StreamContext`` API."""

from __future__ import annotations

from . import _host, _state, hostcalls
from .context import Context
from .hostcalls import method
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

    get_downstream_data = method(_DOWNSTREAM_DATA, hostcalls.get_buffer)
    """Return up to ``max_size`` bytes of the buffered client data from ``start``."""

    set_downstream_data = method(_DOWNSTREAM_DATA, hostcalls.set_buffer)
    """Replace ``size`` bytes of the buffered client data at ``start`` with ``value``."""

    def resume_downstream(self) -> None:
        """Resume client data after a callback returned PAUSE."""
        _state.state.release(self.context_id)
        _host.continue_stream(_DOWNSTREAM)

    close_downstream = method(_DOWNSTREAM, hostcalls.close_stream)
    """Close the client connection."""

    def on_downstream_close(self, peer_type: PeerType) -> None:
        """Called when the client connection closes; ``peer_type`` says which side closed it."""

    # Upstream (server to proxy)

    def on_upstream_data(self, data_size: int, end_of_stream: bool) -> Action | Awaitable[Action]:
        """Called as data arrives from the server; return PAUSE to buffer it."""
        return Action.CONTINUE

    get_upstream_data = method(_UPSTREAM_DATA, hostcalls.get_buffer)
    """Return up to ``max_size`` bytes of the buffered server data from ``start``."""

    set_upstream_data = method(_UPSTREAM_DATA, hostcalls.set_buffer)
    """Replace ``size`` bytes of the buffered server data at ``start`` with ``value``."""

    def resume_upstream(self) -> None:
        """Resume server data after a callback returned PAUSE (Envoy: UnimplementedError)."""
        _state.state.release(self.context_id)
        _host.continue_stream(_UPSTREAM)

    close_upstream = method(_UPSTREAM, hostcalls.close_stream)
    """Close the upstream connection."""

    def on_upstream_close(self, peer_type: PeerType) -> None:
        """Called when the server connection closes; ``peer_type`` says which side closed it."""

    def on_log(self) -> None:
        """Called when the host writes the connection's access log."""
