"""``held_requests`` as written for a proxy where host calls act on the context whose callback
runs: the tick calls the request's methods without making it effective (loads in WasmX)."""

from __future__ import annotations

from held_requests import Holder

import proxywasm

proxywasm.set_root_context(Holder)
