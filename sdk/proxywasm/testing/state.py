"""``HostState``: the emulated proxy's state and the semantics of every ABI 0.2.1 host call.

Both engines, and the SDK's unit tests, call its methods (the source engine from a Python
stand-in for ``_proxywasm``, the wasm engine from its ``env.proxy_*`` imports). A method returns
the call's result or raises ``HostStatusError`` with the status the proxy would return. Each
rule lives once, by what it acts on: the VM (``host_root``), an HTTP stream (``host_http``), a
TCP connection (``host_tcp``), an upstream (``host_callouts``), what VMs share
(``host_shared``).
"""

from __future__ import annotations

from .host_callouts import CalloutSemantics
from .host_http import HttpSemantics
from .host_shared import SharedSemantics
from .host_tcp import TcpSemantics


class HostState(HttpSemantics, TcpSemantics, CalloutSemantics, SharedSemantics):
    """Everything the emulated proxy knows, and what each host call does to it."""
