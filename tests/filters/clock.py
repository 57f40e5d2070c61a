"""Reads the host's clock and the default callout timeout without importing ``datetime``
itself: the build must bundle it because the SDK names it needs do."""

from __future__ import annotations

import proxywasm
from proxywasm import RootContext, hostcalls


class Clock(RootContext):
    """Logs the time and the default timeout when the VM starts (a callback, at run time)."""

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        proxywasm.log_info(f"{self.get_current_time():%Y-%m-%d %H:%M:%S %Z}")
        proxywasm.log_info(f"callouts wait {hostcalls.DEFAULT_TIMEOUT.total_seconds():g} s")
        return True


proxywasm.set_root_context(Clock)
