"""``HostState``: the emulated proxy's state and the semantics of every ABI 0.2.1 host call.

Both engines, and the SDK's unit tests, call its methods (the source engine from a Python
stand-in for ``_proxywasm``, the wasm engine from its ``env.proxy_*`` imports). A method returns
the call's result or raises ``HostStatusError`` with the status the proxy would return. The
rules live by scope: VM-wide calls in ``host_root``, a stream's in ``host_http``, a
connection's in ``host_tcp``.
"""

from __future__ import annotations

from .host_http import HttpSemantics
from .host_tcp import TcpSemantics


class HostState(HttpSemantics, TcpSemantics):
    """Everything the emulated proxy knows, and what each host call does to it."""
