"""A minimal HTTP client for the end-to-end tests: one GET, or one request with a body
(whole or chunked), any status."""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message


@dataclass
class Response:
    """What a client saw: status, headers (case-insensitive) and body."""

    status: int
    headers: Message
    body: bytes


def get(url: str, headers: dict[str, str] | None = None) -> Response:
    """Send one GET and return the response, whatever its status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def send(port: int, path: str, body: bytes | list[bytes] = b"", method: str = "POST",
         headers: dict[str, str] | None = None, pause: float = 0.2) -> Response:
    """Send one request to 127.0.0.1:``port`` over a raw socket: ``bytes`` with a
    content-length, a list as chunked encoding, one chunk every ``pause`` seconds (so the
    proxy sees them apart). The answer is read while sending: the proxy may answer early."""
    lines = [f"{method} {path} HTTP/1.1", "host: example.com", "connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if isinstance(body, bytes):
        lines.append(f"content-length: {len(body)}")
        pieces = [body]
    else:
        lines.append("transfer-encoding: chunked")
        pieces = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in body] + [b"0\r\n\r\n"]
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)

    def sender() -> None:
        try:
            connection.sendall("\r\n".join(lines).encode() + b"\r\n\r\n")
            for piece in pieces:
                time.sleep(pause if len(pieces) > 1 else 0)
                connection.sendall(piece)
        except OSError:
            pass  # the proxy answered early and closed: the answer is what tests check

    thread = threading.Thread(target=sender)
    thread.start()
    with connection:
        response = http.client.HTTPResponse(connection)
        response.begin()
        answer = Response(response.status, response.headers, response.read())
    thread.join()
    return answer
