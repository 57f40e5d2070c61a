"""A TCP filter: upper-cases client data, holds server data until it ends, closes on QUIT."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, PeerType, StreamContext


class Tcp(StreamContext):
    """Rewrites the client's bytes and watches for QUIT."""

    def on_new_connection(self) -> Action:
        proxywasm.log_info("connected")
        return Action.CONTINUE

    def on_downstream_data(self, data_size: int, end_of_stream: bool) -> Action:
        data = self.get_downstream_data(0, data_size) or b""
        if data.strip() == b"QUIT":
            self.close_downstream()
            return Action.PAUSE
        self.set_downstream_data(0, data_size, data.upper())
        return Action.CONTINUE

    def on_upstream_data(self, data_size: int, end_of_stream: bool) -> Action:
        return Action.CONTINUE if end_of_stream else Action.PAUSE

    def on_downstream_close(self, peer_type: PeerType) -> None:
        proxywasm.log_info(f"client closed ({peer_type.name})")

    def on_upstream_close(self, peer_type: PeerType) -> None:
        proxywasm.log_info("server closed; finishing")
        self.done()

    def on_done(self) -> bool:
        proxywasm.log_info("done later")
        return False

    def on_log(self) -> None:
        proxywasm.log_info("logged")


proxywasm.set_stream_context(Tcp)
