"""The local HTTP server: the standard library's threading server in front of ``Gateway``.

It only moves bytes (refusing a body over API Gateway's 10 MB limit before reading it), one
thread per connection, like concurrent Lambda environments; keep-alive as HTTP/1.1 allows.
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from welldev.gateway import Gateway
from welldev.payload import MAX_REQUEST_BODY_BYTES, HttpRequest, HttpResponse, gateway_response


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog (socketserver's: 5): while a cold function imports, the kernel resets
    # the connections beyond it. API Gateway queues far more; so does this.
    request_queue_size = 1024

    def __init__(self, gateway: Gateway, host: str, port: int, log: TextIO | None = None) -> None:
        self.gateway = gateway
        self.log = log or sys.stderr
        try:
            super().__init__((host, port), _RequestHandler)
        except OSError as error:
            # "[Errno 98] Address already in use" alone does not say which address.
            raise OSError(
                error.errno,
                f"cannot listen on {host}:{port}: {error.strerror} "
                f"(another server? stop it, or choose another port: PORT={port + 1} make run)",
            ) from error

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up before its answer is written is a line, not a traceback.
        error = sys.exception()
        if isinstance(error, ConnectionError):
            name = type(error).__name__
            said = f"{client_address[0]} closed the connection before the answer ({name})"
            print(said, file=self.log, flush=True)
        else:
            super().handle_error(request, client_address)

    def start_in_thread(self) -> threading.Thread:
        """Serve in a background thread (tests, embedding); stop with ``shutdown()``."""
        thread = threading.Thread(target=self.serve_forever, name="wellapi-local", daemon=True)
        thread.start()
        return thread


class _BodyTooLarge(Exception):
    """A body over API Gateway's limit: answered 413 before it is read."""


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"
    server_version = "wellapi-local"
    # A kept-alive client's next request must not wait on a delayed ACK (~40 ms on Linux).
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self.close_connection = True  # the rest of the body is never read
            response = gateway_response(413, "Request Entity Too Large")
        except ValueError:  # a Content-Length or chunk size that is not a number
            self.close_connection = True
            response = gateway_response(400, "Bad Request")
        else:
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                server_port=self.server.server_address[1],
                protocol=self.request_version,
            )
            response = self.server.gateway.handle(request)
        self._write(response)
        took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
        self.log_message(
            '"%s %s" %s %s %s', self.command, self.path, response.status, response.served_by, took
        )

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the gateway, which answers as API Gateway does (404 where no
        # route has it), instead of the standard library's 501 for a method it does not know.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BODY_BYTES:
            raise _BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
            if len(body) + size > MAX_REQUEST_BODY_BYTES:
                raise _BodyTooLarge
            body += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return bytes(body)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        # Every request, and the standard library's own messages (bad request lines...).
        print(f"{self.client_address[0]} {format % args}", file=self.server.log, flush=True)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _serve logs every request itself
