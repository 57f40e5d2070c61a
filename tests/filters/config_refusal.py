"""A filter whose configurations are checked by ConfigError alone: no try/except of its own."""

from __future__ import annotations

from dataclasses import dataclass

import proxywasm
from proxywasm import ConfigError, RootContext
from proxywasm.config import load


@dataclass
class Settings:
    """A limit that must be positive: ``__post_init__`` checks it with a plain ValueError."""

    limit: int

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")


class RefusingRoot(RootContext):
    """Refuses a VM configuration other than ``ok`` and a plugin configuration ``load`` refuses."""

    def on_vm_start(self, vm_configuration_size: int) -> bool:
        vm_configuration = self.get_vm_configuration() or b""
        if vm_configuration != b"ok":
            raise ConfigError(f"expected b'ok', got {vm_configuration!r}")
        return True

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.settings = load(Settings, self.get_plugin_configuration())
        return True


proxywasm.set_root_context(RefusingRoot)
