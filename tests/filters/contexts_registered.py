"""Context classes with an ``__init__`` of their own (no ids, no ``super().__init__()``)
registered directly: the SDK calls them with no argument and sets the ids itself."""

from __future__ import annotations

import proxywasm
from proxywasm import Action, HttpContext, RootContext


class Root(RootContext):
    """Keeps a per-plugin greeting; never calls ``super().__init__()``."""

    def __init__(self) -> None:
        self.greeting = "hello"

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        proxywasm.log_info(f"{self.greeting} from root {self.context_id}")
        return True


class Greeter(HttpContext):
    """Says its ids, and that its own ``__init__`` ran."""

    def __init__(self) -> None:
        self.init = "ran"

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.set_http_response_header("x-ids", f"{self.context_id} {self.root_context_id}")
        self.set_http_response_header("x-init", self.init)
        return Action.CONTINUE


proxywasm.set_root_context(Root)
proxywasm.set_http_context(Greeter)
