"""Logs a random number when its VM starts: each VM should draw its own."""

from __future__ import annotations

import random

import proxywasm
from proxywasm import RootContext


class DrawRoot(RootContext):
    """Draws at VM start."""

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        proxywasm.log_info(f"drew {random.random()}")
        return True


proxywasm.set_root_context(DrawRoot)
