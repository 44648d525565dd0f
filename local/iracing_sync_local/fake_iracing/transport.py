"""The fake iRacing's HTTP transport: a threaded keep-alive server whose handler hands each request to a dispatcher."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any, cast

from iracing_sync_local.keepalive import KeepAliveServer

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
XML = "application/xml"

# (method, raw path with query, headers, body) -> the response.
Dispatch = Callable[[str, str, Message, bytes], "Response"]


def json_body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False  # send half the body
    short_read: bool = False  # ...declaring the full length, then close the connection


class HttpError(Exception):
    """An answer other than 200, raised from deep in the routing."""

    def __init__(self, status: int, body: bytes, content_type: str = JSON) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type


class _Server(KeepAliveServer):
    dispatch: Dispatch

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out and hang up are expected here; stay quiet about them."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API (requests reuses connections)
    # Headers and body go out as separate writes; with Nagle on, the body waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
        """Silence the per-request stderr log; the request log is on FakeIracing.requests."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""  # always drain it so keep-alive stays in sync
        self._write(cast(_Server, self.server).dispatch(method, self.path, self.headers, body))

    def _write(self, resp: Response) -> None:
        body = resp.body
        declared = len(body)
        if resp.truncate:
            body = body[: max(1, len(body) // 2)]
            if not resp.short_read:
                declared = len(body)
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(declared))
            for name, value in resp.headers.items():
                self.send_header(name, value)
            if resp.short_read:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Transport:
    """Serves ``dispatch`` on 127.0.0.1 in a daemon thread between start() and stop()."""

    def __init__(self, dispatch: Dispatch, port: int) -> None:
        self._dispatch = dispatch
        self._port = port
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve (idempotent)."""
        with self._lock:
            if self._server is None:
                server = _Server(("127.0.0.1", self._port), _Handler)
                server.dispatch = self._dispatch
                self._server = server
                self._thread = threading.Thread(
                    target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-iracing", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeIracing is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"
