"""Serve the slots API function over real HTTP on 127.0.0.1, as API Gateway's HTTP API would call it."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def http_api_event(method: str, raw_path: str, headers: dict[str, str], body: bytes = b"") -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event for one request."""
    parts = urlsplit(raw_path)
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        # API Gateway joins repeated parameters with commas.
        query[key] = f"{query[key]},{value}" if key in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {parts.path}",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("Host", "127.0.0.1"),
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {parts.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = body.decode(errors="replace")
    return event


# Statuses that never carry a body (RFC 9110): no Content-Length either, so clients do not wait for one.
_BODILESS = {204, 304}


def make_server(handler: Handler, context_factory: Callable[[], Any], port: int = 3000) -> ThreadingHTTPServer:
    """A ThreadingHTTPServer on 127.0.0.1:port that answers every GET (and HEAD) with ``handler``.

    Request headers reach the event as API Gateway passes them (lower-cased), so If-None-Match gives a 304.
    HEAD is answered as the GET it stands for, without the body; any other method reaches the handler too,
    which answers what the function answers for a route it does not have.
    """

    class RequestHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 — http.server's naming
            self._answer("GET", send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer("GET", send_body=False)

        def __getattr__(self, name: str) -> Any:
            # http.server looks up do_<METHOD>: every method other than GET/HEAD (POST, TRACE, QUERY...) lands here.
            if name.startswith("do_"):
                return lambda: self._answer(self.command, send_body=True)
            raise AttributeError(name)

        def _answer(self, method: str, *, send_body: bool) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body_in = self.rfile.read(length) if length > 0 else b""
            event = http_api_event(method, self.path, dict(self.headers.items()), body_in)
            result = handler(event, context_factory())
            body = result.get("body") or ""
            data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
            status = int(result.get("statusCode", 200))
            self.send_response(status)
            for key, value in (result.get("headers") or {}).items():
                self.send_header(key, value)
            for key, values in (result.get("multiValueHeaders") or {}).items():
                for value in values:
                    self.send_header(key, value)
            for cookie in result.get("cookies") or []:
                self.send_header("Set-Cookie", cookie)
            if status not in _BODILESS:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if send_body and status not in _BODILESS:
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — keep stderr for progress
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), RequestHandler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Run ``server`` in a daemon thread (tests); call ``server.shutdown()`` to stop."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
