"""A background plugin: a timer that logs the time and a random number (Rust's hello_world).

``on_vm_start`` reads the tick period (in milliseconds) from the VM configuration, so the
same module ticks as often as the proxy's configuration says; the default is 5 seconds.
"""

from __future__ import annotations

import random
from datetime import timedelta

import proxywasm
from proxywasm import RootContext


class HelloWorld(RootContext):
    """Starts the timer and says hello on every tick."""

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        configured = (self.get_vm_configuration() or b"").strip()
        if configured and not configured.isdigit():
            proxywasm.log_error(
                f"the VM configuration must be a tick period in ms, not {configured!r}"
            )
            return False
        period = timedelta(milliseconds=int(configured or b"5000"))
        self.set_tick_period(period)
        proxywasm.log_info(f"Hello, World! ticking every {period.total_seconds():g} s")
        return True

    def on_tick(self) -> None:
        now = self.get_current_time()
        proxywasm.log_info(
            f"It's {now:%Y-%m-%d %H:%M:%S}, here is a number: {random.randrange(100)}"
        )


proxywasm.set_root_context(HelloWorld)
