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


def make_server(handler: Handler, context_factory: Callable[[], Any], port: int = 3000) -> ThreadingHTTPServer:
    """A ThreadingHTTPServer on 127.0.0.1:port that answers every GET with ``handler``."""

    class RequestHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 — http.server's naming
            event = http_api_event("GET", self.path, dict(self.headers.items()))
            result = handler(event, context_factory())
            body = result.get("body") or ""
            data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
            self.send_response(int(result.get("statusCode", 200)))
            for key, value in (result.get("headers") or {}).items():
                self.send_header(key, value)
            for key, values in (result.get("multiValueHeaders") or {}).items():
                for value in values:
                    self.send_header(key, value)
            for cookie in result.get("cookies") or []:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
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
