"""A root context that calls ``proxy_get_buffer_status``, which Nginx WasmX does not have."""

from __future__ import annotations

import proxywasm
from proxywasm import BufferType, RootContext, hostcalls


class Missing(RootContext):
    """Reads the VM configuration's size with a host function WasmX lacks."""

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        return hostcalls.get_buffer_status(BufferType.VM_CONFIGURATION)[0] >= 0


proxywasm.set_root_context(Missing)
