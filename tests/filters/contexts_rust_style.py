"""Contexts made the Rust way: a root from a lambda that ignores the id, and HTTP contexts
constructed with no ids in ``create_http_context``, in the style the plugin configuration names.

Every HTTP context answers ``x-ids: CONTEXT ROOT`` (its ids) and ``x-init`` (what its
``__init__`` saw); the root logs the id it saw in its ``__init__``.
"""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, RootContext


class Reporting(HttpContext):
    """No ``__init__`` of its own: made with ``Reporting()``."""

    init = "none"

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header("x-ids", f"{self.context_id} {self.root_context_id}")
        self.set_http_response_header("x-init", self.init)
        self.set_http_response_header("x-class", type(self).__name__)
        return Action.CONTINUE


class OwnInit(Reporting):
    """An ``__init__`` that takes no ids and does not call ``super().__init__()``."""

    def __init__(self) -> None:
        self.init = "ran"


class OwnInitSuper(Reporting):
    """An ``__init__`` that takes no ids and calls ``super().__init__()``."""

    def __init__(self) -> None:
        super().__init__()
        self.init = f"{self.context_id} {self.root_context_id}"


class GivenIds(Reporting):
    """The explicit style: the ids are passed on to ``super().__init__``."""

    def __init__(self, context_id: int, root_context_id: int) -> None:
        super().__init__(context_id, root_context_id)
        self.init = f"{context_id} {root_context_id}"


class Root(RootContext):
    """Made by ``lambda context_id: Root()``; its configuration picks the HTTP context style."""

    def __init__(self) -> None:
        super().__init__()
        self.style = "plain"
        proxywasm.log_info(f"root created with id {self.context_id}")

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.style = (self.get_plugin_configuration() or b"plain").decode()
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        if self.style == "own-init":
            return OwnInit()
        if self.style == "own-init-super":
            return OwnInitSuper()
        if self.style == "given-ids":
            return GivenIds(context_id, self.context_id)
        return Reporting()


proxywasm.set_root_context(lambda context_id: Root())
