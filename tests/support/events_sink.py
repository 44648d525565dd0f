"""A local EventBridge endpoint that keeps what it is sent (real HTTP on 127.0.0.1): the tests' event sink.

boto3 sends EventBridge calls here when AWS_ENDPOINT_URL_EVENTBRIDGE points at it, from in-process handlers, from
the local Step Functions runner (moto lets 127.0.0.1 through) and from a function run in its own interpreter.
It answers PutEvents as EventBridge does (an EventId per entry) and refuses every other action.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class EventsSink:
    """PutEvents entries received, in order (``entries``); ``refuse(n)`` fails the next n entries."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self._refuse = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()

    def refuse(self, entries: int) -> None:
        with self._lock:
            self._refuse = entries

    def details(self, detail_type: str = "Schedule Changed") -> list[dict[str, Any]]:
        """The decoded Detail of every entry of ``detail_type``."""
        return [json.loads(e["Detail"]) for e in list(self.entries) if e.get("DetailType") == detail_type]

    def start(self) -> EventsSink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not (self.headers.get("X-Amz-Target") or "").endswith(".PutEvents"):
                    self._answer(400, {"__type": "UnknownOperationException"})
                    return
                results = []
                with sink._lock:
                    for entry in body.get("Entries", []):
                        if sink._refuse:
                            sink._refuse -= 1
                            results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "refused by the test"})
                        else:
                            sink.entries.append(entry)
                            results.append({"EventId": uuid.uuid4().hex})
                failed = sum("ErrorCode" in r for r in results)
                self._answer(200, {"FailedEntryCount": failed, "Entries": results})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def serving_sink() -> Iterator[EventsSink]:
    """A sink every EventBridge call of this process (and of child processes given its environment) goes to."""
    sink = EventsSink().start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", sink.endpoint)
        yield sink
    sink.stop()
