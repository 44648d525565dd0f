"""The fake iRacing's links: the expiring, unauthenticated S3-style URLs a /data answer points to, and chunk files."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from iracing_sync.instants import iso_z
from iracing_sync_local.fake_iracing.transport import JSON, XML, Response, json_body


@dataclass
class _Link:
    body: bytes
    expires_at: float
    revoked: bool = False


class Links:
    """The links handed out so far, and which endpoints answer in chunk files (``chunk_info``)."""

    def __init__(self, clock: Callable[[], float], expiry: float) -> None:
        self._clock = clock
        self._expiry = expiry
        self._lock = threading.Lock()
        self._links: dict[str, _Link] = {}  # link id (or chunk "<folder>/<file>") -> body
        self._chunked: dict[str, int] = {}  # endpoint -> rows per chunk file

    def chunk(self, endpoint: str, chunk_size: int) -> None:
        """Serve ``endpoint``'s array body in chunk files of ``chunk_size`` rows from now on."""
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        with self._lock:
            self._chunked[endpoint.strip("/")] = chunk_size

    def offer(self, endpoint: str, body: bytes, base_url: str) -> bytes:
        """The ``{"link", "expires"}`` answer that leads to ``body`` (or to its chunk_info, if chunked)."""
        link_id = secrets.token_hex(16)
        expires_at = self._clock() + self._expiry
        with self._lock:
            chunk_size = self._chunked.get(endpoint.strip("/"))
        if chunk_size is not None:
            body = self._chunk_info_body(body, chunk_size, expires_at, base_url)
        with self._lock:
            self._links[link_id] = _Link(body, expires_at)
        return json_body({"link": f"{base_url}/links/{link_id}", "expires": iso_z(expires_at, millis=True)})

    def _chunk_info_body(self, body: bytes, chunk_size: int, expires_at: float, base_url: str) -> bytes:
        """The chunk_info wrapper of an array body; its chunk files are registered like links."""
        rows = json.loads(body)
        if not isinstance(rows, list):
            raise ValueError("only an array body can be served in chunks")
        folder = secrets.token_hex(16)
        names = []
        with self._lock:
            for start in range(0, len(rows), chunk_size):
                part = json_body(rows[start : start + chunk_size])
                file = hashlib.sha256(folder.encode() + part).hexdigest() + ".json"
                self._links[f"{folder}/{file}"] = _Link(part, expires_at)
                # Real chunk names carry a pre-signed query; a client must append them verbatim.
                names.append(f"{file}?X-Amz-Expires=3600&X-Amz-Signature={secrets.token_hex(32)}")
        info = {
            "chunk_size": chunk_size,
            "num_chunks": len(names),
            "rows": len(rows),
            "base_download_url": f"{base_url}/chunks/{folder}/",
            "chunk_file_names": names,
        }
        return json_body({"success": True, "chunk_info": info, "last_updated": iso_z(self._clock(), millis=True)})

    def answer(self, link_id: str) -> Response:
        """A link's body; links stand for S3 pre-signed URLs: no auth needed, no rate limit, 403 once expired."""
        with self._lock:
            link = self._links.get(link_id)
        if link is None:
            return Response(403, self.denied("Access Denied"), XML)
        if link.revoked or self._clock() >= link.expires_at:
            return Response(403, self.denied("Request has expired", link.expires_at), XML)
        return Response(200, link.body, JSON)

    def expire(self) -> None:
        """Make every link handed out so far answer 403 AccessDenied."""
        with self._lock:
            for link in self._links.values():
                link.revoked = True

    def denied(self, message: str, expired_at: float | None = None) -> bytes:
        """S3's AccessDenied error document."""
        extra = ""
        if expired_at is not None:
            expires, now = iso_z(expired_at, millis=True), iso_z(self._clock(), millis=True)
            extra = f"<Expires>{expires}</Expires><ServerTime>{now}</ServerTime>"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>AccessDenied</Code><Message>{message}</Message>{extra}"
            f"<RequestId>{secrets.token_hex(8).upper()}</RequestId><HostId>fake-iracing</HostId></Error>"
        ).encode()
