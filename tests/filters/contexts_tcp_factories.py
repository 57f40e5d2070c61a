"""Factories that take no ids or only some: a root from ``lambda: ...`` and TCP contexts from
a two-argument lambda that ignores them, with an ``__init__`` calling ``super().__init__()``."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, RootContext, StreamContext


class Root(RootContext):
    """A root with no ``__init__`` of its own."""


class Echo(StreamContext):
    """Prefixes the client's data with the connection's ids (and those its __init__ saw)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = f"{prefix} {self.context_id} {self.root_context_id}"

    def on_downstream_data(self, data_size: int, end_of_stream: bool) -> Action:
        ids = f"{self.prefix} / {self.context_id} {self.root_context_id}: ".encode()
        self.set_downstream_data(0, 0, ids)
        return Action.CONTINUE


proxywasm.set_root_context(lambda: Root())
proxywasm.set_stream_context(lambda context_id, root_context_id: Echo("ids"))
