"""Callbacks that would end a VM: /exit, /deep, /spin and /abort; /loop/N loops N times; any
other path answers."""

from __future__ import annotations

import faulthandler
import os
import sys

import proxywasm
from proxywasm import Action, HttpContext


class Node:
    """One level of a deep structure whose repr recurses through C."""

    def __init__(self, child: Node | None) -> None:
        self.child = child

    def __repr__(self) -> str:
        return f"Node({self.child!r})"


def deep() -> str:
    """Lift the recursion limit, then recurse through repr far past any stack."""
    sys.setrecursionlimit(10**6)
    node = None
    for _ in range(100_000):
        node = Node(node)
    return repr(node)


def spin() -> None:
    """Loop forever."""
    while True:
        pass


class Traps(HttpContext):
    """Runs the path's hazard in on_http_request_headers."""

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        path = self.get_http_request_header(":path")
        if path == "/exit":
            os._exit(1)
        if path == "/deep":
            deep()
        if path == "/spin":
            spin()
        if path is not None and path.startswith("/loop/"):
            for _ in range(int(path.removeprefix("/loop/"))):
                pass
        if path == "/abort":
            faulthandler._sigabrt()  # type: ignore[attr-defined]  # C abort(): a Wasm trap
        return Action.CONTINUE


proxywasm.set_http_context(Traps)
