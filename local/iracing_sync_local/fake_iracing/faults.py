"""The fake iRacing's scripted faults (statuses, maintenance, slow and truncated bodies) and its rate limit."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast

from iracing_sync_local.fake_iracing.samples import sample_content
from iracing_sync_local.fake_iracing.transport import JSON, TEXT, XML, Response, json_body

MAINTENANCE_HTML = b"""<!DOCTYPE html>
<html><head><title>iRacing.com - Site Maintenance</title></head>
<body><h1>iRacing.com is currently down for maintenance</h1>
<p>We are performing scheduled maintenance. Please check back later.</p></body></html>
"""


@dataclass
class Fault:
    path_prefix: str
    status: int | None  # None: answer normally (slow / truncated responses)
    times: int
    body: bytes | None = None
    content_type: str | None = None
    delay: float = 0.0
    truncate: bool = False
    short_read: bool = False


class Faults:
    """Faults scripted for the next requests under a path, and for one season's schedule."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._season_faults: dict[int, tuple[int, int | None]] = {}  # season_id -> (status, times left | None)

    def add(self, fault: Fault) -> None:
        if fault.times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(fault)

    def fail_season(self, season_id: int, status: int, times: int | None) -> None:
        with self._lock:
            self._season_faults[season_id] = (status, times)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._season_faults.clear()

    def take(self, path: str) -> Fault | None:
        """The first fault scripted for ``path``, counted as used once."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def take_season(self, season_id: int) -> int | None:
        """The status scripted for this season's schedule, counted as used once (None: answer normally)."""
        with self._lock:
            entry = self._season_faults.get(season_id)
            if entry is None:
                return None
            status, times = entry
            if times is not None:
                if times <= 1:
                    del self._season_faults[season_id]
                else:
                    self._season_faults[season_id] = (status, times - 1)
            return status


def fault_response(fault: Fault, path: str, denied: Callable[[str], bytes]) -> Response:
    """The answer of a fault with a status: its own body, or the one the real service sends with that status."""
    status = cast(int, fault.status)
    if fault.body is not None:
        return Response(status, fault.body, fault.content_type or JSON)
    body, ctype = default_body(status, path, denied)
    return Response(status, body, fault.content_type or ctype)


def default_body(status: int, path: str, denied: Callable[[str], bytes]) -> tuple[bytes, str]:
    """The body the real service sends with this status (real samples where we have them)."""
    if status == 429:
        return b"Rate limit exceeded", TEXT
    if status == 503:
        return json_body(sample_content("error_503_site_maintenance.json")), JSON
    if status == 401:
        return json_body(sample_content("error_401_unauthorized.json")), JSON
    if status == 400:
        return json_body(sample_content("error_400_bad_request.json")), JSON
    if status == 403 and path.startswith(("/links/", "/chunks/")):
        return denied("Access Denied"), XML
    return json_body({"error": HTTPStatus(status).phrase}), JSON


class RateLimit:
    """iRacing's per-account fixed window of /data requests, reported in ``x-ratelimit-*`` headers."""

    def __init__(self, clock: Callable[[], float], limit: int, window: float) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # owner -> (window start, requests in window)

    def consume(self, owner: str) -> tuple[bool, dict[str, str]]:
        """Count one request in the owner's window; return (allowed, x-ratelimit-* headers)."""
        now = self._clock()
        with self._lock:
            start, count = self._windows.get(owner, (now, 0))
            if now >= start + self._window:
                start, count = now, 0
            allowed = count < self._limit
            if allowed:
                count += 1
            self._windows[owner] = (start, count)
        headers = {
            "x-ratelimit-limit": str(self._limit),
            "x-ratelimit-remaining": str(max(0, self._limit - count)),
            "x-ratelimit-reset": str(math.ceil(start + self._window)),
        }
        return allowed, headers
