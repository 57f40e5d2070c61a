"""A TCP (network) filter: shout what clients send, count bytes, refuse a forbidden word.

Runs as ``envoy.filters.network.wasm`` in front of ``tcp_proxy``. Client data is upper-cased
on its way to the server; a client that sends ``QUIT`` is disconnected; when the connection
ends, the filter logs how many bytes went each way and who closed first.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, PeerType, StreamContext


class Shout(StreamContext):
    """One per TCP connection."""

    def __init__(self, context_id: int, root_context_id: int) -> None:
        super().__init__(context_id, root_context_id)
        self.sent = 0
        self.received = 0

    def on_new_connection(self) -> Action:
        proxywasm.log_info(f"connection {self.context_id} opened")
        return Action.CONTINUE

    def on_downstream_data(self, data_size: int, end_of_stream: bool) -> Action:
        data = self.get_downstream_data(0, data_size) or b""
        if data.strip() == b"QUIT":
            self.close_downstream()
            return Action.PAUSE
        self.sent += data_size
        self.set_downstream_data(0, data_size, data.upper())
        return Action.CONTINUE

    def on_upstream_data(self, data_size: int, end_of_stream: bool) -> Action:
        self.received += data_size
        return Action.CONTINUE

    def on_downstream_close(self, peer_type: PeerType) -> None:
        proxywasm.log_info(f"connection {self.context_id}: client side closed ({peer_type.name})")

    def on_upstream_close(self, peer_type: PeerType) -> None:
        proxywasm.log_info(f"connection {self.context_id}: server side closed ({peer_type.name})")

    def on_log(self) -> None:
        proxywasm.log_info(
            f"connection {self.context_id}: {self.sent} bytes up, {self.received} bytes down"
        )


proxywasm.set_stream_context(Shout)
