"""Envoy's rendering of ``send_local_response``: the headers and body the client gets."""

from __future__ import annotations

from .records import HeaderList, LocalResponse, Pairs

_GRPC_CONTENT_TYPE = "application/grpc"
# Envoy's gRPC status for a local reply's HTTP status, when the filter gave no valid one.
_GRPC_STATUS_OF_HTTP = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}
_GRPC_UNKNOWN = 2
_GRPC_MAX_STATUS = 16


def is_grpc_request(headers: Pairs | None) -> bool:
    """Whether Envoy answers the request as gRPC: it has a ``:path`` and a content-type of
    ``application/grpc`` or ``application/grpc+...``."""
    request = HeaderList(headers or [])
    content_type = request.get("content-type") or ""
    return request.get(":path") is not None and (
        content_type == _GRPC_CONTENT_TYPE or content_type.startswith(_GRPC_CONTENT_TYPE + "+"))


def _percent_encoded(data: bytes) -> str:
    """Envoy's grpc-message encoding: '%' and bytes outside ' '..'}' become %XX."""
    return "".join(chr(byte) if 0x20 <= byte < 0x7E and byte != 0x25 else f"%{byte:02X}"
                   for byte in data)


def _set_header(headers: Pairs, key: str, value: str) -> None:
    """Set ``key`` to one value: the first occurrence replaced in place, or appended."""
    positions = [index for index, (name, _) in enumerate(headers) if name == key]
    if not positions:
        headers.append((key, value))
        return
    headers[positions[0]] = (key, value)
    for index in reversed(positions[1:]):
        del headers[index]


def local_reply(reply: LocalResponse, request_headers: Pairs | None,
                body_suffix: bytes = b"") -> tuple[Pairs, bytes]:
    """The response Envoy sends for ``send_local_response``: its headers and body (a non-empty
    body gets ``body_suffix``: nginx appends a newline).

    A gRPC request gets a trailers-only 200 whose ``grpc-status`` is the filter's (or the one
    Envoy maps from the HTTP status) and whose ``grpc-message`` is the body, percent-encoded.
    """
    headers: Pairs = [(":status", str(reply.status)), *reply.headers]
    if is_grpc_request(request_headers):
        _set_header(headers, ":status", "200")
        _set_header(headers, "content-type", _GRPC_CONTENT_TYPE)
        if not any(name == "grpc-status" for name, _ in headers):
            status = reply.grpc_status if 0 <= reply.grpc_status <= _GRPC_MAX_STATUS else (
                _GRPC_STATUS_OF_HTTP.get(reply.status, _GRPC_UNKNOWN))
            headers.append(("grpc-status", str(status)))
        if reply.body:
            _set_header(headers, "grpc-message", _percent_encoded(reply.body))
        headers[:] = [pair for pair in headers if pair[0] != "content-length"]
        return headers, b""
    if not reply.body:
        headers[:] = [pair for pair in headers if pair[0] not in ("content-length", "content-type")]
        return headers, b""
    body = reply.body + body_suffix
    _set_header(headers, "content-length", str(len(body)))
    if not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", "text/plain"))
    return headers, body
