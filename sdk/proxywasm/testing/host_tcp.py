"""The host calls that act on a TCP connection: its data buffers, resuming, closing a side."""

from __future__ import annotations

from ..types import BufferType, Status, StreamType
from .contexts import TcpState
from .host_root import RootSemantics
from .records import HostStatusError

_TCP_STREAMS = frozenset({StreamType.DOWNSTREAM, StreamType.UPSTREAM})
_TCP_DATA = frozenset({BufferType.DOWNSTREAM_DATA, BufferType.UPSTREAM_DATA})


class TcpSemantics(RootSemantics):
    """What the host calls do to the current TCP connection."""

    def _connection(self) -> TcpState:
        connection = self.connections.get(self.current_context)
        if connection is None:
            raise HostStatusError(Status.BAD_ARGUMENT,
                                  "the current context is not a TCP connection")
        return connection

    def _context_buffer(self, buffer_type: int) -> bytearray | None:
        if buffer_type not in _TCP_DATA:
            return super()._context_buffer(buffer_type)
        connection = self.connections.get(self.current_context)
        return None if connection is None else connection.data_buffer(buffer_type)

    def _resuming(self, stream_type: int) -> None:
        """Envoy resumes only the downstream side of a connection."""
        if stream_type not in _TCP_STREAMS:
            super()._resuming(stream_type)
            return
        self._connection()
        if stream_type == StreamType.UPSTREAM:
            raise HostStatusError(Status.UNIMPLEMENTED,
                                  "Envoy cannot resume a TCP connection's upstream")

    def _closing(self, stream_type: int) -> None:
        if stream_type not in _TCP_STREAMS:
            super()._closing(stream_type)
            return
        self._connection()
