"""Real servers on 127.0.0.1 for the end-to-end tests: an HTTP backend, a TCP echo, gRPC.

Each runs in background threads of the test process and listens on a port the kernel picks.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc

SECRET = "Bearer secret"
"""The only credentials the backend's /check accepts; it answers with the user ``alice``."""


class _Backend(BaseHTTPRequestHandler):
    """/check authorizes, /profile/<user> names a plan, anything else echoes request headers."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if self.path == "/check":
            allowed = self.headers.get("authorization") == SECRET
            self._answer(200 if allowed else 401, b"alice" if allowed else b"who are you?")
        elif self.path.startswith("/profile/"):
            self._answer(200, b"gold" if self.path == "/profile/alice" else b"free")
        else:
            self._answer(200, json.dumps(dict(self.headers.items())).encode())

    def do_POST(self) -> None:
        self.do_GET()

    def _answer(self, status: int, body: bytes) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class BackendServer(ThreadingHTTPServer):
    """The HTTP backend's server; ``paths`` are the request paths it was sent, in order."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Backend)
        self.paths: list[str] = []


def http_backend() -> BackendServer:
    """Start the HTTP backend; the caller shuts it down."""
    server = BackendServer()
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class TcpEcho:
    """A TCP server that sends back whatever it receives, until the client closes."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(connection,), daemon=True).start()

    @staticmethod
    def _echo(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)

    def close(self) -> None:
        """Stop accepting connections."""
        self._listener.close()


def _check(request: bytes, context: grpc.ServicerContext) -> bytes:
    if request != b"secret":
        context.abort(grpc.StatusCode.PERMISSION_DENIED, f"unknown token {request.decode()!r}")
    return b"alice"


def _chat(requests: Iterable[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
    context.send_initial_metadata((("x-echo-server", "python-grpcio"),))
    count = 0
    for message in requests:
        count += 1
        yield b"echo:" + message
    context.set_trailing_metadata((("x-count", str(count)),))


def grpc_server() -> tuple[grpc.Server, int]:
    """Start a gRPC server with ``auth.Auth/Check`` (unary) and ``echo.Echo/Chat`` (bidi).

    Messages are raw bytes (no protobuf), which gRPC carries unchanged.
    """
    from concurrent.futures import ThreadPoolExecutor

    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler(
            "auth.Auth", {"Check": grpc.unary_unary_rpc_method_handler(_check)}
        ),
        grpc.method_handlers_generic_handler(
            "echo.Echo", {"Chat": grpc.stream_stream_rpc_method_handler(_chat)}
        ),
    ))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


class _BodyEcho(BaseHTTPRequestHandler):
    """Answers with the request body it received (``content-length`` or chunked), its
    content type, and how it was framed: ``x-got-content-length`` (or ``none``) and
    ``x-got-transfer-encoding``. ``/digest`` answers the body's length and SHA-256 instead."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self._read_body()
        answer = body
        if self.path == "/digest":
            answer = json.dumps({"length": len(body),
                                 "sha256": hashlib.sha256(body).hexdigest()}).encode()
        self.send_response(200)
        self.send_header("content-type", self.headers.get("content-type") or "text/plain")
        self.send_header("content-length", str(len(answer)))
        self.send_header("x-got-content-length", self.headers.get("content-length") or "none")
        self.send_header("x-got-transfer-encoding",
                         self.headers.get("transfer-encoding") or "none")
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:
        self.do_POST()

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:
            pass  # Envoy reset the upstream request: the filter denied it mid-body

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or ""):
            body = bytearray()
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b""):
                pass  # trailers
            return bytes(body)
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


def body_echo_backend() -> ThreadingHTTPServer:
    """Start the body echo backend; the caller shuts it down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BodyEcho)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
