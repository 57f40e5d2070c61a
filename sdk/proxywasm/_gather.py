"""``proxywasm.gather``: await several HTTP and gRPC calls at once, like ``asyncio.gather``.

Every call is in flight from the moment ``self.http_call(...)`` or ``self.grpc_call(...)``
returns; ``await gather(...)`` pauses the coroutine until all of them have answered and resumes
it once, with their results in argument order. A failure raises only then, and it is the first
failed call's in argument order: Proxy-Wasm cannot cancel an HTTP call, so resuming at the first
failure would leave the other answers arriving for a coroutine that moved on (or a stream
already answered), and which error is raised would depend on timing. A module carries this file
only when its filter names ``gather`` (see the wrapper in ``proxywasm/__init__.py``).
"""

from __future__ import annotations

from ._state import Awaiting, state
from .callouts import CalloutError, PendingCall, PendingGrpcCall, PendingHttpCall

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Generator
    from typing import Any, Literal, Protocol, TypeVar, overload

    _T = TypeVar("_T")
    _T_co = TypeVar("_T_co", covariant=True)
    _T1 = TypeVar("_T1")
    _T2 = TypeVar("_T2")
    _T3 = TypeVar("_T3")
    _T4 = TypeVar("_T4")

    class _Call(Protocol[_T_co]):
        """What ``gather`` takes: a ``PendingHttpCall`` or ``PendingGrpcCall``."""

        @property
        def token(self) -> int: ...
        def __await__(self) -> Generator[PendingCall, Any, _T_co]: ...

    _E = CalloutError
    _F = Literal[False]

    class _Gather(Protocol):
        """``gather``'s signatures: a result type per call, as ``asyncio.gather`` has."""

        @overload
        def __call__(self, c1: _Call[_T1], /, *, return_exceptions: _F = False
                     ) -> Awaitable[tuple[_T1]]: ...
        @overload
        def __call__(self, c1: _Call[_T1], c2: _Call[_T2], /, *, return_exceptions: _F = False
                     ) -> Awaitable[tuple[_T1, _T2]]: ...
        @overload
        def __call__(self, c1: _Call[_T1], c2: _Call[_T2], c3: _Call[_T3], /, *,
                     return_exceptions: _F = False) -> Awaitable[tuple[_T1, _T2, _T3]]: ...
        @overload
        def __call__(self, c1: _Call[_T1], c2: _Call[_T2], c3: _Call[_T3], c4: _Call[_T4], /,
                     *, return_exceptions: _F = False
                     ) -> Awaitable[tuple[_T1, _T2, _T3, _T4]]: ...
        @overload
        def __call__(self, *calls: _Call[_T], return_exceptions: _F = False
                     ) -> Awaitable[tuple[_T, ...]]: ...
        @overload
        def __call__(self, c1: _Call[_T1], /, *, return_exceptions: Literal[True]
                     ) -> Awaitable[tuple[_T1 | _E]]: ...
        @overload
        def __call__(self, c1: _Call[_T1], c2: _Call[_T2], /, *,
                     return_exceptions: Literal[True]) -> Awaitable[tuple[_T1 | _E, _T2 | _E]]: ...
        @overload
        def __call__(self, c1: _Call[_T1], c2: _Call[_T2], c3: _Call[_T3], /, *,
                     return_exceptions: Literal[True]
                     ) -> Awaitable[tuple[_T1 | _E, _T2 | _E, _T3 | _E]]: ...
        @overload
        def __call__(self, c1: _Call[_T1], c2: _Call[_T2], c3: _Call[_T3], c4: _Call[_T4], /,
                     *, return_exceptions: Literal[True]
                     ) -> Awaitable[tuple[_T1 | _E, _T2 | _E, _T3 | _E, _T4 | _E]]: ...
        @overload
        def __call__(self, *calls: _Call[_T], return_exceptions: Literal[True]
                     ) -> Awaitable[tuple[_T | _E, ...]]: ...


def _gather(*calls: PendingCall, return_exceptions: bool = False) -> Gathering:
    """Await calls made with ``self.http_call``/``self.grpc_call`` together: the results, in
    argument order, once every call has answered.

    A failed call raises its ``CalloutError`` once all have answered (the first failed one in
    argument order); with ``return_exceptions=True`` it takes the call's place in the results.
    """
    for call in calls:
        if not isinstance(call, PendingHttpCall | PendingGrpcCall):
            raise TypeError(
                f"gather() takes the calls self.http_call(...) and self.grpc_call(...) return, "
                f"not {call!r}: await anything else on its own"
            )
    if len({call.token for call in calls}) != len(calls):
        raise ValueError("gather() got the same call twice: pass each call once")
    return Gathering(calls, return_exceptions)


gather: _Gather = _gather  # type: ignore[assignment]
"""The typed ``gather`` (``_Gather``); ``_gather`` does the work."""


class Gathering(PendingCall):
    """Calls awaited together: what ``gather`` returns, and the results collected so far."""

    __slots__ = ("calls", "failures", "left", "results", "return_exceptions")

    def __init__(self, calls: tuple[PendingCall, ...], return_exceptions: bool) -> None:
        super().__init__(0, "")
        self.calls = calls
        self.return_exceptions = return_exceptions
        self.results: list[object] = [None] * len(calls)
        self.failures: list[BaseException | None] = [None] * len(calls)
        self.left = len(calls)

    def __await__(self) -> Generator[PendingCall, Any, tuple[Any, ...]]:
        if not self.calls:
            return ()
        results: tuple[Any, ...] = yield self
        return results

    def _wait(self, waiter: Awaiting) -> None:
        """Register the coroutine for each call's answer, through a ``_Member`` of this."""
        for index, call in enumerate(self.calls):
            member = _Member(self, index, call)
            state.awaiting[call.token] = Awaiting(
                waiter.context_id, waiter.coroutine, waiter.stream, waiter.callback, member)

    def collect(
        self, index: int, value: object, error: BaseException | None
    ) -> tuple[object, BaseException | None] | None:
        """Keep call ``index``'s answer; once the last one is in, what the coroutine resumes
        with: the results, or the first failure in argument order."""
        if error is not None and self.return_exceptions and isinstance(error, CalloutError):
            value, error = error, None
        self.results[index] = value
        self.failures[index] = error
        self.left -= 1
        if self.left:
            return None
        failure = next((error for error in self.failures if error is not None), None)
        return (None, failure) if failure is not None else (tuple(self.results), None)


class _Member(PendingCall):
    """One call of a ``Gathering``: its answer goes to the gathering."""

    __slots__ = ("gathering", "index")

    def __init__(self, gathering: Gathering, index: int, call: PendingCall) -> None:
        super().__init__(call.token, call.upstream, call.service, call.method)
        self.gathering = gathering
        self.index = index

    def _collect(
        self, value: object, error: BaseException | None
    ) -> tuple[object, BaseException | None] | None:
        return self.gathering.collect(self.index, value, error)
