"""A threaded HTTP server for local engines that speak HTTP/1.1 keep-alive, stopped for real by server_close().

``ThreadingHTTPServer.shutdown()`` and ``server_close()`` stop accepting, but each handler thread goes on serving its
kept-alive connection: a client's pool reuses it later and reaches a server that was stopped (a fake iRacing meant to
be down, a proxy whose upstream is gone). This server also shuts the connections it still holds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import ThreadingHTTPServer
from typing import Any


class KeepAliveServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose server_close() also closes every connection a handler still serves."""

    daemon_threads = True  # a client that keeps a connection open must not block stop()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        with self._open_lock:
            still_open, self._open = self._open, set()
        for connection in still_open:
            with contextlib.suppress(OSError):  # the client closed it first
                connection.shutdown(socket.SHUT_RDWR)
        super().server_close()
