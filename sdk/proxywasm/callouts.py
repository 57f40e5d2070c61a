"""``await``-able HTTP and gRPC calls: what ``Context.http_call``/``grpc_call`` return and raise.

A callback written as ``async def`` may ``await self.http_call(...)``: the SDK pauses the
stream, and when the host reports the answer it resumes the coroutine with an ``HttpResponse``
(or raises ``HttpCallError`` in it). What the coroutine finally returns decides the stream:
``Action.CONTINUE`` resumes it, ``Action.PAUSE`` leaves it to the filter (e.g. after
``send_http_response``).
"""

from __future__ import annotations

from ._state import state

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Generator

    from ._state import Awaiting


class HttpResponse:
    """The answer to an awaited HTTP call, read from the host while it was reported."""

    __slots__ = ("body", "headers", "trailers")
    headers: list[tuple[str, str]]
    body: bytes
    trailers: list[tuple[str, str]]

    def __init__(
        self, headers: list[tuple[str, str]], body: bytes, trailers: list[tuple[str, str]]
    ) -> None:
        self.headers = headers
        self.body = body
        self.trailers = trailers

    @property
    def status(self) -> int:
        """The ``:status`` of the response (0 if the host gave none)."""
        value = self.header(":status")
        return int(value) if value and value.isdigit() else 0

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def __repr__(self) -> str:
        return (
            f"HttpResponse(status={self.status}, headers={len(self.headers)}, body={self.body!r})"
        )


class GrpcResponse:
    """The answer to an awaited unary gRPC call that succeeded: the response message."""

    __slots__ = ("message",)
    message: bytes

    def __init__(self, message: bytes) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"GrpcResponse(message={self.message!r})"


class CalloutError(Exception):
    """An awaited HTTP or gRPC call failed; raised at the ``await``."""


class HttpCallError(CalloutError):
    """The HTTP call got no response (unreachable upstream, reset or timeout)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        super().__init__(
            f"the HTTP call to cluster {upstream!r} got no response (the upstream is "
            "unreachable, reset the connection or timed out)"
        )


class GrpcCallError(CalloutError):
    """The gRPC call ended with a status other than OK; ``status_code`` and ``status_message``."""

    def __init__(self, service: str, method: str, status_code: int, status_message: str | None):
        self.status_code = status_code
        self.status_message = status_message
        detail = f": {status_message}" if status_message else ""
        super().__init__(
            f"the gRPC call {service}/{method} failed with status {status_code}{detail}"
        )


class PendingCall:
    """An HTTP or gRPC call in flight, identified by its host token."""

    __slots__ = ("method", "service", "token", "upstream")

    def __init__(self, token: int, upstream: str, service: str = "", method: str = "") -> None:
        self.token = token
        self.upstream = upstream
        self.service = service
        self.method = method

    def _wait(self, waiter: Awaiting) -> None:
        """Hand this call's answer to ``waiter``, the coroutine that awaits it."""
        state.awaiting[self.token] = waiter

    def _collect(
        self, value: object, error: BaseException | None
    ) -> tuple[object, BaseException | None] | None:
        """What the awaiting coroutine resumes with once this call answered (None: it waits
        on, for the other calls of a ``gather``)."""
        return value, error


class PendingHttpCall(PendingCall):
    """``await`` it inside an ``async def`` callback to get the ``HttpResponse``."""

    __slots__ = ()

    def __await__(self) -> Generator[PendingCall, HttpResponse, HttpResponse]:
        return (yield self)


class PendingGrpcCall(PendingCall):
    """``await`` it inside an ``async def`` callback to get the ``GrpcResponse``."""

    __slots__ = ()

    def __await__(self) -> Generator[PendingCall, GrpcResponse, GrpcResponse]:
        return (yield self)
