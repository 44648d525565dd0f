"""A fault-injecting HTTP proxy in front of DynamoDB Local (real sockets on 127.0.0.1).

DynamoDB Local never throttles; this proxy answers chosen operations with DynamoDB's real throttling
error so tests can show what the service does when AWS throttles it. It also counts requests by
operation, which proves which routes Query and that nothing Scans; holds one write request until the test
lets it go (to interleave two writers at any step); and drops the connection of every write from the k-th
on (a writer killed mid-batch).
"""

from __future__ import annotations

import collections
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WRITES = frozenset({"BatchWriteItem", "TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"})

THROTTLED = {
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded.",
}


class DynamoDBProxy:
    """Forwards every request to DynamoDB Local at ``upstream_port``; scriptable throttling; counts ops."""

    def __init__(self, port: int, upstream_port: int) -> None:
        self.port, self.upstream_port = port, upstream_port
        self.operations: collections.Counter[str] = collections.Counter()
        self._throttle: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._hold: Hold | None = None
        self._drop_after: int | None = None
        self._writes = 0

    def hold_write(self, skip: int = 0) -> Hold:
        """Hold the write request after the next ``skip`` ones until ``Hold.release()`` (then forward it)."""
        hold = Hold(skip)
        with self._lock:
            self._hold = hold
        return hold

    def drop_writes(self, after: int = 0) -> None:
        """Let ``after`` more write requests through, then drop the connection of every later one (until heal)."""
        with self._lock:
            self._writes, self._drop_after = 0, after

    def heal(self) -> None:
        """Stop dropping and holding."""
        with self._lock:
            self._drop_after, self._hold = None, None

    def _on_write(self) -> tuple[Hold | None, bool]:
        """What to do with one write request: the hold to wait on (if it is this one), and whether to drop it."""
        with self._lock:
            hold = self._hold
            if hold is not None:
                if hold.skip:
                    hold.skip -= 1
                    hold = None
                else:
                    self._hold = None
            self._writes += 1
            drop = self._drop_after is not None and self._writes > self._drop_after
            return hold, drop

    def throttle(self, operation: str, times: int) -> None:
        """Answer the next ``times`` requests of ``operation`` (e.g. "BatchWriteItem") with a throttling error."""
        with self._lock:
            self._throttle[operation] = self._throttle.get(operation, 0) + times

    def reset_counts(self) -> None:
        with self._lock:
            self.operations.clear()

    def _take_throttle(self, operation: str) -> bool:
        with self._lock:
            left = self._throttle.get(operation, 0)
            if left:
                self._throttle[operation] = left - 1
            return bool(left)

    def start(self) -> DynamoDBProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 — http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
                with proxy._lock:
                    proxy.operations[operation] += 1
                if proxy._take_throttle(operation):
                    self._answer(400, json.dumps(THROTTLED).encode(), {"Content-Type": "application/x-amz-json-1.0"})
                    return
                if operation in WRITES:
                    hold, drop = proxy._on_write()
                    if hold is not None:
                        hold.reached.set()
                        hold.released.wait(60)
                    if drop:
                        # Like a process killed mid-request: the connection closes with no answer at all.
                        self.close_connection = True
                        return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    upstream.request("POST", self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    self._answer(response.status, data, dict(response.getheaders()))
                finally:
                    upstream.close()

            def _answer(self, status: int, data: bytes, headers: dict[str, Any]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Hold:
    """One held write request: ``reached`` is set when it arrives; it goes on after ``release()``."""

    def __init__(self, skip: int) -> None:
        self.skip = skip
        self.reached = threading.Event()
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()
