"""The host calls that reach an upstream: HTTP calls, unary gRPC calls and gRPC streams; the
test answers them (``Host.respond_http_call``, ``respond_grpc_call``...)."""

from __future__ import annotations

from ..types import Status
from .contexts import Event, EventKind
from .host_root import RootSemantics
from .profiles import resolves
from .records import GrpcCall, GrpcStream, HeaderList, HostStatusError, HttpCall, Pairs

_CALLOUT_HEADERS = (":method", ":path", ":authority")
# WasmX's words for a call dispatched from a callback it does not allow
# (``HostProfile.dispatch_callbacks``).
_DISPATCH_TRAP = ('host trap (bad usage): can only send HTTP dispatch during '
                  '"on_request_headers", "on_request_body", "on_tick", "on_dispatch_response", '
                  '"on_foreign_function"')


class CalloutSemantics(RootSemantics):
    """What the callout host calls record, and the proxy's checks of their arguments."""

    def _check_cluster(self, upstream: str) -> None:
        if self.clusters is not None and upstream not in self.clusters:
            raise HostStatusError(Status.BAD_ARGUMENT, f"unknown cluster {upstream!r}")

    def http_call(
        self, upstream: str, headers: Pairs, body: bytes, trailers: Pairs, timeout_ms: int
    ) -> int:
        """proxy_http_call: record the call; the test answers it. Where the upstream is
        host[:port] (nginx), one that does not resolve fails after this callback."""
        allowed = self.profile.dispatch_callbacks
        if allowed is not None and self.callback not in allowed:
            raise self.trap(_DISPATCH_TRAP)
        self._check_cluster(upstream)
        names = {name for name, _ in headers}
        missing = [name for name in _CALLOUT_HEADERS if name not in names]
        if missing:
            raise HostStatusError(Status.BAD_ARGUMENT, f"the call lacks the headers {missing}")
        token = self._token()
        if self.profile.callout_host_port:
            upstream = upstream if ":" in upstream.rpartition("]")[2] else f"{upstream}:80"
            if not resolves(self.profile, upstream.rpartition(":")[0]):
                self.events.append(Event(EventKind.HTTP_CALL_FAILED, self.current_context,
                                         token))
                return token
        self.http_calls[token] = HttpCall(
            token, upstream, HeaderList(headers), bytes(body), HeaderList(trailers), timeout_ms,
            self.current_context, self.root_of(self.current_context),
        )
        return token

    def grpc_call(
        self, upstream: str, service: str, method: str, metadata: Pairs, message: bytes,
        timeout_ms: int,
    ) -> int:
        """proxy_grpc_call: record the call; the test answers it."""
        self._check_cluster(upstream)
        token = self._token()
        self.grpc_calls[token] = GrpcCall(
            token, upstream, service, method, HeaderList(metadata), bytes(message), timeout_ms,
            self.current_context, self.root_of(self.current_context),
        )
        return token

    def grpc_stream(self, upstream: str, service: str, method: str, metadata: Pairs) -> int:
        """proxy_grpc_stream: open a stream; the test sends its messages."""
        self._check_cluster(upstream)
        token = self._token()
        self.grpc_streams[token] = GrpcStream(
            token, upstream, service, method, HeaderList(metadata), self.current_context,
            self.root_of(self.current_context),
        )
        return token

    def _open_stream(self, token: int) -> GrpcStream:
        stream = self.grpc_streams.get(token)
        if stream is None or stream.cancelled:
            raise HostStatusError(Status.NOT_FOUND, f"no open gRPC stream {token}")
        return stream

    def grpc_send(self, token: int, message: bytes, end_stream: bool) -> None:
        """proxy_grpc_send."""
        stream = self._open_stream(token)
        if stream.end_stream_sent:
            raise HostStatusError(Status.BAD_ARGUMENT, f"gRPC stream {token} was half-closed")
        stream.sent.append(bytes(message))
        stream.end_stream_sent = end_stream

    def grpc_cancel(self, token: int) -> None:
        """proxy_grpc_cancel: no callback follows."""
        call = self.grpc_calls.pop(token, None)
        if call is not None:
            call.cancelled = True
            return
        self._open_stream(token).cancelled = True

    def grpc_close(self, token: int) -> None:
        """proxy_grpc_close: close a stream (or cancel a call) from the filter's side."""
        call = self.grpc_calls.pop(token, None)
        if call is not None:
            call.cancelled = True
            return
        self._open_stream(token).closed_by_filter = True

